#!/usr/bin/env bash
# lab/sushy-client-sim.sh FERRIC_BINARY [PORT]
#
# The simulated rack's Redfish side against sushy — the Redfish client library
# Ironic's redfish driver (and so Metal3) uses — at the version Ironic 39 ships
# with: `ferric sim` serves a rack of two machines on 127.0.0.1:PORT, and sushy,
# pointed at the rack's service root and at one machine's own BMC (the address
# path as the service root, as Ironic passes it), reads the systems, powers a
# machine on and off, and sets a one-time boot override; each change is checked
# in the rack's own view (/sim/machines). No Ferric API runs: a powered-on machine
# finds no boot script, which the check expects.
#
# sushy comes from the Ironic virtualenv lab/ironic-agent-compat.sh builds (one is
# made here if missing). Everything listens on 127.0.0.1.
set -euo pipefail

FERRIC="${1:?usage: lab/sushy-client-sim.sh FERRIC_BINARY [PORT]}"
PORT="${2:-8031}"
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
PYTHON="${FERRIC_PYTHON:-python3}"
STOP_TIMEOUT=10
WORK="$(mktemp -d /tmp/ferric-sushy-sim.XXXXXX)"
LOG="$WORK/sim.log"
sim_pid=""

die() { printf 'sushy-client-sim.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'sushy-client-sim.sh: %s\n' "$*" >&2; }
# shellcheck source=lib/python-peer.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/python-peer.sh"

# shellcheck source=lib/ironic-venv.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/ironic-venv.sh"

cleanup() {
    [ -n "$sim_pid" ] && stop_pid "$sim_pid"
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=lib/ports.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/ports.sh"
require_free_ports "$PORT" "$((PORT + 1))"
ensure_ironic_venv

# The Ferric API the machines would boot from is a closed port next to the rack's.
"$FERRIC" --url "http://127.0.0.1:$((PORT + 1))" sim --nodes 2 --bmc-listen "127.0.0.1:$PORT" --agent-net 127.5.0.0 \
    --disk-size-mib 16 --dir "$WORK/rack" >"$LOG" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/sim/machines" && break
    sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/sim/machines" || { cat "$LOG" >&2; die "ferric sim did not start"; }

if ! "$VENV/bin/python" - "http://127.0.0.1:$PORT" <<'PYEOF'; then
import json
import sys
from importlib import metadata
import time
import urllib.request

import sushy
from sushy import auth

RACK = sys.argv[1]


def machines():
    with urllib.request.urlopen(RACK + "/sim/machines") as r:
        return {m["name"]: m for m in json.load(r)["machines"]}


def until(what, check):
    deadline = time.time() + 10
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(what)


def connect(root_prefix):
    return sushy.Sushy(
        RACK,
        root_prefix=root_prefix,
        auth=auth.BasicAuth(username="admin", password="password"),
    )


rack = connect("/redfish/v1/")
systems = rack.get_system_collection()
assert len(systems.members_identities) == 2, systems.members_identities
print(f"ok - sushy {metadata.version('sushy')} reads the rack's service root and its 2 systems")

first = machines()["sim-00000"]
# One machine's own BMC: the address path is its service root, as Ironic passes it.
own = connect("/bmc/sim-00000/redfish/v1/")
mine = own.get_system_collection().members_identities
assert mine == (f"/bmc/sim-00000/redfish/v1/Systems/{first['id']}",), mine
system = own.get_system(mine[0])
assert system.power_state == sushy.POWER_STATE_OFF, system.power_state
print("ok - a machine's own BMC shows only its system, powered off")

system.set_system_boot_options(
    target=sushy.BOOT_SOURCE_TARGET_PXE, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE
)
system.refresh()
assert system.boot.target == sushy.BOOT_SOURCE_TARGET_PXE, system.boot.target
assert system.boot.enabled == sushy.BOOT_SOURCE_ENABLED_ONCE, system.boot.enabled
print("ok - a one-time PXE boot override is set and read back")

system.reset_system(sushy.RESET_ON)
system.refresh()
assert system.power_state == sushy.POWER_STATE_ON, system.power_state
until("the machine tried to network-boot", lambda: machines()["sim-00000"]["boots"] >= 1)
print("ok - power on: the machine boots from the network (finding no boot script here)")

system.reset_system(sushy.RESET_FORCE_OFF)
system.refresh()
assert system.power_state == sushy.POWER_STATE_OFF, system.power_state
assert machines()["sim-00000"]["power"] == "off"
assert machines()["sim-00001"]["power"] == "off", "the other machine is untouched"
print("ok - force off, and the other machine was never touched")

try:
    sushy.Sushy(RACK, root_prefix="/redfish/v1/",
                auth=auth.BasicAuth(username="admin", password="wrong")).get_system_collection()
    raise AssertionError("wrong credentials were accepted")
except sushy.exceptions.AccessError:
    print("ok - wrong credentials are refused (401)")
PYEOF
    note "--- ferric sim log"
    tail -n 20 "$LOG" >&2
    echo "not ok - sushy against the simulated rack"
    exit 1
fi
echo "sushy-client-sim: all passed"
