#!/usr/bin/env bash
# lab/postgres.sh — a disposable PostgreSQL server for Ferric's tests.
#
#   lab/postgres.sh start DIR   create a cluster under DIR if there is none yet,
#                               start it and print its URL as the last stdout line
#   lab/postgres.sh stop DIR    stop the server whose cluster lives under DIR
#   lab/postgres.sh status DIR  exit 0 if that server is running, 3 if not
#
# Layout under DIR: data/ (the cluster), postgres.log (server log), initdb.log
# and the unix socket (.s.PGSQL.PORT).  The server listens on 127.0.0.1 only, on port
# ${FERRIC_PG_PORT:-54329}, with durability switched off (fsync,
# synchronous_commit, full_page_writes) because the data is thrown away.
# Authentication is "trust" for the socket and for 127.0.0.1.
#
# initdb and postgres refuse to run as root, so when run as root the server
# programs run as the "postgres" system user and DIR is handed over to it.
# This script installs nothing: the binaries are looked up via
# `pg_config --bindir`, /usr/lib/postgresql/*/bin, then PATH.
#
# Only the URL goes to stdout; every message goes to stderr, so
#   DATABASE_URL=$(lab/postgres.sh start /tmp/ferric-pg)
# works as expected.
set -euo pipefail

PORT="${FERRIC_PG_PORT:-54329}"
PG_USER_ACCOUNT=postgres
READY_TIMEOUT=30

die() {
    printf 'postgres.sh: error: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'postgres.sh: %s\n' "$*" >&2
}

usage() {
    printf 'usage: %s start|stop|status DIR\n' "$0" >&2
    exit 2
}

# Print the directory holding initdb/pg_ctl/postgres, or fail.
find_bindir() {
    local dir candidate
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Newest version first.
    while IFS= read -r candidate; do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k4,4 -V -r)
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# Run a server-side program as the account that owns the cluster.
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u "$PG_USER_ACCOUNT" -- "$@")
    else
        (cd / && "$@")
    fi
}

is_running() {
    as_pg "$BINDIR/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

# Port of the running server, read from postmaster.pid (4th line).
running_port() {
    sed -n '4p' "$DATA/postmaster.pid" 2>/dev/null || true
}

ensure_database() {
    local port="$1" exists
    exists="$("$BINDIR/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -tAc "SELECT 1 FROM pg_database WHERE datname = 'ferric'")" \
        || die "could not query the server on 127.0.0.1:$port"
    if [[ "$exists" != "1" ]]; then
        "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U postgres ferric \
            || die "could not create database ferric"
        note "created database ferric"
    fi
}

write_hba() {
    cat >"$DATA/pg_hba.conf" <<'EOF'
# Written by lab/postgres.sh: throwaway test cluster, no passwords.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
EOF
}

cmd_start() {
    if [[ "$(id -u)" -eq 0 ]]; then
        getent passwd "$PG_USER_ACCOUNT" >/dev/null 2>&1 \
            || die "running as root but there is no '$PG_USER_ACCOUNT' system user to run the server as (install PostgreSQL first, e.g. from .ci/run)"
    fi

    mkdir -p "$DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown -R "$PG_USER_ACCOUNT:" "$DIR"
        chmod 700 "$DIR"
        as_pg test -w "$DIR" -a -x "$DIR" \
            || die "user '$PG_USER_ACCOUNT' cannot reach $DIR (a parent directory is not searchable); pick a directory such as /tmp/ferric-pg"
    fi

    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        if [[ -e "$DATA" ]] && [[ -n "$(ls -A "$DATA")" ]]; then
            die "$DATA exists, is not empty and is not a PostgreSQL cluster"
        fi
        note "initialising a new cluster in $DATA"
        if ! as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1; then
            cat "$DIR/initdb.log" >&2 || true
            die "initdb failed"
        fi
        write_hba
        if [[ "$(id -u)" -eq 0 ]]; then
            chown "$PG_USER_ACCOUNT:" "$DATA/pg_hba.conf"
        fi
    fi

    if is_running; then
        local current
        current="$(running_port)"
        note "server for $DIR is already running (port ${current:-unknown})"
        [[ -n "$current" ]] || die "cannot tell which port the running server uses"
        PORT="$current"
    else
        # The settings are given on the command line so that a different
        # FERRIC_PG_PORT takes effect on the next start without editing files.
        local opts
        opts="-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR'"
        opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        opts+=" -c max_connections=300"
        note "starting server on 127.0.0.1:$PORT (log: $LOG)"
        as_pg "$BINDIR/pg_ctl" start -W -D "$DATA" -l "$LOG" -o "$opts" >&2 \
            || die "pg_ctl start failed; see $LOG"

        local waited=0
        while :; do
            # Give pg_ctl's freshly forked postmaster a moment to write its pid file.
            if ((waited >= 1)) && ! is_running; then
                note "last lines of $LOG:"
                tail -n 8 "$LOG" >&2 || true
                die "server exited during startup (is port $PORT already in use?)"
            fi
            if "$BINDIR/pg_isready" -q -t 2 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres; then
                break
            fi
            if ((waited >= READY_TIMEOUT)); then
                note "last lines of $LOG:"
                tail -n 8 "$LOG" >&2 || true
                die "server did not accept connections on 127.0.0.1:$PORT within ${READY_TIMEOUT}s"
            fi
            sleep 1
            waited=$((waited + 1))
        done
    fi

    ensure_database "$PORT"
    printf 'postgres://postgres@127.0.0.1:%s/ferric\n' "$PORT"
}

cmd_stop() {
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        note "no cluster in $DATA; nothing to stop"
        return 0
    fi
    if ! is_running; then
        note "server for $DIR is not running"
        return 0
    fi
    as_pg "$BINDIR/pg_ctl" stop -D "$DATA" -m fast -w >&2 \
        || die "pg_ctl stop failed"
}

cmd_status() {
    if [[ -f "$DATA/PG_VERSION" ]] && is_running; then
        note "running on 127.0.0.1:$(running_port)"
        return 0
    fi
    note "not running"
    return 3
}

[[ $# -eq 2 ]] || usage
ACTION="$1"
[[ -n "$2" ]] || usage
if [[ "$ACTION" == start ]]; then
    mkdir -p "$2"
elif [[ ! -d "$2" ]]; then
    note "$2 does not exist; nothing to do"
    [[ "$ACTION" == stop ]] && exit 0
    exit 3
fi
# Absolute path: the server programs run from / and the socket path must be absolute.
DIR="$(cd "$2" && pwd -P)"
[[ "$DIR" != *"'"* ]] || die "DIR must not contain a single quote"
DATA="$DIR/data"
LOG="$DIR/postgres.log"

[[ "$PORT" =~ ^[0-9]+$ ]] || die "FERRIC_PG_PORT must be a number, got '$PORT'"

BINDIR="$(find_bindir)" \
    || die "PostgreSQL server binaries (initdb, pg_ctl) not found via pg_config --bindir, /usr/lib/postgresql/*/bin or PATH; install PostgreSQL first (that is .ci/run's job)"
for prog in initdb pg_ctl pg_isready psql createdb; do
    [[ -x "$BINDIR/$prog" ]] || die "$BINDIR/$prog is missing"
done

case "$ACTION" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) usage ;;
esac
