#!/usr/bin/env bash
# Builds ferric-agent as a static (musl) binary for any initramfs and checks that it
# is static and runs. Installs the musl target and musl-gcc (for ring's C parts) when
# they are missing. Prints the stripped binary's path.
#   lab/build-agent-static.sh [OUT]      (default target/ferric-agent.static)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
OUT="${1:-${CARGO_TARGET_DIR:-target}/ferric-agent.static}"
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET" >/dev/null
if ! command -v musl-gcc >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi
cargo build --locked --release --target "$TARGET" -p ferric-agent >&2
BIN="${CARGO_TARGET_DIR:-target}/$TARGET/release/ferric-agent"
strip -o "$OUT" "$BIN"
if ! file "$OUT" | grep -Eq 'static(-pie)? linked|statically linked'; then
    echo "not ok - $OUT is not statically linked: $(file "$OUT")" >&2
    exit 1
fi
"$OUT" --version >/dev/null
echo "$OUT"
