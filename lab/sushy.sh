#!/usr/bin/env bash
# lab/sushy.sh — a throwaway Redfish BMC for Ferric's tests, served by the
# sushy-tools emulator (sushy-emulator) with its fake systems driver.
#
#   lab/sushy.sh start DIR [--port PORT] [--systems N] [--auth USER:PASSWORD] [--instant]
#       start an emulator whose files all live under DIR and print its base
#       URL (http://127.0.0.1:PORT) as the last stdout line
#   lab/sushy.sh stop DIR     stop the emulator started for DIR (by its PID)
#   lab/sushy.sh status DIR   exit 0 (and print the URL) if it runs, 3 if not
#
# Options of start:
#   --port PORT        TCP port on 127.0.0.1; default ${FERRIC_SUSHY_PORT:-8000}
#   --systems N        number of fake systems, 1..255; default 4
#   --auth USER:PASS   every resource except the service root (/redfish/v1)
#                      then needs HTTP basic auth with these credentials
#   --instant          power changes (ComputerSystem.Reset) take effect at
#                      once instead of after the fake driver's random delay
#
# Systems are deterministic: system i (1..N) has
#   UUID 00000000-0000-4000-8000-<i as 12 hex digits>, name ferric-<i, 2 digits>,
#   PowerState Off and one NIC with MAC 52:54:00:aa:00:<i as 2 hex digits>.
# Their UUIDs are written one per line to DIR/systems.txt.
#
# Layout under DIR (the script owns it): state/ (the emulator's databases, wiped
# on every start so each run begins from the same state), emulator.conf,
# htpasswd (with --auth), ferric_instant_power.py (with --instant), sushy.log,
# sushy.pid, sushy.url.
#
# sushy-tools is installed on first use into a virtualenv at
# ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/sushy-venv and reused afterwards.
# No libvirt is needed.  The Python used to create it is ${FERRIC_PYTHON:-python3};
# when it lacks venv support and we are root on Debian, python3-venv is installed.
#
# Only the URL goes to stdout; every message goes to stderr, so
#   REDFISH_URL=$(lab/sushy.sh start /tmp/ferric-sushy --instant)
# works as expected.  A start that does not come up within ~20 s prints the
# end of the log and exits non-zero.
set -euo pipefail

SUSHY_TOOLS_VERSION=2.2.0
READY_TIMEOUT=20
STOP_TIMEOUT=10
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
VENV="$LAB_DIR/sushy-venv"
PYTHON="${FERRIC_PYTHON:-python3}"
INSTANT_MODULE=ferric_instant_power

die() {
    printf 'sushy.sh: error: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'sushy.sh: %s\n' "$*" >&2
}

# shellcheck source=lib/python-peer.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/python-peer.sh"

usage() {
    cat >&2 <<EOF
usage: $0 start DIR [--port PORT] [--systems N] [--auth USER:PASSWORD] [--instant]
       $0 stop DIR
       $0 status DIR
EOF
    exit 2
}

# ---------------------------------------------------------------- virtualenv

venv_ready() {
    [[ -x "$VENV/bin/python" && -x "$VENV/bin/sushy-emulator" ]] || return 1
    "$VENV/bin/python" - "$SUSHY_TOOLS_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
from importlib import metadata
import bcrypt, flask, sushy_tools.emulator.resources.systems.fakedriver  # noqa
sys.exit(0 if metadata.version("sushy-tools") == sys.argv[1] else 1)
EOF
}

# ------------------------------------------------------------------- process

# Succeeds when PID is alive and is the emulator started for this DIR (so a
# recycled PID belonging to something else is never signalled).
is_our_emulator() {
    local pid="$1" cmdline
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
        [[ "$cmdline" == *sushy-emulator*"$CONF"* ]] || return 1
    fi
    return 0
}

recorded_pid() {
    local pid=""
    if [[ -f "$PIDFILE" ]]; then
        read -r pid <"$PIDFILE" || true
    fi
    printf '%s\n' "$pid"
}

# shellcheck source=lib/ports.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/ports.sh"

# Does GET $1 answer with a 2xx status?
http_ok() {
    "$VENV/bin/python" - "$1" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as resp:
    sys.exit(0 if 200 <= resp.status < 300 else 1)
EOF
}

# ------------------------------------------------------------- configuration

write_config() {
    local n="$1" auth_file="$2" instant="$3" i uuid
    {
        printf '# Written by lab/sushy.sh on each start; edits are lost.\n'
        if [[ "$instant" == 1 ]]; then
            printf '# --instant: swap in a fake driver that applies power changes at once.\n'
            printf 'import importlib.util as _util\n'
            printf "_spec = _util.spec_from_file_location('%s', '%s')\n" \
                "$INSTANT_MODULE" "$DIR/$INSTANT_MODULE.py"
            printf '_module = _util.module_from_spec(_spec)\n'
            printf '_spec.loader.exec_module(_module)\n'
            printf '_module.install()\n'
            printf '\n'
        fi
        printf 'SUSHY_EMULATOR_FAKE_DRIVER = True\n'
        printf "SUSHY_EMULATOR_STATE_DIR = '%s'\n" "$STATE"
        printf "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\n"
        printf 'SUSHY_EMULATOR_LISTEN_PORT = %d\n' "$PORT"
        if [[ -n "$auth_file" ]]; then
            printf "SUSHY_EMULATOR_AUTH_FILE = '%s'\n" "$auth_file"
        fi
        printf 'SUSHY_EMULATOR_FAKE_SYSTEMS = [\n'
        for ((i = 1; i <= n; i++)); do
            uuid="$(printf '00000000-0000-4000-8000-%012x' "$i")"
            printf "    {\n"
            printf "        'uuid': '%s',\n" "$uuid"
            printf "        'name': 'ferric-%02d',\n" "$i"
            printf "        'power_state': 'Off',\n"
            printf "        'external_notifier': False,\n"
            printf "        'nics': [{'mac': '52:54:00:aa:00:%02x'}],\n" "$i"
            printf "    },\n"
        done
        printf ']\n'
    } >"$CONF"

    : >"$DIR/systems.txt"
    for ((i = 1; i <= n; i++)); do
        printf '00000000-0000-4000-8000-%012x\n' "$i" >>"$DIR/systems.txt"
    done
}

# The emulator only accepts bcrypt entries.  The cost is the minimum (4):
# every request re-checks the password and these credentials guard nothing.
write_htpasswd() {
    local user="$1" password="$2" file="$3"
    (
        umask 077
        FERRIC_SUSHY_USER="$user" FERRIC_SUSHY_PASSWORD="$password" \
            "$VENV/bin/python" -c '
import os, bcrypt
user = os.environ["FERRIC_SUSHY_USER"]
password = os.environ["FERRIC_SUSHY_PASSWORD"].encode()
digest = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4)).decode()
print(f"{user}:{digest}")
' >"$file"
    ) || die "could not write $file"
}

write_instant_module() {
    cat >"$DIR/$INSTANT_MODULE.py" <<'EOF'
"""Written by lab/sushy.sh for --instant.

sushy-tools' fake systems driver (FakeDriver in
sushy_tools.emulator.resources.systems.fakedriver) does not change the power
state when a Reset arrives: it stores a "pending_power" record due 1 to 11
seconds later and applies it on the first read after that time.  Tests that
only want to see Ferric drive the BMC do not need to wait for that.

The emulator has no setting that names the systems driver class: with
SUSHY_EMULATOR_FAKE_DRIVER it always calls fakedriver.FakeDriver, looked up
on the module when the first request needs the systems.  install(), called
from the config file (which the emulator loads before it serves anything),
puts a subclass in that place whose pending power changes are due at once and
are applied before the Reset request returns.
"""

from sushy_tools.emulator.resources.systems import fakedriver

_Original = fakedriver.FakeDriver

for _needed in ("set_power_state", "_update_if_needed", "_get"):
    if not hasattr(_Original, _needed):
        raise RuntimeError(
            "lab/sushy.sh --instant: sushy-tools' FakeDriver has no %s(); "
            "this sushy-tools version is not supported" % _needed)


class InstantPowerFakeDriver(_Original):
    """FakeDriver whose power changes take effect immediately."""

    def _update_if_needed(self, system):
        pending = system.get("pending_power")
        if pending:
            pending["apply_time"] = 0
        return super()._update_if_needed(system)

    def set_power_state(self, identity, state):
        super().set_power_state(identity, state)
        # Reading the system applies (and stores) the now-due change.
        self._get(identity)


def install():
    if fakedriver.FakeDriver is not InstantPowerFakeDriver:
        fakedriver.FakeDriver = InstantPowerFakeDriver
EOF
}

# ------------------------------------------------------------------ commands

cmd_start() {
    local n_systems=4 auth="" instant=0
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) [[ $# -ge 2 ]] || usage; PORT="$2"; shift 2 ;;
            --port=*) PORT="${1#*=}"; shift ;;
            --systems) [[ $# -ge 2 ]] || usage; n_systems="$2"; shift 2 ;;
            --systems=*) n_systems="${1#*=}"; shift ;;
            --auth) [[ $# -ge 2 ]] || usage; auth="$2"; shift 2 ;;
            --auth=*) auth="${1#*=}"; shift ;;
            --instant) instant=1; shift ;;
            *) note "unknown option '$1'"; usage ;;
        esac
    done
    if ! [[ "$PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
        die "port must be a number from 1 to 65535, got '$PORT'"
    fi
    PORT=$((10#$PORT))
    if ! [[ "$n_systems" =~ ^[0-9]{1,3}$ ]] || ((10#$n_systems < 1 || 10#$n_systems > 255)); then
        die "--systems must be a number from 1 to 255, got '$n_systems'"
    fi
    n_systems=$((10#$n_systems))
    local user="" password=""
    if [[ -n "$auth" ]]; then
        [[ "$auth" == *:* ]] || die "--auth wants USER:PASSWORD"
        user="${auth%%:*}"
        password="${auth#*:}"
        [[ -n "$user" && -n "$password" ]] || die "--auth wants a non-empty USER and PASSWORD"
        [[ "$user" =~ ^[^[:space:]]+$ ]] || die "--auth: USER must not contain white space"
    fi

    # A start always means a fresh emulator: replace one still running for DIR.
    local old
    old="$(recorded_pid)"
    if is_our_emulator "$old"; then
        note "stopping the emulator already running for $DIR (pid $old)"
        stop_pid "$old"
    fi
    rm -f "$PIDFILE" "$URLFILE"

    if port_in_use "$PORT"; then
        die "something already listens on 127.0.0.1:$PORT; pick another --port"
    fi

    ensure_venv "sushy-tools==$SUSHY_TOOLS_VERSION" bcrypt

    rm -rf "$STATE"
    mkdir -p "$STATE"
    rm -f "$DIR/htpasswd" "$DIR/$INSTANT_MODULE.py"
    local auth_file=""
    if [[ -n "$auth" ]]; then
        auth_file="$DIR/htpasswd"
        write_htpasswd "$user" "$password" "$auth_file"
    fi
    if [[ "$instant" == 1 ]]; then
        write_instant_module
    fi
    write_config "$n_systems" "$auth_file" "$instant"

    local url="http://127.0.0.1:$PORT" extras=""
    [[ -z "$auth" ]] || extras+=", basic auth"
    [[ "$instant" != 1 ]] || extras+=", instant power changes"
    note "starting sushy-emulator on $url with $n_systems systems$extras (log: $LOG)"
    # SUSHY_EMULATOR_CONFIG would make the emulator read a second config file.
    env -u SUSHY_EMULATOR_CONFIG PYTHONDONTWRITEBYTECODE=1 \
        nohup "$VENV/bin/sushy-emulator" --config "$CONF" -i 127.0.0.1 -p "$PORT" \
        </dev/null >"$LOG" 2>&1 &
    local pid=$!
    printf '%s\n' "$pid" >"$PIDFILE"

    local deadline=$((SECONDS + READY_TIMEOUT))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            show_log_tail
            rm -f "$PIDFILE"
            die "sushy-emulator exited during startup"
        fi
        if http_ok "$url/redfish/v1/"; then
            break
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail
            stop_pid "$pid"
            rm -f "$PIDFILE"
            die "sushy-emulator did not answer GET $url/redfish/v1/ within ${READY_TIMEOUT}s"
        fi
        sleep 0.2
    done
    # The answer must have come from our process, not from a late-binding rival.
    kill -0 "$pid" 2>/dev/null || { show_log_tail; rm -f "$PIDFILE"; die "sushy-emulator exited during startup"; }

    printf '%s\n' "$url" >"$URLFILE"
    note "ready (pid $pid); system UUIDs in $DIR/systems.txt"
    printf '%s\n' "$url"
}

cmd_stop() {
    local pid
    pid="$(recorded_pid)"
    if [[ -z "$pid" ]]; then
        note "no emulator recorded in $PIDFILE; nothing to stop"
        return 0
    fi
    if is_our_emulator "$pid"; then
        stop_pid "$pid"
        note "stopped the emulator (pid $pid)"
    else
        note "the emulator recorded for $DIR is not running (pid $pid is gone or is another program)"
    fi
    rm -f "$PIDFILE" "$URLFILE"
}

cmd_status() {
    local pid url=""
    pid="$(recorded_pid)"
    if is_our_emulator "$pid"; then
        [[ -f "$URLFILE" ]] && read -r url <"$URLFILE"
        note "running (pid $pid)${url:+ at $url}"
        [[ -n "$url" ]] && printf '%s\n' "$url"
        return 0
    fi
    note "not running"
    return 3
}

# --------------------------------------------------------------------- main

[[ $# -ge 2 ]] || usage
ACTION="$1"
[[ -n "$2" ]] || usage
case "$ACTION" in
    start) mkdir -p "$2" ;;
    stop | status)
        [[ $# -eq 2 ]] || usage
        if [[ ! -d "$2" ]]; then
            note "$2 does not exist; no emulator there"
            [[ "$ACTION" == stop ]] && exit 0
            exit 3
        fi
        ;;
    *) usage ;;
esac
DIR="$(cd "$2" && pwd -P)"
# DIR is written into the Python config inside single quotes.
[[ "$DIR" != *[\'\\]* && "$DIR" != *$'\n'* ]] || die "DIR must not contain quotes, backslashes or newlines"
STATE="$DIR/state"
CONF="$DIR/emulator.conf"
LOG="$DIR/sushy.log"
PIDFILE="$DIR/sushy.pid"
URLFILE="$DIR/sushy.url"
PORT="${FERRIC_SUSHY_PORT:-8000}"
shift 2

case "$ACTION" in
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
esac
