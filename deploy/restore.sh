#!/usr/bin/env bash
# restore.sh: restores a dump of deploy/backup.sh into a database; as root, on the database server.
#
#   deploy/restore.sh DUMP                  into a new database restpie_restore_YYYYmmdd_HHMMSS
#   deploy/restore.sh DUMP NAME             into a new database NAME (refused if NAME exists)
#   deploy/restore.sh --force DUMP NAME     replace NAME even if it exists, the live database
#                                           included: the dump goes into a new database, which
#                                           then takes NAME; the old one is kept, renamed
#                                           NAME_before_YYYYmmdd_HHMMSS. Its sessions are ended:
#                                           stop the app first (systemctl stop app-server
#                                           app-spooler app-cron), start it after
#
# e.g. deploy/restore.sh /var/backups/restpie/restpie-20250101-031500.dump restpie_check
# Everything restored belongs to the app's database user (pg_restore --no-owner --role), so the
# app can use a restored database as it is: point db_name in the config at it, or restore over
# the live one with --force. It prints the row count of every table at the end.
# It works as the postgres superuser over the local socket, on the port of the app's config
# (db_port; APP_CONFIG, default /etc/restpie/server-config.json; APP_DB_PORT and APP_DB_USER
# override it). PGHOST reaches another socket directory or host.
set -euo pipefail

CONF=${APP_CONFIG:-/etc/restpie/server-config.json}

die() {
    printf 'restore failed: %s\n' "$*" >&2
    exit 1
}
usage() {
    sed -n '4,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# As in backup.sh: a "KEY": "text" or "KEY": 123 line of the flat config.
json_value() {
    sed -n -e "s/^ *\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" -e "s/^ *\"$1\": \([0-9][0-9]*\),\{0,1\}\$/\1/p" \
        "$CONF" | head -n 1
}

force=
[ "${1:-}" = --force ] && { force=1; shift; }
if [ $# -lt 1 ] || [ $# -gt 2 ] || [[ $1 == -* ]]; then usage; fi
dump=$1
target=${2:-restpie_restore_$(date +%Y%m%d_%H%M%S)}
[ "$(id -u)" -eq 0 ] || die "run me as root (I work as the postgres user)"
[ -r "$CONF" ] || die "cannot read the config $CONF"
[ -f "$dump" ] || die "no dump file $dump"
port=${APP_DB_PORT:-$(json_value db_port)}
live=${APP_DB_NAME:-$(json_value db_name)}
role=${APP_DB_USER:-$(json_value db_user)}
[[ $port =~ ^[0-9]+$ ]] || die "bad or missing db_port in $CONF: '$port'"
[[ $role =~ ^[A-Za-z0-9_]+$ ]] || die "bad or missing db_user in $CONF: '$role'"
[[ $target =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
    die "database name '$target': letters, digits and _ only, not starting with a digit"

# The postgres user may not read root's files, nor enter the current directory: the dump goes in
# on stdin, and every command runs from /.
as_pg() { (cd / && runuser -u postgres -- "$@"); }
psql_pg() { as_pg psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }

pg_restore --list "$dump" >/dev/null 2>&1 || die "$dump is not a dump pg_restore can read (pg_dump -Fc)"
[ "$(psql_pg -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" = 1 ] ||
    die "no database role $role (db_user) on port $port"

db_exists() { [ "$(psql_pg -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }
stamp=$(date +%Y%m%d_%H%M%S)
into=$target
if db_exists "$target"; then
    if [ -z "$force" ]; then
        [ "$target" = "$live" ] && die "$target is the live database (db_name in $CONF): restore into a new database, or add --force to replace it"
        die "database $target exists: choose a new name, or add --force to replace it"
    fi
    into=${target:0:30}_restoring_$stamp
fi
db_exists "$into" && die "database $into exists"
echo "restore: creating database $into, owner $role"
psql_pg -d postgres -c "CREATE DATABASE \"$into\" OWNER \"$role\""

started=$SECONDS
# --single-transaction: all or nothing; a failed restore leaves an empty database, dropped here.
if ! as_pg pg_restore -p "$port" -d "$into" --no-owner --role="$role" --single-transaction \
    --exit-on-error <"$dump"; then
    psql_pg -d postgres -c "DROP DATABASE \"$into\"" || true
    die "pg_restore into $into failed (database $target untouched)"
fi
if [ "$into" != "$target" ]; then
    old=${target:0:30}_before_$stamp
    echo "restore: ending the sessions on $target, renaming it $old, and $into $target"
    # No new sessions, end the open ones, then the two renames (each refused while anyone is
    # connected to that database).
    psql_pg -d postgres -c "ALTER DATABASE \"$target\" ALLOW_CONNECTIONS false"
    psql_pg -d postgres -tAc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$target' AND pid <> pg_backend_pid()" >/dev/null
    for _ in $(seq 50); do
        [ "$(psql_pg -d postgres -tAc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$target'")" = 0 ] && break
        sleep 0.1
    done
    if ! psql_pg -d postgres -c "ALTER DATABASE \"$target\" RENAME TO \"$old\""; then
        psql_pg -d postgres -c "ALTER DATABASE \"$target\" ALLOW_CONNECTIONS true"
        die "could not rename $target (still in use?): it is unchanged; the restored copy is database $into"
    fi
    psql_pg -d postgres -c "ALTER DATABASE \"$old\" ALLOW_CONNECTIONS true"
    psql_pg -d postgres -c "ALTER DATABASE \"$into\" RENAME TO \"$target\""
    echo "restore: the old $target is kept as $old; drop it once done: runuser -u postgres -- dropdb -p $port $old"
fi
echo "restore: $dump -> database $target in $((SECONDS - started)) s; rows per table:"
psql_pg -d "$target" -tA <<<"SELECT format('SELECT %L, count(*) FROM %I.%I', schemaname || '.' || tablename,
    schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 1 \gexec" |
    sed 's/^/  /; s/|/: /'
if [ "$target" = "$live" ]; then
    echo "restore: done: the live database is the dump's now; start the app (systemctl start app-server app-spooler app-cron)"
else
    echo "restore: done. To serve it, set \"db_name\": \"$target\" in $CONF and restart the app; to drop it: runuser -u postgres -- dropdb -p $port $target"
fi
