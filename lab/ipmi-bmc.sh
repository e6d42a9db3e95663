#!/usr/bin/env bash
# lab/ipmi-bmc.sh — throwaway IPMI BMCs for Ferric's tests.  The BMCs are
# emulated by lab/ipmi_bmc.py on top of pyghmi's BMC server class and speak
# IPMI 2.0 over RMCP+ (ipmitool -I lanplus, cipher suite 3) on 127.0.0.1 only.
#
#   lab/ipmi-bmc.sh start DIR [--port PORT] [--count N] [--user USER] [--password PASS]
#       start N BMCs (default 1) on UDP ports PORT..PORT+N-1 (default 6230),
#       wait until each answers "power status", print one 127.0.0.1:PORT
#       line per BMC and, as the last stdout line, the first port number
#   lab/ipmi-bmc.sh stop DIR
#       stop the processes recorded in DIR/pids (and nothing else)
#
# Default credentials are admin / password.  All BMCs are served by a single
# Python process (its PID is what DIR/pids holds); its log is DIR/ipmi-bmc.log.
# The password reaches it through the environment, never its command line.
#
# Each BMC mirrors its pretend machine to DIR/bmc-PORT.json after every
# change; tests may read it, or replace it (write + rename) to change the
# machine behind the BMC's back.  A start always begins from
#   {"power": "off", "boot_device": "none", "boot_persistent": false,
#    "boot_uefi": false, "nmi_count": 0, "reset_count": 0, "last_action": null}
# boot_device is one of none, pxe, disk, safe, diag, cdrom, bios, floppy
# (and the remote-* selectors); "power cycle", "power reset" and "power diag"
# on a machine that is off fail with completion code 0xd5, as on real BMCs.
#
# Talk to one with, e.g.
#   IPMI_PASSWORD=password ipmitool -I lanplus -H 127.0.0.1 -p 6230 -U admin -E power status
#
# pyghmi is installed on first use into a virtualenv at
# ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/ipmi-venv and reused afterwards
# (created with ${FERRIC_PYTHON:-python3}; python3-venv and ipmitool come from
# apt-get when missing and we are root).  Messages go to stderr.
set -euo pipefail

PYGHMI_VERSION=1.6.19
READY_TIMEOUT=20
STOP_TIMEOUT=10
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
VENV="$LAB_DIR/ipmi-venv"
PYTHON="${FERRIC_PYTHON:-python3}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
EMULATOR="$SCRIPT_DIR/ipmi_bmc.py"

die() {
    printf 'ipmi-bmc.sh: error: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'ipmi-bmc.sh: %s\n' "$*" >&2
}

# shellcheck source=lib/python-peer.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/python-peer.sh"

usage() {
    cat >&2 <<EOF
usage: $0 start DIR [--port PORT] [--count N] [--user USER] [--password PASS]
       $0 stop DIR
EOF
    exit 2
}

# ------------------------------------------------------------ prerequisites

ensure_ipmitool() {
    command -v ipmitool >/dev/null 2>&1 && return 0
    apt_install ipmitool || die "ipmitool is not installed (and we cannot apt-get it: not root)"
    command -v ipmitool >/dev/null 2>&1 || die "ipmitool still missing after apt-get"
}

venv_ready() {
    [[ -x "$VENV/bin/python" ]] || return 1
    "$VENV/bin/python" - "$PYGHMI_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
from importlib import metadata
import pyghmi.ipmi.bmc  # noqa: F401
sys.exit(0 if metadata.version("pyghmi") == sys.argv[1] else 1)
EOF
}

# ------------------------------------------------------------------ process

# True when PID is alive and is an emulator started for this DIR, so a
# recycled PID is never signalled.
is_our_emulator() {
    local pid="$1" cmdline
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
        [[ "$cmdline" == *ipmi_bmc.py*"--state-dir $DIR "* ]] || return 1
    fi
    return 0
}

stop_recorded() {
    local pid
    [[ -f "$PIDFILE" ]] || return 0
    while read -r pid; do
        [[ -n "$pid" ]] || continue
        if is_our_emulator "$pid"; then
            stop_pid "$pid"
            note "stopped pid $pid"
        else
            note "pid $pid recorded in $PIDFILE is gone or is another program; left alone"
        fi
    done <"$PIDFILE"
    rm -f "$PIDFILE"
}

# Does the BMC on port $1 answer "power status" with our credentials?
bmc_answers() {
    IPMI_PASSWORD="$PASSWORD" timeout 5 \
        ipmitool -I lanplus -H 127.0.0.1 -p "$1" -U "$USER_NAME" -E -N 1 -R 1 \
        power status >/dev/null 2>&1
}

# ----------------------------------------------------------------- commands

cmd_start() {
    local port=6230 count=1
    USER_NAME="admin"
    PASSWORD="password"
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) [[ $# -ge 2 ]] || usage; port="$2"; shift 2 ;;
            --port=*) port="${1#*=}"; shift ;;
            --count) [[ $# -ge 2 ]] || usage; count="$2"; shift 2 ;;
            --count=*) count="${1#*=}"; shift ;;
            --user) [[ $# -ge 2 ]] || usage; USER_NAME="$2"; shift 2 ;;
            --user=*) USER_NAME="${1#*=}"; shift ;;
            --password) [[ $# -ge 2 ]] || usage; PASSWORD="$2"; shift 2 ;;
            --password=*) PASSWORD="${1#*=}"; shift ;;
            *) note "unknown option '$1'"; usage ;;
        esac
    done
    [[ "$port" =~ ^[0-9]{1,5}$ ]] || die "--port must be a number, got '$port'"
    [[ "$count" =~ ^[0-9]{1,4}$ ]] || die "--count must be a number, got '$count'"
    port=$((10#$port))
    count=$((10#$count))
    ((count >= 1 && count <= 1000)) || die "--count must be 1..1000, got $count"
    ((port >= 1 && port + count - 1 <= 65535)) || die "ports $port..$((port + count - 1)) are out of range"
    [[ -n "$USER_NAME" && ${#USER_NAME} -le 16 ]] || die "--user must be 1..16 characters"
    [[ -n "$PASSWORD" && ${#PASSWORD} -le 20 ]] || die "--password must be 1..20 characters"
    [[ -f "$EMULATOR" ]] || die "$EMULATOR is missing"

    # A start always means fresh BMCs: replace any still running for DIR.
    stop_recorded
    local p
    for ((p = port; p < port + count; p++)); do
        rm -f "$DIR/bmc-$p.json" "$DIR/bmc-$p.json.tmp"
    done

    ensure_ipmitool
    ensure_venv "pyghmi==$PYGHMI_VERSION"

    note "starting $count BMC(s) on 127.0.0.1:$port..$((port + count - 1))/udp as $USER_NAME (log: $LOG)"
    FERRIC_IPMI_PASSWORD="$PASSWORD" PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
        nohup "$VENV/bin/python" "$EMULATOR" --port "$port" --count "$count" \
        --user "$USER_NAME" --state-dir "$DIR" \
        </dev/null >"$LOG" 2>&1 &
    local pid=$!
    printf '%s\n' "$pid" >"$PIDFILE"

    # The emulator writes the state files only once every socket is bound,
    # so a rival already on one of the ports makes it exit instead.
    local deadline=$((SECONDS + READY_TIMEOUT))
    for ((p = port; p < port + count; p++)); do
        until [[ -f "$DIR/bmc-$p.json" ]] && bmc_answers "$p"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null || true
                show_log_tail
                rm -f "$PIDFILE"
                die "the emulator exited during startup"
            fi
            if ((SECONDS >= deadline)); then
                show_log_tail
                stop_pid "$pid"
                rm -f "$PIDFILE"
                die "BMC on 127.0.0.1:$p did not answer 'power status' within ${READY_TIMEOUT}s"
            fi
            sleep 0.1
        done
    done
    kill -0 "$pid" 2>/dev/null || { show_log_tail; rm -f "$PIDFILE"; die "the emulator exited during startup"; }

    note "ready (pid $pid); state files $DIR/bmc-PORT.json"
    for ((p = port; p < port + count; p++)); do
        printf '127.0.0.1:%d\n' "$p"
    done
    printf '%d\n' "$port"
}

# --------------------------------------------------------------------- main

[[ $# -ge 2 && -n "$2" ]] || usage
ACTION="$1"
case "$ACTION" in
    start) mkdir -p "$2" ;;
    stop)
        [[ $# -eq 2 ]] || usage
        if [[ ! -d "$2" ]]; then
            note "$2 does not exist; nothing to stop"
            exit 0
        fi
        ;;
    *) usage ;;
esac
DIR="$(cd "$2" && pwd -P)"
PIDFILE="$DIR/pids"
LOG="$DIR/ipmi-bmc.log"
shift 2

case "$ACTION" in
    start) cmd_start "$@" ;;
    stop) stop_recorded ;;
esac
