#!/usr/bin/env bash
# lab/keystone.sh — a throwaway OpenStack Keystone (from PyPI) for Ferric's tests:
# SQLite backend, Fernet tokens, served by gunicorn on 127.0.0.1.
#
#   lab/keystone.sh start DIR [PORT] [TOKEN_SECONDS]
#       bootstrap (user admin, project admin, admin role on it and on the system,
#       the password in DIR/admin-password) and start Keystone; print its URL
#       (http://127.0.0.1:PORT) as the last stdout line
#   lab/keystone.sh stop DIR
#
# Keystone is installed on first use into ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/keystone-venv.
# Everything else lives under DIR, wiped on every start.
set -euo pipefail

KEYSTONE_VERSION="${FERRIC_KEYSTONE_VERSION:-30.*}"
READY_TIMEOUT=60
STOP_TIMEOUT=10
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
VENV="$LAB_DIR/keystone-venv"
# shellcheck disable=SC2034  # read by lib/python-peer.sh
PYTHON="${FERRIC_PYTHON:-python3}"

die() { printf 'keystone.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'keystone.sh: %s\n' "$*" >&2; }

# shellcheck source=lib/python-peer.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/python-peer.sh"

venv_ready() {
    [[ -x "$VENV/bin/keystone-manage" && -x "$VENV/bin/gunicorn" ]] && "$VENV/bin/python" -c \
        'from importlib import metadata; import sys; v = sys.argv[1].rstrip("*"); sys.exit(0 if metadata.version("keystone").startswith(v) else 1)' \
        "$KEYSTONE_VERSION" >/dev/null 2>&1
}

start() {
    local dir="$1" port="${2:-5001}" ttl="${3:-3600}"
    ensure_venv "keystone==$KEYSTONE_VERSION" gunicorn
    stop_keystone "$dir" 2>/dev/null || true
    rm -rf "$dir" && mkdir -p "$dir/fernet-keys" "$dir/credential-keys"
    cat >"$dir/keystone.conf" <<CONF
[DEFAULT]
log_file = $dir/keystone-app.log
[database]
connection = sqlite:///$dir/keystone.db
[token]
provider = fernet
expiration = $ttl
[fernet_tokens]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
CONF
    local manage=("$VENV/bin/keystone-manage" --config-file "$dir/keystone.conf")
    "${manage[@]}" db_sync >"$dir/manage.log" 2>&1 || { tail -n 20 "$dir/manage.log" >&2; die "db_sync failed"; }
    "${manage[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" >>"$dir/manage.log" 2>&1 \
        || die "fernet_setup failed"
    "${manage[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" >>"$dir/manage.log" 2>&1 \
        || die "credential_setup failed"
    local password
    password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '%s\n' "$password" >"$dir/admin-password"
    chmod 600 "$dir/admin-password"
    "${manage[@]}" bootstrap --bootstrap-password "$password" \
        --bootstrap-admin-url "http://127.0.0.1:$port/v3" \
        --bootstrap-public-url "http://127.0.0.1:$port/v3" \
        --bootstrap-internal-url "http://127.0.0.1:$port/v3" \
        --bootstrap-region-id RegionOne >>"$dir/manage.log" 2>&1 || die "bootstrap failed"
    # Keystone reads its options from sys.argv, which is gunicorn's: hide it.
    printf 'import sys\nsys.argv = sys.argv[:1]\nfrom keystone.wsgi.api import application  # noqa: E402,F401\n' \
        >"$dir/ferric_keystone_wsgi.py"
    OS_KEYSTONE_CONFIG_FILES="$dir/keystone.conf" "$VENV/bin/gunicorn" --bind "127.0.0.1:$port" \
        --workers 1 --threads 4 --pid "$dir/keystone.pid" --chdir "$dir" ferric_keystone_wsgi:application \
        >"$dir/keystone.log" 2>&1 &
    local started=$SECONDS
    until curl -sf "http://127.0.0.1:$port/v3" >/dev/null 2>&1; do
        if (( SECONDS - started > READY_TIMEOUT )); then
            tail -n 30 "$dir/keystone.log" >&2
            die "Keystone did not answer on 127.0.0.1:$port within ${READY_TIMEOUT} s"
        fi
        sleep 0.3
    done
    note "Keystone $("$VENV/bin/python" -c 'from importlib import metadata; print(metadata.version("keystone"))') serving on 127.0.0.1:$port"
    echo "http://127.0.0.1:$port"
}

stop_keystone() {
    [[ -f "$1/keystone.pid" ]] || return 0
    stop_pid "$(cat "$1/keystone.pid")"
}

case "${1:-}" in
    start) [[ $# -ge 2 ]] || die "usage: $0 start DIR [PORT] [TOKEN_SECONDS]"; start "$2" "${3:-}" "${4:-}" ;;
    stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop_keystone "$2" ;;
    *) die "usage: $0 start DIR [PORT] [TOKEN_SECONDS] | stop DIR" ;;
esac
