#!/usr/bin/env bash
# Benchmark of the authentication layer: GET of one node under wrk (8 connections,
# 2 threads) against a release ferricd with noauth, then with http_basic (bcrypt
# cost 12, as `htpasswd -B` makes; results memoised, so only the first request pays
# a bcrypt), then with keystone tokens of the built-in identity service (validated
# once, then cached). Prints the rates and their ratios to noauth (the goal: within
# 80%), the cost of a request that misses the bcrypt memo, and how many tokens per
# second the identity service issues.
#   bench/auth-overhead.sh [SECONDS]      (default 10)
# Needs wrk and htpasswd (Debian: wrk, apache2-utils). Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-10}"
PORT=18785
WORK="$(mktemp -d /var/tmp/ferric-auth-bench.XXXXXX)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --locked -q --bin ferricd --features ferric-server/jemalloc
FERRICD="${CARGO_TARGET_DIR:-target}/release/ferricd"
htpasswd -B -C 12 -b -c "$WORK/htpasswd" bench bench-password 2>/dev/null
AUTH="Authorization: Basic $(printf 'bench:bench-password' | base64)"

# start STRATEGY_ARGS... — a fresh ferricd; sets pid.
start() {
    rm -rf "${WORK:?}/var"
    "$FERRICD" --listen "127.0.0.1:$PORT" --data-dir "$WORK/var" --log warn "$@" >"$WORK/ferricd.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
}
# make_node HEADER — one node, created with the credentials in HEADER; sets NODE_URL.
make_node() {
    local uuid
    uuid=$(curl -sf -H "$1" -H "X-OpenStack-Ironic-API-Version: 1.89" -H "Content-Type: application/json" -X POST "http://127.0.0.1:$PORT/v1/nodes" \
        -d '{"driver": "fake-hardware", "name": "bench"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["uuid"])')
    NODE_URL="http://127.0.0.1:$PORT/v1/nodes/$uuid"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# rate WRK_ARGS... — requests per second; every answer must be a success.
rate() {
    local out
    out=$(wrk -t2 -c8 -d"${SECONDS_EACH}s" "$@")
    if echo "$out" | grep -q "Non-2xx"; then echo "failed requests: $out" >&2; exit 1; fi
    echo "$out" | awk '/Requests\/sec/ {print $2}'
}

start
make_node "X-Nothing: none"
noauth=$(rate "$NODE_URL")
stop
start --auth-strategy http_basic --http-basic-auth-user-file "$WORK/htpasswd"
make_node "$AUTH"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$NODE_URL")" = 401 ] || { echo "http_basic is not on"; exit 1; }
basic=$(rate -H "$AUTH" "$NODE_URL")
# A memo miss: a wrong password each time costs a bcrypt.
started=$(date +%s%N)
for i in $(seq 1 10); do
    curl -s -o /dev/null -u "bench:wrong-$i" "$NODE_URL"
done
miss_ms=$(( ($(date +%s%N) - started) / 10000000 ))
stop
start --enable-identity --auth-strategy keystone
ADMIN_PW="$(cat "$WORK/var/identity-admin-password")"
LOGIN="{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"admin\", \"domain\": {\"name\": \"Default\"}, \"password\": \"$ADMIN_PW\"}}}, \"scope\": {\"system\": {\"all\": true}}}}"
TOKEN=$(curl -s -D - -o /dev/null -H "Content-Type: application/json" -d "$LOGIN" "http://127.0.0.1:$PORT/identity/v3/auth/tokens" \
    | awk 'tolower($1) == "x-subject-token:" {print $2}' | tr -d '\r')
[ -n "$TOKEN" ] || { echo "no token"; exit 1; }
make_node "X-Auth-Token: $TOKEN"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$NODE_URL")" = 401 ] || { echo "keystone is not on"; exit 1; }
token=$(rate -H "X-Auth-Token: $TOKEN" "$NODE_URL")
cat >"$WORK/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$LOGIN'
LUA
issue=$(rate -s "$WORK/login.lua" "http://127.0.0.1:$PORT/identity/v3/auth/tokens")
stop
echo "GET node, 8 connections, ${SECONDS_EACH} s each:"
echo "  noauth      ${noauth} req/s"
echo "  http_basic  ${basic} req/s (bcrypt cost 12, memoised)"
python3 -c "print(f'  ratio       {float($basic) / float($noauth):.2f} of noauth')"
echo "  keystone    ${token} req/s (built-in identity token, validation cached)"
python3 -c "print(f'  ratio       {float($token) / float($noauth):.2f} of noauth')"
echo "  token issue ${issue} tokens/s (password login, system scope, memoised bcrypt)"
echo "  a request that misses the memo (bcrypt cost 12): ${miss_ms} ms"
