# shellcheck shell=bash
# lab/lib/vm-lab.sh — what the lab's VM scripts (lab/vm-deploy.sh, lab/ipa-deploy.sh)
# share around their run: stopping what they started, failing with the logs that
# explain why, and cleaning up. Sourced, not run.
#
# The caller defines note, sets WORK (its scratch folder, holding ferricd.log and
# the VM's serial-*.log), pids (what it started) and vm_pid (the running VM, or
# empty), and traps EXIT to `vm_lab_cleanup NAMESPACE...`.

# stop PID — ends a process this script started, if it still runs.
stop() { [ -n "${1:-}" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }

# fail WHY — reports the failure with ferricd's warnings and the VM consoles' tails.
fail() {
    echo "not ok - $*"
    note "--- ferricd log"; grep -E "WARN|ERROR" "$WORK/ferricd.log" | tail -n 15 >&2 || true
    for f in "$WORK"/serial-*.log; do [ -f "$f" ] && { note "--- $f"; tr -d '\r' <"$f" | tail -n 30 >&2; }; done
    exit 1
}

# vm_lab_cleanup NAMESPACE... — stops the VM and every recorded process, deletes the
# namespaces and the scratch folder; FERRIC_LAB_KEEP=DIR keeps the logs (ferricd's,
# the VM consoles') there first.
vm_lab_cleanup() {
    stop "$vm_pid"
    for p in "${pids[@]}"; do stop "$p"; done
    [ -n "${FERRIC_LAB_KEEP:-}" ] && mkdir -p "$FERRIC_LAB_KEEP" && cp "$WORK"/*.log "$FERRIC_LAB_KEEP"/ 2>/dev/null
    for ns in "$@"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
