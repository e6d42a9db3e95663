# lab/lib/python-peer.sh — what the Python-based peers (lab/sushy.sh,
# lab/ipmi-bmc.sh) share: apt fallbacks, a virtualenv built once under a
# lock, stopping a PID politely, and showing a log's tail.  Sourced, not run.
#
# The caller defines die, note and venv_ready, and sets PYTHON, VENV,
# LAB_DIR, STOP_TIMEOUT and LOG.

# Installs apt packages when we are root on a Debian-like system; fails otherwise.
apt_install() {
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        note "installing $* with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || die "apt-get update failed"
        apt-get install -y -qq "$@" >&2 || die "apt-get install $* failed"
        return 0
    fi
    return 1
}

# Makes sure "$PYTHON -m venv" can work; on a bare Debian install the missing
# pieces (python3, python3-venv) come from apt when we are allowed to.
ensure_base_python() {
    if command -v "$PYTHON" >/dev/null 2>&1 \
        && "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        return 0
    fi
    apt_install python3 python3-venv || true
    command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
    "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 \
        || die "$PYTHON cannot create virtualenvs (install python3 and python3-venv, or set FERRIC_PYTHON)"
}

# install_venv REQUIREMENT... — (re)creates $VENV and pip-installs the requirements.
install_venv() {
    venv_ready && return 0
    ensure_base_python
    local started=$SECONDS
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
        note "creating virtualenv $VENV"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV" >&2 || die "could not create virtualenv $VENV"
    fi
    note "installing $* into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2 \
        || die "pip install $* failed"
    venv_ready || die "$* still not importable from $VENV after installing"
    note "virtualenv ready in $((SECONDS - started)) s"
}

# ensure_venv REQUIREMENT... — concurrent starts build the virtualenv once; the
# lock is held in a subshell so the emulator started afterwards does not
# inherit its descriptor.
ensure_venv() {
    mkdir -p "$LAB_DIR"
    local lock="$LAB_DIR/$(basename "$VENV").lock"
    if command -v flock >/dev/null 2>&1; then
        (
            flock -w 900 9 || die "timed out waiting for $lock"
            install_venv "$@"
        ) 9>"$lock"
    else
        install_venv "$@"
    fi
}

# stop_pid PID — SIGTERM, then SIGKILL after $STOP_TIMEOUT seconds.
stop_pid() {
    local pid="$1" waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            note "pid $pid ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

show_log_tail() {
    if [[ -s "$LOG" ]]; then
        note "last lines of $LOG:"
        tail -n 25 "$LOG" >&2 || true
    else
        note "$LOG is empty"
    fi
}
