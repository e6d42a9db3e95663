#!/usr/bin/env bash
# Runs the README's two commands on a fresh Debian 12 machine, as a newcomer
# would: a new debootstrapped bookworm root with nothing but the Rust toolchain
# (this machine's rustup toolchain lent read-only, else rustup's installer) and
# what it needs (a C linker; curl, git and CA certificates, with this machine's
# site CAs from /usr/local/share/ca-certificates), a clone of this repository at
# HEAD, and then, in the root:
#   deps   lab/install-deps.sh alone: every package the tests need installs (~5 min)
#   demo   cargo run --release --bin ferric -- demo --exit          (~10 min)
#   tests  lab/run-tests.sh, the whole suite                          (~50 min)
#   all    demo, then tests (the default)
#     lab/fresh-debian.sh [deps|demo|tests|all] [ROOT_DIR]
# The root is kept (default /var/tmp/ferric-fresh-debian) for a look after a
# failure; delete it when done. Needs root (debootstrap, chroot, mounts) and the
# network (the Debian mirror, rustup, crates.io, PyPI). Everything the tests
# start listens on 127.0.0.1 or in namespaces they make, as on the host.
set -euo pipefail
STAGE="${1:-all}"
ROOT="$(realpath -m "${2:-/var/tmp/ferric-fresh-debian}")"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
MIRROR="${FERRIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
note() { printf 'fresh-debian.sh: %s\n' "$*" >&2; }
case "$STAGE" in deps | demo | tests | all) ;; *) note "unknown stage $STAGE"; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { note "needs root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null 2>&1 || apt-get install -y -qq debootstrap >/dev/null

if [ ! -x "$ROOT/usr/bin/gcc" ]; then
    note "debootstrap bookworm into $ROOT (minbase + a C linker, curl, CA certificates)"
    rm -rf --one-file-system "$ROOT"
    debootstrap --variant=minbase --include=ca-certificates,curl,gcc,libc6-dev,git \
        bookworm "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 \
        || { tail -n 20 "$ROOT.debootstrap.log" >&2; exit 1; }
fi

mounts=()
cleanup() {
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
# The root is a mount point of its own: `ip netns` (the namespace tests) remounts /
# in a new mount namespace, which fails on a directory that is not one.
mount --bind "$ROOT" "$ROOT"
mounts+=("$ROOT")
for m in proc sys dev dev/pts run; do
    mkdir -p "$ROOT/$m"
    case "$m" in
        proc) mount -t proc proc "$ROOT/proc" ;;
        run) mount -t tmpfs tmpfs "$ROOT/run" ;;
        *) mount --bind "/$m" "$ROOT/$m" ;;
    esac
    mounts+=("$ROOT/$m")
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# This machine's site CAs (a TLS-inspecting proxy's, say) go in too, or nothing in
# the root could fetch over HTTPS where this machine can only through them.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 \
        || { note "update-ca-certificates failed in the root"; exit 1; }
fi

in_root() {
    # pip and Python's requests read their own CA bundle unless pointed at the system's.
    local bundle=/etc/ssl/certs/ca-certificates.crt
    # Cargo's target directory outlives the clone, so a second stage in the same
    # root builds only what changed (the first builds everything from nothing).
    chroot "$ROOT" env -i HOME=/root PATH=/root/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        TERM=dumb PIP_CERT="$bundle" REQUESTS_CA_BUNDLE="$bundle" SSL_CERT_FILE="$bundle" \
        CARGO_TARGET_DIR=/var/cache/ferric-target \
        bash -c "cd /src 2>/dev/null || cd /; $1"
}
# The Rust toolchain: this machine's (rustup's), lent read-only, else rustup's
# installer. Cargo's own home in the root starts empty.
if [ -d "${RUSTUP_HOME:-$HOME/.rustup}/toolchains" ] && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    for pair in "${RUSTUP_HOME:-$HOME/.rustup}:/root/.rustup" "${CARGO_HOME:-$HOME/.cargo}/bin:/root/.cargo/bin"; do
        mkdir -p "$ROOT${pair#*:}"
        mount --bind "${pair%%:*}" "$ROOT${pair#*:}"
        mount -o remount,bind,ro "$ROOT${pair#*:}"
        mounts+=("$ROOT${pair#*:}")
    done
elif [ ! -x "$ROOT/root/.cargo/bin/cargo" ]; then
    note "rustup: the stable toolchain"
    in_root "set -o pipefail; curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy" >&2
fi
rm -rf "$ROOT/src"
git clone -q "$REPO" "$ROOT/src"

started=$SECONDS
case "$STAGE" in
    deps) in_root "bash lab/install-deps.sh" ;;
    demo) in_root "cargo run --release --bin ferric -- demo --exit" ;;
    tests) in_root "lab/run-tests.sh" ;;
    all)
        in_root "cargo run --release --bin ferric -- demo --exit"
        in_root "lab/run-tests.sh"
        ;;
esac
note "ok - $STAGE passed in a fresh Debian root in $((SECONDS - started)) s"
