#!/usr/bin/env bash
# lab/ironic-agent-compat.sh AGENT_BINARY [PORT]
#
# Wire-compatibility check of ferric-agent against the reference: a real OpenStack
# Ironic 39 (API + conductor in one process, SQLite, noauth, fake-hardware nodes with
# the `direct` deploy interface, Ironic's default TLS requirement for agents) drives
# ferric-agent in test mode (a file as the disk):
#   1. in-band inspection (Ironic's `agent` inspect interface): the agent posts its
#      inventory to Ironic's /v1/continue_inspection → manageable, the inventory
#      stored (GET /v1/nodes/{n}/inventory) with the agent's NIC and disk;
#   2. automated cleaning through the agent (erase_devices_metadata, erase_devices)
#      → available, the disk's first and last MiB zeroed;
#   3. a deploy of a raw image with a JSON config drive (built by Ironic) → active,
#      the image on the disk, a config-2 ISO in a partition at the disk's end.
# Ironic's fake management interface only knows the PXE boot device, so the deploy
# disables Ironic's `prepare_instance_boot` step (it would set boot to disk) through
# `deploy_steps`; every step that talks to the agent runs.
#
# Ironic is installed on first use into ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/ironic-venv.
# Everything listens on 127.0.0.1. Prints TAP-like lines; exits non-zero on failure.
set -euo pipefail

AGENT="${1:?usage: lab/ironic-agent-compat.sh AGENT_BINARY [PORT]}"
PORT="${2:-6499}"
IMAGE_PORT=$((PORT + 1))
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
PYTHON="${FERRIC_PYTHON:-python3}"
STOP_TIMEOUT=10
WORK="$(mktemp -d /tmp/ferric-ironic-compat.XXXXXX)"
LOG="$WORK/ironic.log"
API="http://127.0.0.1:$PORT"
pids=()
agent_pid=""

die() { printf 'ironic-agent-compat.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'ironic-agent-compat.sh: %s\n' "$*" >&2; }
# shellcheck source=lib/python-peer.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/python-peer.sh"

# shellcheck source=lib/ironic-venv.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/ironic-venv.sh"

cleanup() {
    [ -n "$agent_pid" ] && stop_pid "$agent_pid"
    for p in "${pids[@]}"; do stop_pid "$p"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "not ok - $*"
    note "--- ironic log (errors)"
    grep -E " ERROR " "$LOG" | tail -n 20 >&2 || true
    for f in "$WORK"/agent-*.log; do
        [ -f "$f" ] && { note "--- $f"; tail -n 15 "$f" >&2; }
    done
    exit 1
}
ok() { echo "ok - $*"; }

# shellcheck source=lib/ports.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/ports.sh"
require_free_ports "$PORT" "$IMAGE_PORT" "$((PORT + 2))"
command -v genisoimage >/dev/null 2>&1 || command -v mkisofs >/dev/null 2>&1 \
    || apt_install genisoimage || die "genisoimage is needed for Ironic's config drives"
ensure_ironic_venv

cat >"$WORK/ironic.conf" <<EOF
[DEFAULT]
auth_strategy = noauth
rpc_transport = none
enabled_hardware_types = fake-hardware
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_boot_interfaces = fake
enabled_deploy_interfaces = fake,direct
enabled_inspect_interfaces = no-inspect,agent
enabled_network_interfaces = noop
default_network_interface = noop
host = ironic-compat
log_file = $LOG
[database]
connection = sqlite:///$WORK/ironic.db
[dhcp]
dhcp_provider = none
[service_catalog]
endpoint_override = $API
[api]
host_ip = 127.0.0.1
port = $PORT
[conductor]
heartbeat_timeout = 600
automated_clean = true
deploy_callback_timeout = 180
clean_callback_timeout = 180
[deploy]
erase_devices_priority = 10
[inspector]
# Ironic's fake boot cannot boot an inspection ramdisk: the test plays the machine.
require_managed_boot = false
[agent]
post_deploy_get_power_state_retry_interval = 1
post_deploy_get_power_state_retries = 2
EOF
start_ironic "$WORK/ironic.conf" "$WORK" "$API"
ok "Ironic $("$VENV/bin/python" -c 'from importlib import metadata; print(metadata.version("ironic"))') answers at $API"

mkdir -p "$WORK/www"
"$PYTHON" - "$WORK/www/disk.raw" <<'EOF'
import os, struct, sys
data = bytearray(os.urandom(6 * 1024 * 1024))
data[446:510] = bytes(64)
data[446 + 4] = 0x83
data[446 + 8:446 + 16] = struct.pack("<II", 2048, 8192)
data[510:512] = b"\x55\xaa"
open(sys.argv[1], "wb").write(data)
EOF
SHA=$(sha256sum "$WORK/www/disk.raw" | cut -d' ' -f1)
"$PYTHON" -m http.server "$IMAGE_PORT" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$IMAGE_PORT/disk.raw" && break
    sleep 0.1
done

bm() { # METHOD PATH [BODY] — prints the body; on an HTTP error shows it and fails
    local out
    if ! out=$(curl -sS --fail-with-body -X "$1" "$API/v1$2" -H "X-OpenStack-Ironic-API-Version: 1.89" \
        -H "Content-Type: application/json" ${3:+-d "$3"}); then
        note "$1 $2 failed: $out"
        return 1
    fi
    printf '%s' "$out"
}
field() { "$PYTHON" -c "import sys, json; d = json.load(sys.stdin); print(d$1)"; }

MAC=52:54:00:c0:ff:ee
DISK="$WORK/disk.img"
truncate -s 256M "$DISK"
"$PYTHON" -c "
f = open('$DISK', 'r+b'); f.write(b'\xab' * 1048576); f.seek(255 * 1048576); f.write(b'\xab' * 1048576)"
NODE=$(bm POST /nodes '{"driver": "fake-hardware", "deploy_interface": "direct", "inspect_interface": "agent", "name": "compat-1"}' | field '["uuid"]') \
    || fail "Ironic refused the node"
[ -n "$NODE" ] || fail "Ironic refused the node"
bm POST /ports "{\"node_uuid\": \"$NODE\", \"address\": \"$MAC\"}" >/dev/null
boots=0

# wait_for STATES... — plays the machine (an agent runs while Ironic waits on one)
# until the node reaches one of STATES.
wait_for() {
    local deadline=$((SECONDS + 240)) state
    while ((SECONDS < deadline)); do
        state=$(bm GET "/nodes/$NODE" | field '["provision_state"]')
        for want in "$@"; do
            if [ "$state" = "$want" ]; then
                if [ -n "$agent_pid" ]; then stop_pid "$agent_pid"; agent_pid=""; fi
                return 0
            fi
        done
        case "$state" in
            "clean wait" | "wait call-back" | "inspect wait")
                if [ -z "$agent_pid" ] || ! kill -0 "$agent_pid" 2>/dev/null; then
                    boots=$((boots + 1))
                    # Ironic's fake boot passes no kernel parameters: the callback
                    # URL an inspection ramdisk would get is given as a flag.
                    local inspect_args=()
                    [ "$state" = "inspect wait" ] \
                        && inspect_args=(--inspection-callback-url "$API/v1/continue_inspection")
                    "$AGENT" --api-url "$API" --disk "$DISK" --mac "$MAC" \
                        --listen "127.0.0.1:$((PORT + 2))" --cmdline /dev/null "${inspect_args[@]}" \
                        >"$WORK/agent-$boots.log" 2>&1 &
                    agent_pid=$!
                fi
                ;;
        esac
        sleep 0.5
    done
    fail "node stayed in $state, not one of $*: $(bm GET "/nodes/$NODE" | field '["last_error"]')"
}

bm PUT "/nodes/$NODE/states/provision" '{"target": "manage"}' >/dev/null
wait_for manageable
bm PUT "/nodes/$NODE/states/provision" '{"target": "inspect"}' >/dev/null
wait_for manageable "inspect failed"
[ "$(bm GET "/nodes/$NODE" | field '["provision_state"]')" = manageable ] \
    || fail "inspection through ferric-agent: $(bm GET "/nodes/$NODE" | field '["last_error"]')"
bm GET "/nodes/$NODE/inventory" | "$PYTHON" -c "
import json, sys
d = json.load(sys.stdin)
inv = d['inventory']
assert inv['interfaces'][0]['mac_address'] == '$MAC', inv['interfaces']
assert inv['disks'][0]['size'] == 256 << 20, inv['disks']
assert inv['cpu']['count'] >= 1 and inv['memory']['total'] > 0, (inv['cpu'], inv['memory'])
" || fail "Ironic did not keep ferric-agent's inventory"
ok "Ironic inspected the node through ferric-agent (continue_inspection, the inventory stored)"
bm PUT "/nodes/$NODE/states/provision" '{"target": "provide"}' >/dev/null
wait_for available "clean failed"
[ "$(bm GET "/nodes/$NODE" | field '["provision_state"]')" = available ] \
    || fail "cleaning through ferric-agent: $(bm GET "/nodes/$NODE" | field '["last_error"]')"
ok "Ironic cleaned the node through ferric-agent (TLS, token, get_clean_steps, execute_clean_step)"
"$PYTHON" -c "
f = open('$DISK', 'rb'); head = f.read(1048576); f.seek(255 * 1048576); tail = f.read()
assert head == bytes(len(head)) and tail == bytes(len(tail))" || fail "the disk's metadata was not erased"
ok "the disk's first and last MiB are zero"

bm PATCH "/nodes/$NODE" "[{\"op\": \"add\", \"path\": \"/instance_info\", \"value\": {
    \"image_source\": \"http://127.0.0.1:$IMAGE_PORT/disk.raw\", \"image_disk_format\": \"raw\",
    \"image_os_hash_algo\": \"sha256\", \"image_os_hash_value\": \"$SHA\"}}]" >/dev/null
bm PUT "/nodes/$NODE/states/provision" '{"target": "active",
    "deploy_steps": [{"interface": "deploy", "step": "prepare_instance_boot", "priority": 0, "args": {}}],
    "configdrive": {"meta_data": {"hostname": "compat-1"}, "user_data": "#cloud-config\n"}}' >/dev/null
wait_for active "deploy failed"
[ "$(bm GET "/nodes/$NODE" | field '["provision_state"]')" = active ] \
    || fail "deploy through ferric-agent: $(bm GET "/nodes/$NODE" | field '["last_error"]')"
ok "Ironic deployed the node through ferric-agent (write_image, power_off)"
"$PYTHON" - "$WORK/www/disk.raw" "$DISK" "$WORK/cd.iso" <<'EOF' || fail "the disk does not hold the image and its config drive"
import struct, sys
image = open(sys.argv[1], "rb").read()
disk = open(sys.argv[2], "rb")
written = disk.read(len(image))
# The config drive's partition entry is the only change to the image's bytes.
assert written[:462] == image[:462] and written[512:] == image[512:], "image bytes differ"
start, sectors = struct.unpack("<II", written[462 + 8:462 + 16])
assert sectors * 512 == 64 << 20 and (start + sectors) * 512 == 256 << 20, (start, sectors)
disk.seek(start * 512)
open(sys.argv[3], "wb").write(disk.read(4 << 20))
EOF
ok "the disk holds the image, and a 64 MiB config drive partition at its end"
if command -v isoinfo >/dev/null 2>&1; then
    isoinfo -d -i "$WORK/cd.iso" | grep -q "Volume id: config-2" || fail "the config drive is not a config-2 ISO"
    isoinfo -R -i "$WORK/cd.iso" -x /openstack/latest/meta_data.json | grep -q compat-1 \
        || fail "the config drive lacks Ironic's meta_data"
    ok "the config drive is Ironic's config-2 ISO"
fi
echo "ironic-agent-compat: all passed"
