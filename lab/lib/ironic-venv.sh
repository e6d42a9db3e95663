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
