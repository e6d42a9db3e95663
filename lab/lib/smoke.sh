# shellcheck shell=bash
# lab/lib/smoke.sh — what the ferricd smoke scripts share (http-basic, identity,
# tls, keystone): a scratch directory, the openstack client's virtualenv, stopping
# the ferricd they start (its PID in ferricd_pid) on exit, and failing with the end
# of its log. Sourced from the repository root; a script may define
# smoke_extra_cleanup before calling smoke_init.

# smoke_init NAME — the scratch directory /tmp/ferric-NAME.*, cleaned up on exit.
smoke_init() {
    VENV="${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/osc-venv"
    WORK="$(mktemp -d "/tmp/ferric-$1.XXXXXX")"
    ferricd_pid=""
    trap smoke_cleanup EXIT
    [ -x "$VENV/bin/openstack" ] || fail "no openstack client in $VENV (lab/ironicclient-smoke.sh installs it)"
}

smoke_cleanup() {
    [ -n "$ferricd_pid" ] && kill "$ferricd_pid" 2>/dev/null && wait "$ferricd_pid" 2>/dev/null
    if declare -F smoke_extra_cleanup >/dev/null; then smoke_extra_cleanup; fi
    rm -rf "$WORK"
}

fail() {
    echo "not ok - $*"
    tail -n 20 "$WORK/ferricd.log" 2>/dev/null | sed 's/^/#   /'
    exit 1
}
