#!/usr/bin/env bash
# Ferric and OpenStack Ironic side by side, in one run, on this machine: the real
# Ironic 39 (API and conductor in one process, SQLite, noauth, fake-hardware nodes
# with the fake deploy interface, no automated cleaning) and a release ferricd
# (all-in-one, SQLite, zero config) each get the same Python client
# (bench/vs-ironic.py): NODES creates at concurrency 8, the detailed listing of them
# all, CYCLE_NODES more taken manage -> provide -> deploy with a 20 ms poll, the NODES
# deletes; and wrk GETs of one node (2 threads, 8 connections). Prints both columns,
# Ferric's advantage as a ratio, and each server's RSS at the end.
#   bench/vs-ironic.sh [NODES] [CYCLE_NODES] [WRK_SECONDS]     (1000 100 10)
# Ironic is installed on first use, as lab/ironic-agent-compat.sh does, into
# ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/ironic-venv. Needs wrk (Debian: wrk;
# installed with apt when missing and root). Everything listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES="${1:-1000}"
CYCLE_NODES="${2:-100}"
WRK_SECONDS="${3:-10}"
IRONIC_PORT=16385
FERRIC_PORT=16386
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
PYTHON="${FERRIC_PYTHON:-python3}"
STOP_TIMEOUT=10
WORK="$(mktemp -d /var/tmp/ferric-vs-ironic.XXXXXX)"
LOG="$WORK/ironic.log"
pids=()

die() { printf 'vs-ironic.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'vs-ironic.sh: %s\n' "$*" >&2; }
# shellcheck source=../lab/lib/python-peer.sh
source lab/lib/python-peer.sh
# shellcheck source=../lab/lib/ironic-venv.sh
source lab/lib/ironic-venv.sh

cleanup() {
    for p in "${pids[@]}"; do stop_pid "$p"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=../lab/lib/ports.sh
source lab/lib/ports.sh
require_free_ports "$IRONIC_PORT" "$FERRIC_PORT"
command -v wrk >/dev/null 2>&1 || apt_install wrk || die "wrk is needed for the GET rates"
ensure_ironic_venv
note "building ferricd (release)"
cargo build --release --locked -q --bin ferricd --features ferric-server/jemalloc
FERRICD="${CARGO_TARGET_DIR:-target}/release/ferricd"

# wait_up URL — until the API answers.
wait_up() {
    for _ in $(seq 1 300); do
        curl -sf "$1/" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# rss PID — resident memory in MiB.
rss() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# measure NAME URL PID — the client's numbers, the GET rate, the RSS, as JSON.
measure() {
    local name="$1" api="$2" pid="$3" uuid gets
    note "$name: GET of one node under wrk for ${WRK_SECONDS} s"
    uuid=$(curl -sf -X POST "$api/v1/nodes" -H "X-OpenStack-Ironic-API-Version: 1.89" \
        -H "Content-Type: application/json" -d '{"driver": "fake-hardware", "name": "wrk-target"}' \
        | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["uuid"])')
    local out
    out=$(wrk -t2 -c8 -d"${WRK_SECONDS}s" -H "X-OpenStack-Ironic-API-Version: 1.89" "$api/v1/nodes/$uuid")
    if echo "$out" | grep -q "Non-2xx"; then die "$name: failed GETs: $out"; fi
    gets=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    note "$name: $NODES creates, listing, $CYCLE_NODES provision cycles, $NODES deletes"
    local client
    client=$("$VENV/bin/python" bench/vs-ironic.py "$api" "$NODES" "$CYCLE_NODES")
    "$VENV/bin/python" -c "import json, sys; d = json.loads(sys.argv[1]); d['gets_per_s'] = float('$gets'); d['rss_mib'] = $(rss "$pid"); print(json.dumps(d))" "$client"
}

cat >"$WORK/ironic.conf" <<EOF
[DEFAULT]
auth_strategy = noauth
rpc_transport = none
enabled_hardware_types = fake-hardware
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_boot_interfaces = fake
enabled_deploy_interfaces = fake
enabled_inspect_interfaces = no-inspect
enabled_network_interfaces = noop
default_network_interface = noop
host = vs-ironic
log_file = $LOG
[database]
connection = sqlite:///$WORK/ironic.db
[dhcp]
dhcp_provider = none
[api]
host_ip = 127.0.0.1
port = $IRONIC_PORT
[conductor]
automated_clean = false
EOF
start_ironic "$WORK/ironic.conf" "$WORK" "http://127.0.0.1:$IRONIC_PORT"
ironic=$(measure "Ironic" "http://127.0.0.1:$IRONIC_PORT" "$IRONIC_PID")
stop_pid "$IRONIC_PID"

"$FERRICD" --listen "127.0.0.1:$FERRIC_PORT" --data-dir "$WORK/ferric" --log warn >"$WORK/ferricd.log" 2>&1 &
ferric_pid=$!
pids+=("$ferric_pid")
wait_up "http://127.0.0.1:$FERRIC_PORT" || { tail -n 30 "$WORK/ferricd.log" >&2; die "ferricd did not start"; }
ferric=$(measure "Ferric" "http://127.0.0.1:$FERRIC_PORT" "$ferric_pid")

"$VENV/bin/python" - "$ironic" "$ferric" "$NODES" "$CYCLE_NODES" <<'EOF'
import json, sys
ironic, ferric = json.loads(sys.argv[1]), json.loads(sys.argv[2])
nodes, cycle = sys.argv[3], sys.argv[4]
def rate(v): return f"{v:,.0f}/s"
def secs(v): return f"{v:.3f} s"
def span(v): return f"{v[0]:.3f}-{v[len(v) // 2]:.3f} s"
rows = [
    ("GET node (wrk, 8 connections)", "gets_per_s", rate, True),
    (f"provision cycle, {cycle} nodes", "cycle_s", secs, False),
    ("create node (8 in flight)", "create_per_s", rate, True),
    ("delete node (8 in flight)", "delete_per_s", rate, True),
    (f"list {nodes} nodes, detail (best-median of 5)", "list_detail_s", span, False),
    ("server RSS after the run", "rss_mib", lambda v: f"{v} MiB", False),
]
print(f"| operation | Ironic 39 | Ferric | Ferric's advantage |")
print(f"| --- | --- | --- | --- |")
for label, key, show, higher_is_better in rows:
    i, f = ironic[key], ferric[key]
    ishow, fshow = show(i), show(f)
    if isinstance(i, list):
        i, f = i[0], f[0]
    ratio = f / i if higher_is_better else i / f
    print(f"| {label} | {ishow} | {fshow} | {ratio:,.1f}x |")
EOF
