#!/usr/bin/env bash
# lab/ironicclient-smoke.sh — exercise an Ironic-compatible API with the real
# `openstack baremetal` command-line client and check what it prints.
#
#   lab/ironicclient-smoke.sh [ENDPOINT]        (default http://127.0.0.1:6385)
#
# The client lives in a private virtualenv at
# ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/osc-venv, created and filled from
# PyPI on first use.  No Keystone: the client talks to ENDPOINT directly
# (OS_AUTH_TYPE=none).  Every resource this run makes carries the run's PID in
# its name/MAC, so runs can repeat against the same server; whatever a run
# leaves behind after a failure is removed on exit.
#
# Output: one "ok - ..." / "not ok - ..." line per check (details of a failure
# follow on "#" lines), then "N passed, M failed".  Exit status is 0 only when
# nothing failed.
#
# Note: python-ironicclient retries any HTTP 409 five more times, two seconds
# apart, so each expected-conflict check takes about ten seconds.
set -euo pipefail

ENDPOINT="${1:-http://127.0.0.1:6385}"
ENDPOINT="${ENDPOINT%/}"
LAB_DIR="${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}"
VENV="$LAB_DIR/osc-venv"
CLI_TIMEOUT=60

PASSED=0
FAILED=0
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferric-smoke.XXXXXX")"

# Resources to remove if the run stops half-way (order: ports, port groups,
# nodes, chassis).
LEFT_PORTS=()
LEFT_PORTGROUPS=()
LEFT_NODES=()
LEFT_CHASSIS=()

say() { printf '%s\n' "$*"; }
diag() { printf '%s\n' "$@" | sed 's/^/#   /'; }

pass() {
    PASSED=$((PASSED + 1))
    say "ok - $1"
}

fail() {
    FAILED=$((FAILED + 1))
    say "not ok - $1"
    shift
    if [[ $# -gt 0 ]]; then
        diag "$@"
    fi
}

summary() {
    say "$PASSED passed, $FAILED failed"
}

# ---------------------------------------------------------------- client venv

# What the checks need: a client and SDK that know runbooks and inspection rules
# (a virtualenv cached from an older run is upgraded).
CLIENT_MODULES='import ironicclient.osc.v1.baremetal_runbook, openstackclient, openstack.baremetal.v1.runbooks'

ensure_client() {
    if [[ -x "$VENV/bin/python" ]] &&
        "$VENV/bin/python" -c "$CLIENT_MODULES" 2>/dev/null &&
        [[ -x "$VENV/bin/openstack" ]]; then
        return 0
    fi
    say "# setting up the client in $VENV (one-off)" >&2
    mkdir -p "$LAB_DIR"
    if [[ ! -x "$VENV/bin/python" ]]; then
        python3 -m venv "$VENV" >&2
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade \
        python-ironicclient python-openstackclient openstacksdk >&2
    "$VENV/bin/python" -c "$CLIENT_MODULES"
}

# ---------------------------------------------------------------- running CLI

OUT=""
ERR=""
RC=0

# bm ARGS...: run `openstack baremetal ARGS...`; sets OUT, ERR and RC.
bm() {
    set +e
    OUT="$(timeout "$CLI_TIMEOUT" "$VENV/bin/openstack" baremetal "$@" 2>"$TMP/stderr")"
    RC=$?
    set -e
    ERR="$(cat "$TMP/stderr")"
    if [[ $RC -eq 124 ]]; then
        ERR="timed out after ${CLI_TIMEOUT}s; $ERR"
    fi
}

# ran_ok DESC: record the outcome of the last bm call as a check; returns
# non-zero on failure, so call it in a condition or with "|| :".
ran_ok() {
    if [[ $RC -eq 0 ]]; then
        pass "$1"
        return 0
    fi
    fail "$1" "exit status $RC" "$ERR"
    return 1
}

# ran_fail DESC REGEX: the last bm call must have failed with stderr matching
# REGEX (extended, case-insensitive).
ran_fail() {
    if [[ $RC -eq 0 ]]; then
        fail "$1" "expected a failure, got exit status 0" "$OUT"
    elif [[ $RC -eq 124 ]]; then
        fail "$1" "$ERR"
    elif grep -Eqi -- "$2" <<<"$ERR"; then
        pass "$1"
    else
        fail "$1" "exit status $RC but stderr does not match /$2/:" "$ERR"
    fi
}

# check DESC PYEXPR [ARG...]: evaluate PYEXPR with
#   d      the JSON parsed from the last bm call's stdout,
#   rows   d with every dict's keys normalised ("Provisioning State" ->
#          "provisioning_state") when d is a list, else [],
#   a      the list of ARGs,
#   by(k, v)  the rows whose key k equals v.
check() {
    local desc="$1" expr="$2"
    shift 2
    local why
    if why="$(printf '%s' "$OUT" | "$VENV/bin/python" -c '
import json, sys

def norm(row):
    if not isinstance(row, dict):
        return row
    return {str(k).strip().lower().replace(" ", "_"): v for k, v in row.items()}

expr, a = sys.argv[1], sys.argv[2:]
try:
    d = json.loads(sys.stdin.read())
except ValueError as e:
    print("output is not JSON: %s" % e)
    sys.exit(1)
rows = [norm(r) for r in d] if isinstance(d, list) else []
def by(k, v):
    return [r for r in rows if r.get(k) == v]
try:
    ok = eval(expr)
except Exception as e:
    print("%s: %s" % (type(e).__name__, e))
    sys.exit(1)
sys.exit(0 if ok else 1)
' "$expr" "$@" 2>&1)"; then
        pass "$desc"
    else
        fail "$desc" "expected: $expr  (args: $*)" ${why:+"$why"} "output: $(head -c 1500 <<<"$OUT")"
    fi
}

# json_field FIELD: print one top-level field of the last bm call's JSON output.
json_field() {
    printf '%s' "$OUT" | "$VENV/bin/python" -c '
import json, sys
try:
    v = json.loads(sys.stdin.read()).get(sys.argv[1])
except (ValueError, AttributeError):
    v = None
print("" if v is None else v)
' "$1"
}

# ---------------------------------------------------------------- clean-up

forget() {  # forget ARRAY_NAME VALUE: drop VALUE from a LEFT_* array
    local -n arr="$1"
    local keep=() x
    for x in "${arr[@]}"; do
        [[ "$x" == "$2" ]] || keep+=("$x")
    done
    arr=("${keep[@]}")
}

cleanup() {
    local x
    for x in "${LEFT_PORTS[@]}"; do
        timeout "$CLI_TIMEOUT" "$VENV/bin/openstack" baremetal port delete "$x" >/dev/null 2>&1 || true
    done
    for x in "${LEFT_PORTGROUPS[@]}"; do
        timeout "$CLI_TIMEOUT" "$VENV/bin/openstack" baremetal port group delete "$x" >/dev/null 2>&1 || true
    done
    for x in "${LEFT_NODES[@]}"; do
        timeout "$CLI_TIMEOUT" "$VENV/bin/openstack" baremetal node maintenance unset "$x" >/dev/null 2>&1 || true
        timeout "$CLI_TIMEOUT" "$VENV/bin/openstack" baremetal node delete "$x" >/dev/null 2>&1 || true
    done
    for x in "${LEFT_CHASSIS[@]}"; do
        timeout "$CLI_TIMEOUT" "$VENV/bin/openstack" baremetal chassis delete "$x" >/dev/null 2>&1 || true
    done
    rm -rf "$TMP"
}

# ---------------------------------------------------------------- set-up

ensure_client

# Only our settings: drop any OS_* the caller has (clouds, tokens, regions),
# except an explicit API version pin.
while IFS= read -r var; do
    [[ "$var" == OS_BAREMETAL_API_VERSION ]] || unset "$var"
done < <(compgen -e | grep '^OS_' || true)
export OS_AUTH_TYPE=none
export OS_ENDPOINT="$ENDPOINT"

if ! timeout 15 "$VENV/bin/python" -c '
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/v1", timeout=10).read()
' "$ENDPOINT" >/dev/null 2>"$TMP/stderr"; then
    fail "API answers at $ENDPOINT/v1" "$(tail -n 1 "$TMP/stderr")"
    summary
    rm -rf "$TMP"
    exit 1
fi
pass "API answers at $ENDPOINT/v1"

trap cleanup EXIT

RUN="$$"
# MAC addresses unique to this run: 52:54:00:<pid high>:<pid low>:<nn>
MAC_BASE="$(printf '52:54:00:%02x:%02x' $(((RUN >> 8) & 255)) $((RUN & 255)))"
MAC1="$MAC_BASE:01"
MAC2="$MAC_BASE:02"
MAC3="$MAC_BASE:03"
MAC4="$MAC_BASE:04"
NODE1="smoke-node-1-$RUN"
NODE2="smoke-node-2-$RUN"
PG_NAME="bond0-$RUN"
CHASSIS_DESC="ferric smoke chassis $RUN"
MISSING="no-such-node-$RUN"

# ---------------------------------------------------------------- chassis

CHASSIS=""
bm chassis create --description "$CHASSIS_DESC" -f json
if ran_ok "chassis create"; then
    CHASSIS="$(json_field uuid)"
    LEFT_CHASSIS+=("$CHASSIS")
    check "chassis create returns the description" 'd["description"] == a[0]' "$CHASSIS_DESC"
fi

bm chassis list -f json
ran_ok "chassis list" &&
    check "chassis list includes the new chassis" 'len(by("uuid", a[0])) == 1' "$CHASSIS"

bm chassis show "$CHASSIS" -f value -c description
ran_ok "chassis show" &&
    if [[ "$OUT" == "$CHASSIS_DESC" ]]; then pass "chassis show -c description"; else fail "chassis show -c description" "got: $OUT"; fi

# ---------------------------------------------------------------- nodes

N1=""
N2=""
bm node create --driver fake-hardware --name "$NODE1" --property cpus=4 \
    --resource-class baremetal --chassis-uuid "$CHASSIS" -f json
if ran_ok "node create $NODE1"; then
    N1="$(json_field uuid)"
    LEFT_NODES+=("$N1")
    check "node create echoes name, driver, resource class, chassis" \
        'd["name"] == a[0] and d["driver"] == "fake-hardware" and d["resource_class"] == "baremetal" and d["chassis_uuid"] == a[1]' \
        "$NODE1" "$CHASSIS"
    check "node create stores property cpus=4" 'str(d["properties"].get("cpus")) == "4"'
    check "new node is in provision state enroll" 'd["provision_state"] == "enroll" and d["maintenance"] is False'
fi

bm node create --driver fake-hardware --name "$NODE2" --resource-class smoke-other -f json
if ran_ok "node create $NODE2"; then
    N2="$(json_field uuid)"
    LEFT_NODES+=("$N2")
fi

bm node list -f json
ran_ok "node list" &&
    check "node list shows both nodes by uuid and name" \
        'len(by("uuid", a[0])) == 1 and by("uuid", a[0])[0].get("name") == a[1] and len(by("uuid", a[2])) == 1' \
        "$N1" "$NODE1" "$N2"

bm node list --long -f json
ran_ok "node list --long" &&
    check "node list --long has driver and resource class" \
        'by("uuid", a[0]) and by("uuid", a[0])[0].get("driver") == "fake-hardware" and by("uuid", a[0])[0].get("resource_class") == "baremetal" and "properties" in by("uuid", a[0])[0]' \
        "$N1"

bm node list --fields uuid name -f json
ran_ok "node list --fields uuid name" &&
    check "node list --fields returns only uuid and name" \
        'rows and all(set(r) == {"uuid", "name"} for r in rows) and by("uuid", a[0])[0]["name"] == a[1]' \
        "$N1" "$NODE1"

bm node list --driver fake-hardware -f json
ran_ok "node list --driver fake-hardware" &&
    check "driver filter keeps both nodes" 'by("uuid", a[0]) and by("uuid", a[1])' "$N1" "$N2"

bm node list --resource-class baremetal -f json
ran_ok "node list --resource-class baremetal" &&
    check "resource class filter keeps node 1 and drops node 2" \
        'by("uuid", a[0]) and not by("uuid", a[1])' "$N1" "$N2"

bm node list --provision-state enroll -f json
ran_ok "node list --provision-state enroll" &&
    check "provision state filter keeps both enroll nodes" 'by("uuid", a[0]) and by("uuid", a[1])' "$N1" "$N2"

bm node list --maintenance -f json
ran_ok "node list --maintenance" &&
    check "maintenance filter excludes nodes not in maintenance" \
        'not by("uuid", a[0]) and not by("uuid", a[1])' "$N1" "$N2"

bm node show "$NODE1" -f json
ran_ok "node show by name" &&
    check "node show by name returns the node" 'd["uuid"] == a[0] and d["name"] == a[1]' "$N1" "$NODE1"

bm node show "$N1" -f json
ran_ok "node show by uuid" &&
    check "node show by uuid returns the node" 'd["uuid"] == a[0] and d["name"] == a[1]' "$N1" "$NODE1"

bm node show "$N1" -f value -c provision_state
ran_ok "node show -f value -c provision_state" &&
    if [[ "$OUT" == enroll ]]; then pass "value output is 'enroll'"; else fail "value output is 'enroll'" "got: $OUT"; fi

# set / unset
bm node set "$NODE1" --property memory_mb=1024 --extra smoke=yes
ran_ok "node set --property --extra" || :
bm node show "$N1" -f json
ran_ok "node show after set" &&
    check "properties and extra were updated" \
        'str(d["properties"].get("memory_mb")) == "1024" and str(d["properties"].get("cpus")) == "4" and d["extra"].get("smoke") == "yes"'

bm node unset "$NODE1" --property memory_mb --extra smoke
ran_ok "node unset --property --extra" || :
bm node show "$N1" -f json
ran_ok "node show after unset" &&
    check "memory_mb and extra.smoke are gone, cpus kept" \
        '"memory_mb" not in d["properties"] and "smoke" not in d["extra"] and str(d["properties"].get("cpus")) == "4"'

bm node set "$N1" --driver-info ipmi_password=smoke-secret --driver-info ipmi_username=admin
ran_ok "node set --driver-info" || :
bm node show "$N1" -f json
ran_ok "node show after driver-info set" &&
    check "driver_info masks the password and shows the username" \
        'd["driver_info"].get("ipmi_password") == "******" and d["driver_info"].get("ipmi_username") == "admin"'
bm node show "$N1" -f value -c driver_info
if ran_ok "node show -f value -c driver_info"; then
    if [[ "$OUT" == *"******"* && "$OUT" != *secret* ]]; then
        pass "the password never appears in clear"
    else
        fail "the password never appears in clear" "got: $OUT"
    fi
fi

bm node unset "$N1" --driver-info ipmi_password
ran_ok "node unset --driver-info" || :
bm node show "$N1" -f json
ran_ok "node show after driver-info unset" &&
    check "ipmi_password removed, ipmi_username kept" \
        '"ipmi_password" not in d["driver_info"] and d["driver_info"].get("ipmi_username") == "admin"'

# traits
bm node add trait "$NODE1" CUSTOM_SMOKE_A CUSTOM_SMOKE_B
ran_ok "node add trait" || :
bm node trait list "$NODE1" -f value
ran_ok "node trait list" &&
    if [[ "$(sort <<<"$OUT" | tr '\n' ' ')" == "CUSTOM_SMOKE_A CUSTOM_SMOKE_B " ]]; then
        pass "node trait list shows both traits"
    else
        fail "node trait list shows both traits" "got: $OUT"
    fi
bm node remove trait "$NODE1" CUSTOM_SMOKE_A
ran_ok "node remove trait" || :
bm node trait list "$N1" -f json
ran_ok "node trait list after remove" &&
    check "only CUSTOM_SMOKE_B is left" '[r.get("traits") for r in rows] == ["CUSTOM_SMOKE_B"]'
bm node show "$N1" -f json
ran_ok "node show traits" &&
    check "node show lists the trait" 'd.get("traits") == ["CUSTOM_SMOKE_B"]'

# maintenance
REASON="smoke test $RUN"
bm node maintenance set "$NODE1" --reason "$REASON"
ran_ok "node maintenance set --reason" || :
bm node show "$N1" -f json
ran_ok "node show in maintenance" &&
    check "maintenance is true with the reason" 'd["maintenance"] is True and d["maintenance_reason"] == a[0]' "$REASON"
bm node list --maintenance -f json
ran_ok "node list --maintenance (node 1 in maintenance)" &&
    check "maintenance filter now includes node 1 only" 'by("uuid", a[0]) and not by("uuid", a[1])' "$N1" "$N2"
bm node maintenance unset "$NODE1"
ran_ok "node maintenance unset" || :
bm node show "$N1" -f json
ran_ok "node show after maintenance unset" &&
    check "maintenance is false and the reason cleared" 'd["maintenance"] is False and not d["maintenance_reason"]'

# ---------------------------------------------------------------- ports

P1=""
bm port create "$MAC1" --node "$N1" --extra smoke=1 -f json
if ran_ok "port create $MAC1"; then
    P1="$(json_field uuid)"
    LEFT_PORTS+=("$P1")
    check "port create echoes address and node" 'd["address"] == a[0] and d["node_uuid"] == a[1]' "$MAC1" "$N1"
fi

bm port list -f json
ran_ok "port list" &&
    check "port list includes the port" 'len(by("uuid", a[0])) == 1 and by("uuid", a[0])[0].get("address") == a[1]' "$P1" "$MAC1"

bm port list --node "$NODE1" -f json
ran_ok "port list --node" &&
    check "port list --node has exactly this node's port" '[r.get("uuid") for r in rows] == [a[0]]' "$P1"

bm port list --node "$NODE2" -f json
ran_ok "port list --node (node without ports)" &&
    check "the other node has no ports" 'rows == []'

bm port show "$P1" -f json
ran_ok "port show" &&
    check "port show returns address, node and extra" \
        'd["address"] == a[0] and d["node_uuid"] == a[1] and str(d["extra"].get("smoke")) == "1"' "$MAC1" "$N1"

bm port show --address "$MAC1" -f value -c uuid
ran_ok "port show --address" &&
    if [[ "$OUT" == "$P1" ]]; then pass "port show --address finds the port"; else fail "port show --address finds the port" "got: $OUT"; fi

bm port set "$P1" --extra vlan=100
ran_ok "port set --extra" || :
bm port show "$P1" -f json
ran_ok "port show after set" &&
    check "port extra was updated" 'str(d["extra"].get("vlan")) == "100" and str(d["extra"].get("smoke")) == "1"'

bm port create "$MAC1" --node "$N2" -f json
ran_fail "port create with a duplicate MAC is refused as a conflict" "already exists|conflict|409"

bm port delete "$P1"
if ran_ok "port delete"; then
    forget LEFT_PORTS "$P1"
fi
bm port show "$P1" -f json
ran_fail "deleted port is gone" "not found|could not be found|404"

# ---------------------------------------------------------------- port groups

PG=""
bm port group create --node "$N1" --name "$PG_NAME" --address "$MAC2" --mode 802.3ad -f json
if ran_ok "port group create $PG_NAME"; then
    PG="$(json_field uuid)"
    LEFT_PORTGROUPS+=("$PG")
    check "port group create echoes name, address, mode, node" \
        'd["name"] == a[0] and d["address"] == a[1] and d["mode"] == "802.3ad" and d["node_uuid"] == a[2]' \
        "$PG_NAME" "$MAC2" "$N1"
fi

bm port group list -f json
ran_ok "port group list" &&
    check "port group list includes the group" 'len(by("uuid", a[0])) == 1 and by("uuid", a[0])[0].get("name") == a[1]' "$PG" "$PG_NAME"

bm port group show "$PG_NAME" -f json
ran_ok "port group show by name" &&
    check "port group show by name returns the group" 'd["uuid"] == a[0]' "$PG"

P3=""
bm port create "$MAC3" --node "$N1" --port-group "$PG" -f json
if ran_ok "port create in port group"; then
    P3="$(json_field uuid)"
    LEFT_PORTS+=("$P3")
    check "port belongs to the port group" 'd["portgroup_uuid"] == a[0]' "$PG"
fi

bm port list --port-group "$PG_NAME" -f json
ran_ok "port list --port-group (name)" &&
    check "the group's port list has exactly the new port" '[r.get("uuid") for r in rows] == [a[0]]' "$P3"

bm port list --port-group "$PG" -f json
ran_ok "port list --port-group (uuid)" &&
    check "same result by group uuid" '[r.get("uuid") for r in rows] == [a[0]]' "$P3"

bm port delete "$P3"
if ran_ok "port delete (port group member)"; then
    forget LEFT_PORTS "$P3"
fi
bm port group delete "$PG"
if ran_ok "port group delete"; then
    forget LEFT_PORTGROUPS "$PG"
fi
bm port group list -f json
ran_ok "port group list after delete" &&
    check "the group is gone" 'not by("uuid", a[0])' "$PG"

# ---------------------------------------------------------------- conductors and drivers

bm conductor list -f json
ran_ok "conductor list" &&
    check "one conductor is alive" 'len(rows) >= 1 and all(r.get("alive") is True for r in rows)'
bm driver list -f json
ran_ok "driver list" &&
    check "fake-hardware is served by a conductor" \
        'any(r.get("supported_driver(s)", r.get("name")) == "fake-hardware" and r.get("active_host(s)", r.get("hosts")) for r in rows)'
bm driver show fake-hardware -f json
ran_ok "driver show fake-hardware" &&
    check "fake-hardware defaults to the fake power interface" 'd.get("default_power_interface") == "fake"'

# ---------------------------------------------------------------- lifecycle

NODE3="smoke-life-$RUN"
N3=""
bm node create --driver fake-hardware --name "$NODE3" --resource-class "smoke-rc-$RUN" -f json
if ran_ok "node create $NODE3 (lifecycle)"; then
    N3="$(json_field uuid)"
    LEFT_NODES+=("$N3")
fi

bm node power on "$NODE3"
ran_ok "node power on" || :
for _ in $(seq 1 50); do
    bm node show "$NODE3" -f value -c power_state
    [[ "$OUT" == "power on" ]] && break
    sleep 0.2
done
[[ "$OUT" == "power on" ]] && pass "node is powered on" || fail "node is powered on" "power_state: $OUT"

bm node boot device set "$NODE3" disk --persistent
ran_ok "node boot device set disk --persistent" || :
bm node boot device show "$NODE3" -f json
ran_ok "node boot device show" &&
    check "boot device is disk, persistent" 'd["boot_device"] == "disk" and d["persistent"] is True'
bm node boot device show "$NODE3" --supported -f json
ran_ok "node boot device show --supported" &&
    check "fake-hardware supports pxe and disk" '"pxe" in d["supported_boot_devices"] and "disk" in d["supported_boot_devices"]'

for verb in manage provide; do
    bm node "$verb" "$NODE3" --wait 60
    ran_ok "node $verb --wait" || :
done

bm allocation create --resource-class "smoke-rc-$RUN" --name "smoke-alloc-$RUN" --wait 60 -f json
ran_ok "allocation create --wait" &&
    check "the allocation got the node" 'd["state"] == "active" and d["node_uuid"] == a[0]' "$N3"
bm allocation list -f json
ran_ok "allocation list" &&
    check "the allocation is listed" 'len(by("name", a[0])) == 1' "smoke-alloc-$RUN"
bm allocation delete "smoke-alloc-$RUN"
ran_ok "allocation delete" || :

for verb in deploy undeploy; do
    bm node "$verb" "$NODE3" --wait 60
    ran_ok "node $verb --wait" || :
done
bm node show "$NODE3" -f json
ran_ok "node show after the lifecycle" &&
    check "the node is available again, powered off, with no instance" \
        'd["provision_state"] == "available" and d["power_state"] == "power off" and d["instance_info"] == {} and d["last_error"] is None'

bm node inspect "$NODE3" --wait 60
ran_fail "inspect is refused while available" "can not be performed|400"

bm node power off "$NODE3"
ran_ok "node power off" || :

# ---------------------------------------------------------------- a redfish node

# With a Redfish emulator at hand (lab/run-tests.sh exports its URL), enroll a real
# BMC-backed node the way an operator would.
if [[ -n "${FERRIC_TEST_REDFISH_URL:-}" ]]; then
    NODE4="smoke-redfish-$RUN"
    N4=""
    bm node create --driver redfish --name "$NODE4" \
        --driver-info redfish_address="$FERRIC_TEST_REDFISH_URL" \
        --driver-info redfish_system_id=00000000-0000-4000-8000-000000000004 \
        --driver-info redfish_username=admin --driver-info redfish_password=smoke-secret -f json
    if ran_ok "node create --driver redfish"; then
        N4="$(json_field uuid)"
        LEFT_NODES+=("$N4")
        check "the redfish password is masked" 'd["driver_info"]["redfish_password"] == "******"'
    fi
    bm node validate "$NODE4" -f json
    ran_ok "node validate (redfish)" &&
        check "redfish power validates" 'any(r.get("interface") == "power" and r.get("result") is True for r in rows)'
    bm node manage "$NODE4" --wait 60
    ran_ok "node manage --wait (redfish verifies against the BMC)" || :
    bm node power on "$NODE4"
    ran_ok "node power on (redfish)" || :
    for _ in $(seq 1 60); do
        bm node show "$NODE4" -f value -c power_state
        [[ "$OUT" == "power on" ]] && break
        sleep 0.5
    done
    [[ "$OUT" == "power on" ]] && pass "the redfish node is powered on" || fail "the redfish node is powered on" "power_state: $OUT"
    bm node power off "$NODE4"
    ran_ok "node power off (redfish)" || :
    bm node delete "$N4"
    if ran_ok "node delete (redfish)"; then
        forget LEFT_NODES "$N4"
    fi
fi

# ---------------------------------------------------------------- API 1.90 to 1.115

bm node set "$NODE3" --instance-name "smoke-instance-$RUN"
ran_ok "node set --instance-name" || :
bm node show "$NODE3" -f value -c instance_name
[[ "$OUT" == "smoke-instance-$RUN" ]] && pass "the node shows its instance name" ||
    fail "the node shows its instance name" "instance_name: $OUT"

# A noop network interface only records the VIF: no network service is asked.
bm port create "$MAC4" --node "$N3" -f json
if ran_ok "port create on the lifecycle node"; then
    LEFT_PORTS+=("$(json_field uuid)")
fi
bm node vif attach "$NODE3" "smoke-vif-$RUN"
ran_ok "node vif attach on a noop node" || :
bm node vif list "$NODE3" -f json
ran_ok "node vif list" &&
    check "the VIF is listed" 'by("id", a[0])' "smoke-vif-$RUN"
bm node vif detach "$NODE3" "smoke-vif-$RUN"
ran_ok "node vif detach" || :

RUNBOOK="smoke-runbook-$RUN"
bm runbook create --name "$RUNBOOK" \
    --steps '[{"interface": "deploy", "step": "erase_devices", "args": {}, "order": 1}]' -f json
if ran_ok "runbook create"; then
    check "the runbook has its step" 'd["steps"][0]["step"] == "erase_devices"'
fi
bm runbook trait add "$RUNBOOK" CUSTOM_SMOKE_RUNBOOK
ran_ok "runbook trait add" || :
bm runbook trait list "$RUNBOOK" -f json
ran_ok "runbook trait list" &&
    check "the trait is listed" 'by("traits", "CUSTOM_SMOKE_RUNBOOK")'
bm runbook set "$RUNBOOK" --description "smoke"
ran_ok "runbook set --description" || :
bm runbook list -f json
ran_ok "runbook list" && check "the runbook is listed" 'by("name", a[0])' "$RUNBOOK"
bm runbook create --name "$RUNBOOK" --steps '[]' -f json
ran_fail "a runbook without steps is refused" "too short|steps|400"
bm runbook delete "$RUNBOOK"
ran_ok "runbook delete" || :

bm inspection rule create --description "smoke-$RUN" --priority 10 \
    --conditions '[{"op": "eq", "args": {"values": [1, 1]}}]' \
    --actions '[{"op": "add-trait", "args": {"name": "CUSTOM_SMOKE"}}]' -f json
RULE=""
if ran_ok "inspection rule create"; then
    RULE="$(json_field uuid)"
fi
bm inspection rule list -f json
ran_ok "inspection rule list" &&
    check "the rule is listed" 'any(r.get("uuid") == a[0] for r in rows)' "$RULE"
bm inspection rule create --actions '[{"op": "no-such-op", "args": {}}]' -f json
ran_fail "a rule with an unknown action is refused, naming it" "action 1"
[[ -z "$RULE" ]] || { bm inspection rule delete "$RULE"; ran_ok "inspection rule delete" || :; }

bm volume connector create --node "$N3" --type iqn --connector-id "iqn.2026-12.org.ferric:$RUN" -f json
VC=""
if ran_ok "volume connector create"; then
    VC="$(json_field uuid)"
fi
bm volume connector list --node "$N3" -f json
ran_ok "volume connector list --node" &&
    check "the connector is listed" 'any(r.get("uuid") == a[0] for r in rows)' "$VC"
bm volume target create --node "$N3" --type iscsi --boot-index 0 --volume-id "vol-$RUN" -f json
VT=""
if ran_ok "volume target create"; then
    VT="$(json_field uuid)"
fi
bm volume target create --node "$N3" --type iscsi --boot-index 0 --volume-id "vol2-$RUN" -f json
ran_fail "a second boot index 0 is refused" "boot index|already exists|409"
[[ -z "$VT" ]] || { bm volume target delete "$VT"; ran_ok "volume target delete" || :; }
[[ -z "$VC" ]] || { bm volume connector delete "$VC"; ran_ok "volume connector delete" || :; }

# openstacksdk, used the way its users do.
if "$VENV/bin/python" lab/sdk-parity.py "$ENDPOINT" "$RUN" >"$TMP/sdk.out" 2>&1; then
    pass "openstacksdk: runbooks, inspection rules, volumes and instance_name"
else
    fail "openstacksdk: runbooks, inspection rules, volumes and instance_name" "$(cat "$TMP/sdk.out")"
fi

# ---------------------------------------------------------------- errors

bm node show "$MISSING" -f json
ran_fail "node show of a missing node fails with not found" "not found|could not be found|404"

bm node create --driver fake-hardware --name "$NODE1" -f json
ran_fail "node create with a duplicate name is refused" "already exists|conflict|409"
if [[ $RC -eq 0 ]]; then
    # It was created after all: make sure it is cleaned up.
    DUP="$(json_field uuid)"
    [[ -z "$DUP" ]] || LEFT_NODES+=("$DUP")
fi

# ---------------------------------------------------------------- teardown

for pair in "$N1:$NODE1" "$N2:$NODE2" "$N3:$NODE3"; do
    uuid="${pair%%:*}"
    name="${pair#*:}"
    bm node delete "$uuid"
    if ran_ok "node delete $name"; then
        forget LEFT_NODES "$uuid"
    fi
done
bm node list -f json
ran_ok "node list after delete" &&
    check "both nodes are gone" 'not by("uuid", a[0]) and not by("uuid", a[1])' "$N1" "$N2"

bm chassis delete "$CHASSIS"
if ran_ok "chassis delete"; then
    forget LEFT_CHASSIS "$CHASSIS"
fi
bm chassis show "$CHASSIS" -f json
ran_fail "deleted chassis is gone" "not found|could not be found|404"

summary
[[ $FAILED -eq 0 ]]
