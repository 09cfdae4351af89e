#!/usr/bin/env bash
# backup.sh: one backup of the app's database, `pg_dump -Fc`, into /var/backups/restpie, then
# retention. Run nightly by systemd/restpie-backup.timer (restpie-backup.service); by hand:
#   systemctl start restpie-backup      # then: journalctl -u restpie-backup
# Restore with deploy/restore.sh.
#
# It connects as the app's database user (the owner of every table the migrations create) with
# the host, port, database, user and password of the app's config, so it needs neither the
# postgres account nor root's privileges, and it works with a database on another machine. The
# APP_DB_* environment variables override the file, as they do for the app.
#
# Environment: APP_CONFIG (default /etc/restpie/server-config.json), BACKUP_DIR (default
# /var/backups/restpie, which must exist), BACKUP_KEEP_DAYS (default 14): dumps older than that
# are deleted, but the newest 3 are always kept, however old.
# A dump appears under its final name restpie-YYYYmmdd-HHMMSS.dump only once it is complete and
# readable by pg_restore; it is 0640, so readable by root (and the directory's group) only.
set -euo pipefail

CONF=${APP_CONFIG:-/etc/restpie/server-config.json}
DIR=${BACKUP_DIR:-/var/backups/restpie}
KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
KEEP_NEWEST=3

die() {
    printf 'backup failed: %s\n' "$*" >&2
    exit 1
}

# json_value KEY: the value of a top-level "KEY": "text" or "KEY": 123 line of the flat config
# (one key a line, as conf/server-config.json and provision.sh write it). No JSON escapes.
json_value() {
    sed -n -e "s/^ *\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" -e "s/^ *\"$1\": \([0-9][0-9]*\),\{0,1\}\$/\1/p" \
        "$CONF" | head -n 1
}

[[ $KEEP_DAYS =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a number of days, not '$KEEP_DAYS'"
[ -r "$CONF" ] || die "cannot read the config $CONF"
if [ ! -d "$DIR" ] || [ ! -w "$DIR" ]; then die "no writable directory $DIR"; fi

host=${APP_DB_HOST:-$(json_value db_host)}
port=${APP_DB_PORT:-$(json_value db_port)}
name=${APP_DB_NAME:-$(json_value db_name)}
user=${APP_DB_USER:-$(json_value db_user)}
password=${APP_DB_PASSWORD:-$(json_value db_password)}
[[ $host =~ ^[A-Za-z0-9_.:/,-]+$ ]] || die "bad or missing db_host in $CONF: '$host'"
[[ $port =~ ^[0-9]+$ ]] || die "bad or missing db_port in $CONF: '$port'"
[[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "bad or missing db_name in $CONF: '$name'"
[[ $user =~ ^[A-Za-z0-9_]+$ ]] || die "bad or missing db_user in $CONF: '$user'"
[[ $password != *\\* ]] || die "db_password in $CONF has a JSON escape, which this script cannot read"

umask 027
stamp=$(date +%Y%m%d-%H%M%S)
final=$DIR/restpie-$stamp.dump
# Hidden, unique (two runs in one second never share it), never matched by restpie-*.dump.
tmp=$(mktemp "$DIR/.restpie-$stamp.XXXXXX.partial") || die "cannot create a file in $DIR"
trap 'rm -f "$tmp"' EXIT
chmod 0640 "$tmp"  # mktemp makes it 0600
started=$SECONDS

# The password in the environment of pg_dump only: never on a command line (ps shows those).
# connect_timeout: a database that does not answer fails the run instead of hanging it.
PGPASSWORD=$password PGCONNECT_TIMEOUT=10 \
    pg_dump -Fc --no-password -h "$host" -p "$port" -U "$user" -f "$tmp" "$name" ||
    die "pg_dump of database $name at $host:$port as $user exited with $?"
pg_restore --list "$tmp" >/dev/null || die "pg_restore cannot read the new dump $tmp"
sync "$tmp"
mv -f -T "$tmp" "$final"
trap - EXIT
size=$(stat -c %s "$final")
echo "backup: database $name ($host:$port) -> $final, $size bytes, $((SECONDS - started)) s"

# Retention: the names sort by time, newest first; the newest KEEP_NEWEST are kept whatever
# their age, older ones go once their mtime is more than KEEP_DAYS days ago.
deleted=0 kept=0 n=0
while IFS= read -r f; do
    n=$((n + 1))
    if [ "$n" -gt "$KEEP_NEWEST" ] && [ -n "$(find "$f" -maxdepth 0 -mmin +$((KEEP_DAYS * 1440)))" ]; then
        rm -f -- "$f" && deleted=$((deleted + 1))
    else
        kept=$((kept + 1))
    fi
done < <(find "$DIR" -maxdepth 1 -type f -name 'restpie-*.dump' | sort -r)
# Partial files of runs that were killed (a crash, a reboot), once a day old.
find "$DIR" -maxdepth 1 -type f -name '.restpie-*.partial' -mmin +1440 -delete
echo "backup: $kept dump(s) kept in $DIR, $deleted deleted (older than $KEEP_DAYS days)"
