#!/usr/bin/env bash
# Benchmark of the authentication layer: GET of one node under wrk (8 connections,
# 2 threads) against a release ferricd with noauth, then with http_basic (bcrypt
# cost 12, as `htpasswd -B` makes; results memoised, so only the first request pays
# a bcrypt). Prints both rates and their ratio (the goal: http_basic within 80% of
# noauth), and the cost of a request that misses the memo (a new password each time).
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

cargo build --release --locked -q --bin ferricd
FERRICD="${CARGO_TARGET_DIR:-target}/release/ferricd"
htpasswd -B -C 12 -b -c "$WORK/htpasswd" bench bench-password 2>/dev/null
AUTH="Authorization: Basic $(printf 'bench:bench-password' | base64)"

# start STRATEGY_ARGS... — a fresh ferricd with one node; sets pid and NODE_URL.
start() {
    rm -rf "${WORK:?}/var"
    "$FERRICD" --listen "127.0.0.1:$PORT" --data-dir "$WORK/var" --log warn "$@" >"$WORK/ferricd.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
    local uuid
    uuid=$(curl -sf -H "$AUTH" -H "X-OpenStack-Ironic-API-Version: 1.89" -H "Content-Type: application/json" -X POST "http://127.0.0.1:$PORT/v1/nodes" \
        -d '{"driver": "fake-hardware", "name": "bench"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["uuid"])')
    NODE_URL="http://127.0.0.1:$PORT/v1/nodes/$uuid"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
rate() { wrk -t2 -c8 -d"${SECONDS_EACH}s" "$@" | awk '/Requests\/sec/ {print $2}'; }

start
noauth=$(rate "$NODE_URL")
stop
start --auth-strategy http_basic --http-basic-auth-user-file "$WORK/htpasswd"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$NODE_URL")" = 401 ] || { echo "http_basic is not on"; exit 1; }
basic=$(rate -H "$AUTH" "$NODE_URL")
# A memo miss: a wrong password each time costs a bcrypt.
started=$(date +%s%N)
for i in $(seq 1 10); do
    curl -s -o /dev/null -u "bench:wrong-$i" "$NODE_URL"
done
miss_ms=$(( ($(date +%s%N) - started) / 10000000 ))
stop
echo "GET node, 8 connections, ${SECONDS_EACH} s each:"
echo "  noauth      ${noauth} req/s"
echo "  http_basic  ${basic} req/s (bcrypt cost 12, memoised)"
python3 -c "print(f'  ratio       {float($basic) / float($noauth):.2f} of noauth')"
echo "  a request that misses the memo (bcrypt cost 12): ${miss_ms} ms"
