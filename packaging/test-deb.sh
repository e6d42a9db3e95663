#!/usr/bin/env bash
# Tests Ferric's Debian package in a clean root, as a new machine would get it:
#   packaging/test-deb.sh DEB
#   1. a fresh Debian bookworm root (debootstrap minbase + systemd and procps,
#      cached as a tarball under ~/.cache/ferric-lab; ~30 s cold) gets the package
#      with dpkg;
#   2. the package made the `ferric` user, /var/lib/ferric and a configuration only
#      root and ferric read; `systemd-analyze verify` passes on both units there;
#   3. ferricd starts as `ferric` from the unit's own ExecStart line (on a free
#      loopback port given by FERRIC_LISTEN, as an operator's environment file
#      would), answers the API and the dashboard, and the packaged `ferric` lists
#      nodes; SIGTERM stops it cleanly; the static agent runs.
# Needs root (debootstrap, chroot). Everything listens on 127.0.0.1.
set -euo pipefail
DEB="$(realpath "$1")"
cd "$(dirname "$0")/.."
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
MIRROR="${FERRIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# What a standard Debian system has that the package needs: systemd and procps
# (whose kill the units' ExecReload runs). The name changes with the list.
ROOT_PACKAGES=systemd,procps
TARBALL="$LAB_DIR/debian-root-bookworm-minbase-${ROOT_PACKAGES//,/-}.tar"
note() { printf 'test-deb.sh: %s\n' "$*" >&2; }
fail() { note "not ok - $*"; exit 1; }

mkdir -p "$LAB_DIR"
if [ ! -f "$TARBALL" ]; then
    exec 9>"$LAB_DIR/debian-root.lock"
    flock 9
    if [ ! -f "$TARBALL" ]; then
        note "debootstrap bookworm (minbase + $ROOT_PACKAGES) from $MIRROR"
        BUILD="$(mktemp -d "$LAB_DIR/.debian-root.XXXXXX")"
        if ! debootstrap --variant=minbase --include="$ROOT_PACKAGES" bookworm "$BUILD" "$MIRROR" \
            >"$BUILD.log" 2>&1; then
            tail -n 20 "$BUILD.log" >&2
            rm -rf --one-file-system "$BUILD" "$BUILD.log"
            fail "debootstrap failed"
        fi
        tar -C "$BUILD" -cf "$TARBALL.partial" .
        mv "$TARBALL.partial" "$TARBALL"
        rm -rf --one-file-system "$BUILD" "$BUILD.log"
    fi
    exec 9>&-
fi

ROOT="$(mktemp -d /var/tmp/ferric-deb-root.XXXXXX)"
PID=""
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
    umount "$ROOT/proc" 2>/dev/null || true
    rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
tar -C "$ROOT" -xf "$TARBALL"
chmod 0755 "$ROOT"   # a root directory anybody may enter, as / is
cp "$DEB" "$ROOT/tmp/ferric.deb"
chroot "$ROOT" dpkg -i /tmp/ferric.deb >&2 || fail "dpkg -i failed"
note "ok - the package installs in a clean root"

chroot "$ROOT" getent passwd ferric >/dev/null || fail "no ferric user"
[ "$(chroot "$ROOT" stat -c %U:%a /var/lib/ferric)" = ferric:750 ] || fail "/var/lib/ferric: $(chroot "$ROOT" stat -c %U:%a /var/lib/ferric)"
[ "$(chroot "$ROOT" stat -c %U:%G:%a /etc/ferric/ferric.toml)" = root:ferric:640 ] \
    || fail "ferric.toml: $(chroot "$ROOT" stat -c %U:%G:%a /etc/ferric/ferric.toml)"
note "ok - the ferric user, its state directory, a configuration only it reads"

for unit in ferricd.service ferricd@api.service; do
    if ! out="$(systemd-analyze --root="$ROOT" verify "$unit" 2>&1)" || [ -n "$out" ]; then
        fail "systemd-analyze verify $unit: $out"
    fi
done
note "ok - systemd-analyze verify passes on ferricd.service and ferricd@.service"

EXEC="$(sed -n 's/^ExecStart=//p' "$ROOT/lib/systemd/system/ferricd.service")"
[ -n "$EXEC" ] || fail "ferricd.service has no ExecStart"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mount -t proc proc "$ROOT/proc"
# As the unit runs it: user ferric, in /var/lib/ferric.
# shellcheck disable=SC2086 # the ExecStart line is split into words as systemd does
chroot --userspec=ferric:ferric "$ROOT" env FERRIC_LISTEN="127.0.0.1:$PORT" HOME=/var/lib/ferric \
    sh -c "cd /var/lib/ferric && exec $EXEC" >"$ROOT/tmp/ferricd.log" 2>&1 &
PID=$!
up=0
for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$PORT/v1" >/dev/null; then up=1; break; fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
[ "$up" = 1 ] || { cat "$ROOT/tmp/ferricd.log" >&2; fail "ferricd did not answer from the unit's ExecStart"; }
curl -sf "http://127.0.0.1:$PORT/dashboard/" | grep -q "<html" || fail "no dashboard"
chroot "$ROOT" /usr/bin/ferric --url "http://127.0.0.1:$PORT" node list >/dev/null \
    || fail "the packaged ferric cannot list nodes"
[ -f "$ROOT/var/lib/ferric/ferric.db" ] || fail "no database in /var/lib/ferric"
note "ok - ferricd runs as ferric from the unit's ExecStart; API, dashboard, CLI answer"

kill -TERM "$PID"
status=0
wait "$PID" || status=$?
PID=""
[ "$status" = 0 ] || { cat "$ROOT/tmp/ferricd.log" >&2; fail "ferricd exited $status on SIGTERM"; }
chroot "$ROOT" /usr/lib/ferric/ferric-agent --version >/dev/null || fail "the static agent does not run"
note "ok - SIGTERM stops ferricd cleanly; the static agent runs"
