# shellcheck shell=bash
# lab/lib/fake-bmc.sh — the lab VM scripts' API calls and their stand-in BMC for a
# fake-hardware node whose machine is a QEMU VM (lab/vm-deploy.sh, lab/ipa-deploy.sh).
# Sourced, not run.
#
# The caller sets NS (the namespace ferricd runs in), API (its URL), NODE (the node's
# UUID, before play_bmc) and vm_pid (empty); defines note, stop and fail (as
# lab/lib/vm-lab.sh does) and `start_vm network|disk`, which starts the VM and sets
# vm_pid. It may define `on_poll`, run at every look at the node.

# bm METHOD PATH [JSON] — an Ironic API call to ferricd (as BM_AUTH=user:password
# over http_basic when set).
bm() {
    ip netns exec "$NS" curl -sS --fail-with-body -X "$1" "$API/v1$2" -H "X-OpenStack-Ironic-API-Version: 1.89" \
        ${BM_AUTH:+-u "$BM_AUTH"} -H "Content-Type: application/json" ${3:+-d "$3"}
}

# field PYTHON-SUBSCRIPT — a value of the JSON document on stdin.
field() { python3 -c "import sys, json; d = json.load(sys.stdin); print(d$1)"; }

# play_bmc UNTIL_STATE... — runs the VM as the node's power and boot device say
# (fake power and management: power_state, and the boot count and device in
# driver_internal_info) until the node reaches one of the states; 420 s at most.
booted=0
play_bmc() {
    local deadline=$((SECONDS + 420)) node state power count device
    while ((SECONDS < deadline)); do
        node=$(bm GET "/nodes/$NODE")
        state=$(echo "$node" | field '["provision_state"]')
        power=$(echo "$node" | field '["power_state"]')
        count=$(echo "$node" | field '["driver_internal_info"].get("fake_boot_count", 0)')
        device=$(echo "$node" | field '["driver_internal_info"].get("fake_boot_device", "pxe")')
        if [ "$power" != "power on" ] && [ -n "$vm_pid" ]; then
            stop "$vm_pid"; vm_pid=""
        fi
        if [ "$power" = "power on" ] && [ "$count" != "$booted" ]; then
            stop "$vm_pid"; vm_pid=""
            booted=$count
            if [ "$device" = pxe ]; then start_vm network; else start_vm disk; fi
        fi
        if declare -F on_poll >/dev/null; then on_poll; fi
        for want in "$@"; do [ "$state" = "$want" ] && return 0; done
        sleep 0.5
    done
    fail "node stayed in $state: $(echo "$node" | field '["last_error"]')"
}

# settled_in STATE WHAT — fails with the node's last_error unless it is in STATE.
settled_in() {
    [ "$(bm GET "/nodes/$NODE" | field '["provision_state"]')" = "$1" ] \
        || fail "$2: $(bm GET "/nodes/$NODE" | field '["last_error"]')"
}
