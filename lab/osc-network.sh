#!/usr/bin/env bash
# lab/osc-network.sh ENDPOINT [BAREMETAL_ENDPOINT] — Ferric's network API driven by
# the real `openstack network / subnet / port` commands (python-openstackclient, no
# Keystone: OS_AUTH_TYPE=none, OS_ENDPOINT=ENDPOINT, the address of ferricd's
# --network-api-listen). Creates a VLAN network, a subnet with pools, VIF ports with
# fixed IPs, DHCP options and a bare-metal binding profile; checks what the client
# prints, the conflicts (VLAN, MAC and address in use, network in use) and the
# refusals of bad input; with BAREMETAL_ENDPOINT (ferricd's API) also attaches a VIF
# to a node with `openstack baremetal node vif attach/list/detach`; removes
# everything again.
# Output: "ok - …" / "not ok - …" lines, then "N passed, M failed"; exit 0 only when
# nothing failed. Uses the client venv of lab/ironicclient-smoke.sh.
set -uo pipefail
ENDPOINT="${1:?usage: lab/osc-network.sh ENDPOINT [BAREMETAL_ENDPOINT]}"
BM_ENDPOINT="${2:-}"
VENV="${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/osc-venv"
export OS_AUTH_TYPE=none OS_ENDPOINT="$ENDPOINT"
TMP="$(mktemp -d /tmp/ferric-oscnet.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0
RUN=$$

os() { timeout 60 "$VENV/bin/openstack" "$@" >"$TMP/out" 2>"$TMP/err"; }
ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
bad() { FAILED=$((FAILED + 1)); echo "not ok - $1"; sed 's/^/#   /' "$TMP/err" "$TMP/out" | head -n 8; }
# expect DESC PYTHON-EXPR: the last command succeeded and EXPR holds for its JSON `d`.
expect() {
    if [ -s "$TMP/out" ] && python3 -c "import json,sys; d=json.load(open('$TMP/out')); sys.exit(0 if ($2) else 1)" 2>>"$TMP/err"; then
        ok "$1"
    else
        bad "$1"
    fi
}
# refused DESC REGEX: the last command failed with stderr matching REGEX.
refused() {
    if [ "$RC" -ne 0 ] && grep -Eqi "$2" "$TMP/err"; then ok "$1"; else bad "$1 (exit $RC)"; fi
}
run() { os "$@"; RC=$?; }

NET="tenant-$RUN"
run network create -f json --provider-network-type vlan --provider-physical-network physnet1 \
    --provider-segment 100 --share "$NET"
expect "network create (vlan 100 on physnet1, shared)" \
    "d['name'] == '$NET' and d['provider:network_type'] == 'vlan' and d['provider:segmentation_id'] == 100 and d['shared'] is True"
NET_ID="$(python3 -c "import json; print(json.load(open('$TMP/out'))['id'])" 2>/dev/null)"
run network list -f json
expect "network list shows it" "any(n['Name'] == '$NET' for n in d)"
run network show -f json "$NET"
expect "network show by name" "d['id'] == '$NET_ID' and d['provider:physical_network'] == 'physnet1'"
run network create --provider-network-type vlan --provider-physical-network physnet1 --provider-segment 100 "dup-$RUN"
refused "a second network on VLAN 100 of physnet1 is refused" "VLAN 100.*in use"
run network create --provider-network-type vlan --provider-physical-network physnet1 "noseg-$RUN"
refused "a VLAN network without a segment is refused" "segmentation_id required"

SUB="sub-$RUN"
run subnet create -f json --network "$NET" --subnet-range 10.0.0.0/24 --gateway 10.0.0.1 \
    --dns-nameserver 10.0.0.53 --allocation-pool start=10.0.0.10,end=10.0.0.100 "$SUB"
expect "subnet create" \
    "d['cidr'] == '10.0.0.0/24' and d['gateway_ip'] == '10.0.0.1' and d['network_id'] == '$NET_ID'"
run subnet show -f json "$SUB"
expect "subnet show: pools and DNS" \
    "d['allocation_pools'] == [{'start': '10.0.0.10', 'end': '10.0.0.100'}] and d['dns_nameservers'] == ['10.0.0.53']"
run subnet create --network "$NET" --subnet-range 10.1.0.0/24 --gateway 10.2.0.1 "badgw-$RUN"
refused "a gateway outside the subnet is refused" "not a host address"
run subnet create --network "$NET" --subnet-range 10.0.0.128/25 "overlap-$RUN"
refused "an overlapping subnet is refused" "overlaps"

PROFILE='{"local_link_information": [{"switch_id": "aa:bb:cc:dd:ee:ff", "port_id": "Ethernet1/1", "switch_info": "tor1"}]}'
run port create -f json --network "$NET" --mac-address 52:54:00:aa:bb:cc \
    --fixed-ip subnet="$SUB",ip-address=10.0.0.20 --extra-dhcp-option name=bootfile-name,value=x.efi \
    --binding-profile "$PROFILE" --vnic-type baremetal "port-$RUN"
expect "port create with a fixed IP, a DHCP option and a binding profile" \
    "d['mac_address'] == '52:54:00:aa:bb:cc' and d['fixed_ips'][0]['ip_address'] == '10.0.0.20' and d['binding_vnic_type'] == 'baremetal'"
run port show -f json "port-$RUN"
expect "port show: DHCP option and local_link_information" \
    "d['extra_dhcp_opts'][0]['opt_name'] == 'bootfile-name' and d['binding_profile']['local_link_information'][0]['port_id'] == 'Ethernet1/1'"
run port create -f json --network "$NET" "auto-$RUN"
expect "a port without an address gets the pool's first" \
    "d['fixed_ips'][0]['ip_address'] == '10.0.0.10' and d['mac_address'].startswith('fa:16:3e:')"
run port create --network "$NET" --mac-address 52:54:00:aa:bb:cc "dupmac-$RUN"
refused "a MAC already on the network is refused" "mac address 52:54:00:aa:bb:cc is in use"
run port create --network "$NET" --fixed-ip subnet="$SUB",ip-address=10.0.0.20 "dupip-$RUN"
refused "an address already allocated is refused" "already allocated"
run port list -f json --mac-address 52:54:00:aa:bb:cc
expect "port list --mac-address" "len(d) == 1 and d[0]['Name'] == 'port-$RUN'"
run port set --binding-profile '{"local_link_information": []}' --host node-1 "port-$RUN"
run port show -f json "port-$RUN"
expect "port set --host binds it" "d['binding_host_id'] == 'node-1' and d['status'] == 'ACTIVE'"

if [ -n "$BM_ENDPOINT" ]; then
    bmrun() { OS_ENDPOINT="$BM_ENDPOINT" run baremetal "$@"; }
    # flat: its VIFs are bound in the network service (noop would only record them).
    bmrun node create -f json --driver fake-hardware --network-interface flat --name "vifnode-$RUN"
    NODE_ID="$(python3 -c "import json; print(json.load(open('$TMP/out'))['uuid'])" 2>/dev/null)"
    bmrun port create -f json --node "$NODE_ID" --physical-network physnet1 \
        --local-link-connection switch_id=aa:bb:cc:dd:ee:ff --local-link-connection port_id=swp7 52:54:00:77:00:01
    AUTO_ID="$(OS_ENDPOINT="$ENDPOINT" "$VENV/bin/openstack" port show -f value -c id "auto-$RUN")"
    bmrun node vif attach "$NODE_ID" "$AUTO_ID"
    [ "$RC" -eq 0 ] && ok "baremetal node vif attach" || bad "baremetal node vif attach"
    bmrun node vif list -f json "$NODE_ID"
    expect "baremetal node vif list" "[v['id'] for v in d] == ['$AUTO_ID']"
    run port show -f json "auto-$RUN"
    expect "the VIF took the NIC's MAC and is bound to the node" \
        "d['mac_address'] == '52:54:00:77:00:01' and d['binding_host_id'] == '$NODE_ID'"
    run port delete "auto-$RUN"
    refused "an attached VIF cannot be deleted" "detach it first"
    bmrun node vif detach "$NODE_ID" "$AUTO_ID"
    [ "$RC" -eq 0 ] && ok "baremetal node vif detach" || bad "baremetal node vif detach"
    bmrun node delete "$NODE_ID"
fi

run network delete "$NET"
refused "a network with ports cannot be deleted" "in use"
run port delete "port-$RUN" "auto-$RUN"
[ "$RC" -eq 0 ] && ok "port delete" || bad "port delete"
run subnet delete "$SUB"
[ "$RC" -eq 0 ] && ok "subnet delete" || bad "subnet delete"
run network delete "$NET"
[ "$RC" -eq 0 ] && ok "network delete" || bad "network delete"
run network show "$NET"
refused "the network is gone" "No Network found"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
