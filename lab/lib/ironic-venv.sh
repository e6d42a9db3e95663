# lab/lib/ironic-venv.sh — the OpenStack Ironic 39 virtualenv the lab's Ironic
# checks share: lab/ironic-agent-compat.sh runs Ironic from it, and
# lab/sushy-client-sim.sh uses the sushy it ships with. Sourced after
# lib/python-peer.sh with LAB_DIR set; sets VENV and defines venv_ready.

IRONIC_VERSION="39.*"
VENV="$LAB_DIR/ironic-venv"

venv_ready() {
    [[ -x "$VENV/bin/ironic" ]] && "$VENV/bin/python" -c \
        'from importlib import metadata; import sys; sys.exit(0 if metadata.version("ironic").startswith("39.") else 1)' \
        >/dev/null 2>&1
}

# ensure_ironic_venv — builds the virtualenv once (under python-peer.sh's lock).
ensure_ironic_venv() {
    ensure_venv "ironic==$IRONIC_VERSION"
}

# start_ironic CONF DIR API — creates Ironic's schema and starts Ironic with CONF
# in the background, its output in DIR (ironic.out, dbsync.log); its PID goes in
# IRONIC_PID and on the caller's `pids` list (stopped by the caller's cleanup).
# Returns once the API at API answers and the conductor has registered
# fake-hardware (the API answers before the conductor has its hardware types).
start_ironic() {
    local conf="$1" dir="$2" api="$3"
    "$VENV/bin/ironic-dbsync" --config-file "$conf" create_schema >"$dir/dbsync.log" 2>&1 \
        || { cat "$dir/dbsync.log" >&2; die "ironic-dbsync failed"; }
    "$VENV/bin/ironic" --config-file "$conf" >"$dir/ironic.out" 2>&1 &
    IRONIC_PID=$!
    pids+=("$IRONIC_PID")
    for _ in $(seq 1 300); do
        curl -sf "$api/" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf "$api/" >/dev/null && kill -0 "$IRONIC_PID" 2>/dev/null \
        || { tail -n 30 "$dir/ironic.out" >&2; die "Ironic did not start"; }
    local drivers
    for _ in $(seq 1 300); do
        drivers=$(curl -sf "$api/v1/drivers" -H "X-OpenStack-Ironic-API-Version: 1.89" || true)
        [[ "$drivers" == *fake-hardware* ]] && return 0
        sleep 0.2
    done
}
