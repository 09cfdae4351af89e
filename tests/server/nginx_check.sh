#!/usr/bin/env bash
# nginx_check.sh: checks the production nginx files (nginx/http.conf.in, app.conf,
# json-errors.conf, site.conf.in, site-tls.conf.in) without touching /etc/nginx.
#
#   tests/server/nginx_check.sh                 render both sites as provision.sh does into a temp
#                                               dir (with a main nginx.conf like Debian's) and
#                                               `nginx -t` each
#   tests/server/nginx_check.sh --run           also start a throwaway nginx (TLS site) on
#                                               127.0.0.1:28080/28443 and probe it; no app behind
#   tests/server/nginx_check.sh --probe URL     only probe a running site, e.g. the booted server's
#                                               http://127.0.0.1:PORT (the app behind it)
# Needs nginx, openssl and curl; exits non-zero at the first failed check.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }

# render OUT HTTP_PORT HTTPS_PORT SERVER_NAME TLS_CERT TLS_KEY METRICS_PORT: the four files under
# OUT as provision.sh installs them under /etc/nginx (site-tls.conf.in when TLS_CERT is given).
render() {
    local out=$1 http=$2 https=$3 name=$4 cert=$5 key=$6 metrics=$7 site=site.conf.in
    [ -n "$cert" ] && site="site-tls.conf.in"
    mkdir -p "$out/conf.d" "$out/snippets" "$out/sites-enabled"
    sed "s|@METRICS_PORT@|$metrics|g" "$SRC/nginx/http.conf.in" >"$out/conf.d/restpie.conf"
    cp "$SRC/nginx/app.conf" "$out/snippets/restpie-app.conf"
    cp "$SRC/nginx/json-errors.conf" "$out/snippets/restpie-json-errors.conf"
    sed -e "s|@HTTP_PORT@|$http|g" -e "s|@HTTPS_PORT@|$https|g" -e "s|@SERVER_NAME@|$name|g" \
        -e "s|@TLS_CERT@|$cert|g" -e "s|@TLS_KEY@|$key|g" "$SRC/nginx/$site" >"$out/sites-enabled/restpie"
    ! grep -rn '@[A-Z_]*@' "$out" || fail "placeholder left in the rendered files"
}

# main_conf DIR: a main nginx.conf with Debian's http-level directives (a directive repeated by
# our files fails here as it would there), everything written under DIR.
main_conf() {
    local d=$1
    cp /etc/nginx/mime.types /etc/nginx/fastcgi_params "$d/"
    mkdir -p "$d/tmp" "$d/log"
    # The access log goes to /var/log/nginx on a server, robots.txt comes from the release; here,
    # DIR and the checkout.
    sed -i -e "s|/var/log/nginx/|$d/log/|" -e "s|/opt/restpie/current/conf|$SRC/conf|" \
        "$d/snippets/restpie-app.conf"
    cat >"$d/nginx.conf" <<CONF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/log/error.log;
events { worker_connections 64; }
http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log $d/log/access.log;
    gzip on;
    client_body_temp_path $d/tmp/body;
    fastcgi_temp_path $d/tmp/fastcgi;
    proxy_temp_path $d/tmp/proxy;
    scgi_temp_path $d/tmp/scgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    include conf.d/*.conf;
    include sites-enabled/*;
}
CONF
}

# expect WHAT WANT_STATUS WANT_BODY_REGEX CURL_ARGS...: one request, its status and body.
expect() {
    local what=$1 want=$2 body=$3 got
    shift 3
    got=$(curl -ksS -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@") || fail "$what: curl failed"
    [ "$got" = "$want" ] || fail "$what: status $got, want $want ($(head -c 200 "$TMP/body"))"
    grep -Eq "$body" "$TMP/body" || fail "$what: body $(head -c 200 "$TMP/body"), want /$body/"
    ok "$what: $got $(head -c 60 "$TMP/body" | tr -s '\r\n ' ' ')"
}
header() {  # header WHAT REGEX: in the last reply's headers
    grep -Eiq "$2" "$TMP/headers" || fail "$1: no header /$2/ in: $(tr -d '\r' <"$TMP/headers")"
    ok "$1"
}

# probe BASE NO_APP: what the site must do; NO_APP=1 when no app is behind it (API paths 502).
probe() {
    local base=$1 no_app=$2 i code
    expect "GET /apitest/counter is not passed on" 404 '^\{"err":"404: /apitest/counter"\}$' \
        "$base/apitest/counter"
    header "no nginx version in Server" '^Server: nginx\s*$'
    header "Referrer-Policy" '^Referrer-Policy: strict-origin-when-cross-origin'
    header "nosniff on nginx's own replies" '^X-Content-Type-Options: nosniff'
    expect "robots.txt" 200 'Disallow' "$base/robots.txt"
    if [ "$no_app" = 1 ]; then
        expect "GET /api/list with no app" 502 '^\{"err":"502: bad gateway"\}$' "$base/api/list"
        expect "/metrics from 127.0.0.1 is passed on (no app: 502)" 502 '502' "$base/metrics"
    else
        expect "GET /api/health" 200 '"ok":true' "$base/api/health"
        [ "$(grep -ci '^X-Content-Type-Options' "$TMP/headers")" = 1 ] ||
            fail "X-Content-Type-Options not exactly once on an app reply"
        ok "X-Content-Type-Options once on an app reply"
        expect "/metrics from 127.0.0.1" 200 '' "$base/metrics"
    fi
    # POST /api/login: burst 10, then 429 as JSON; GETs never counted. A new email each time, so
    # the app's own limit (10 failures per email) does not answer 429 first.
    for i in $(seq 1 30); do
        code=$(curl -ksS -o "$TMP/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            -d "{\"email\":\"nobody$i@example.com\",\"password\":\"wrong-password\"}" "$base/api/login")
        [ "$code" = 429 ] && break
    done
    [ "$code" = 429 ] || fail "no 429 after 30 POSTs to /api/login"
    [ "$i" -ge 11 ] || fail "429 already at POST number $i (burst is 10)"
    grep -q '^{"err":"429: too many requests"}$' "$TMP/body" || fail "429 body: $(cat "$TMP/body")"
    ok "POST /api/login: 429 as JSON at POST number $i"
    for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
        code=$(curl -ksS -o /dev/null -w '%{http_code}' "$base/api/login")
        [ "$code" != 429 ] || fail "GET /api/login limited (number $i)"
    done
    ok "GET /api/login not limited (12 in a row: $code)"
    local url=$base/api/list want=200
    [ "$no_app" = 1 ] && url=$base/$(printf 'x%.0s' $(seq 1100)) want=404  # a 1.1 KB JSON 404
    expect "JSON over 1 KB" "$want" '' --compressed "$url"
    header "gzip for JSON over 1 KB" '^Content-Encoding: gzip'
}

TMP=$(mktemp -d /tmp/nginx-check.XXXXXX)
NGINX_PID=
cleanup() {
    if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID"
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

if [ "${1:-}" = --probe ]; then
    probe "${2:?--probe URL}" 0
    exit 0
fi

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$TMP/test.key" -out "$TMP/test.crt" 2>/dev/null
render "$TMP/plain" 80 443 _ "" "" 9117
main_conf "$TMP/plain"
nginx -t -q -e "$TMP/plain/log/error.log" -p "$TMP/plain" -c "$TMP/plain/nginx.conf" ||
    fail "nginx -t, plain site"
ok "nginx -t, plain site (site.conf.in)"
# The several-app-hosts example (nginx/upstream-cluster.conf) in place of the one-host upstream.
mkdir -p "$TMP/cluster"
cp -r "$TMP/plain/." "$TMP/cluster/"
main_conf "$TMP/cluster"
sed -i '/^upstream restpie_app {/,/^}/d' "$TMP/cluster/conf.d/restpie.conf"
cp "$SRC/nginx/upstream-cluster.conf" "$TMP/cluster/conf.d/restpie-upstream.conf"
grep -q '^fastcgi_next_upstream error timeout;' "$TMP/cluster/conf.d/restpie-upstream.conf" ||
    fail "upstream-cluster.conf names no fastcgi_next_upstream"
nginx -t -q -e "$TMP/cluster/log/error.log" -p "$TMP/cluster" -c "$TMP/cluster/nginx.conf" ||
    fail "nginx -t, plain site with nginx/upstream-cluster.conf"
ok "nginx -t, plain site with the several-app-hosts upstream (nginx/upstream-cluster.conf)"
render "$TMP/tls" 28080 28443 example.com "$TMP/test.crt" "$TMP/test.key" 29117
main_conf "$TMP/tls"
# Loopback only: never the host's other addresses, even on high ports.
sed -i -e '/listen \[::\]/d' -e 's/listen \([0-9]\)/listen 127.0.0.1:\1/' "$TMP/tls/sites-enabled/restpie"
# As behind a load balancer at 127.0.0.1 (the site's commented lines): X-Forwarded-For is the client.
sed -i 's/^\( *\)#   set_real_ip_from .*/\1set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;/' \
    "$TMP/tls/sites-enabled/restpie"
nginx -t -q -e "$TMP/tls/log/error.log" -p "$TMP/tls" -c "$TMP/tls/nginx.conf" ||
    fail "nginx -t, TLS site"
ok "nginx -t, TLS site (site-tls.conf.in)"
[ "${1:-}" = --run ] || exit 0

nginx -e "$TMP/tls/log/error.log" -p "$TMP/tls" -c "$TMP/tls/nginx.conf"
for _ in $(seq 50); do [ -s "$TMP/tls/nginx.pid" ] && break; sleep 0.1; done
NGINX_PID=$(cat "$TMP/tls/nginx.pid")
expect "http redirects to https" 301 '' http://127.0.0.1:28080/api/list
header "redirect target" '^Location: https://127.0.0.1:28443/api/list'
expect "acme challenge stays on http" 404 '"err"' http://127.0.0.1:28080/.well-known/acme-challenge/x
expect "HTTP/2 over TLS" 404 '' --http2 https://127.0.0.1:28443/nothing
grep -q '^HTTP/2 404' "$TMP/headers" || fail "not HTTP/2: $(head -1 "$TMP/headers")"
header "HSTS" '^Strict-Transport-Security: max-age=31536000'
probe https://127.0.0.1:28443 1
grep -q 'rt=[0-9.]* urt=[0-9.]* us=502' "$TMP/tls/log/restpie.access.log" ||
    fail "access log has no rt=/urt=/us= line: $(tail -2 "$TMP/tls/log/restpie.access.log")"
XFF=(-H 'X-Forwarded-For: 192.0.2.7')
expect "/metrics from another address (via trusted proxy)" 403 '^\{"err":"403: forbidden"\}$' \
    "${XFF[@]}" https://127.0.0.1:28443/metrics
expect "POST /api/login from another client: its own budget" 502 '' "${XFF[@]}" -X POST -d x=1 \
    https://127.0.0.1:28443/api/login
ok "access log: $(grep -m1 'us=502' "$TMP/tls/log/restpie.access.log")"
