#!/usr/bin/env bash
# Kills ferricd with SIGKILL while nodes are mid-deploy, restarts it on the same data
# directory, and checks that no node is left locked or silently transitional: every
# interrupted deploy must land in "deploy failed" with a last_error saying why.
# Usage: lab/crash-test.sh FERRICD_BINARY [PORT]. Loopback only.
set -euo pipefail

BIN="$1"
PORT="${2:-6396}"
URL="http://127.0.0.1:$PORT"
DIR="$(mktemp -d /tmp/ferric-crash.XXXXXX)"
PID=""
NODES=4

cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

start() {
    "$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DIR" --host crash-test >>"$DIR/ferricd.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
        curl -sf "$URL/" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "not ok - ferricd did not start"; tail -n 20 "$DIR/ferricd.log"; exit 1
}

api() {  # api METHOD PATH [BODY]
    curl -sf -X "$1" -H 'X-OpenStack-Ironic-API-Version: 1.65' -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "$URL$2"
}

field() {  # field NODE FIELD
    api GET "/v1/nodes/$1" | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}

wait_state() {  # wait_state NODE STATE
    for _ in $(seq 1 200); do
        [ "$(field "$1" provision_state)" = "$2" ] && [ -z "$(field "$1" reservation)" ] && return 0
        sleep 0.05
    done
    echo "not ok - node $1 never reached $2"; exit 1
}

start
for i in $(seq 1 "$NODES"); do
    api POST /v1/nodes "{\"driver\": \"fake-hardware\", \"name\": \"crash-$i\", \"driver_info\": {\"fake_deploy_delay\": 60}}" >/dev/null
    api PUT "/v1/nodes/crash-$i/states/provision" '{"target": "manage"}'
    wait_state "crash-$i" manageable
    api PUT "/v1/nodes/crash-$i/states/provision" '{"target": "provide"}'
    wait_state "crash-$i" available
    api PUT "/v1/nodes/crash-$i/states/provision" '{"target": "active"}'
done
for i in $(seq 1 "$NODES"); do
    [ "$(field "crash-$i" provision_state)" = deploying ] || { echo "not ok - crash-$i is not deploying"; exit 1; }
done
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
PID=""
start
passed=0
failed=0
for i in $(seq 1 "$NODES"); do
    state="$(field "crash-$i" provision_state)"
    holder="$(field "crash-$i" reservation)"
    err="$(field "crash-$i" last_error)"
    if [ "$state" = "deploy failed" ] && [ -z "$holder" ] && [[ "$err" == *restarted* ]]; then
        echo "ok - crash-$i recovered into deploy failed with: $err"
        passed=$((passed + 1))
    else
        echo "not ok - crash-$i: state '$state', reservation '$holder', last_error '$err'"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
