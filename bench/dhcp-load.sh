#!/usr/bin/env bash
# Load benchmark of Ferric's DHCP server with real packets: the server (the
# `dhcp_serve` example of ferric-boot: the production engine, answering every MAC
# with a boot target) in one network namespace, Kea's `perfdhcp` in another, a veth
# between them. perfdhcp runs four-way exchanges (DISCOVER/OFFER/REQUEST/ACK) for
# CLIENTS distinct MACs at RATE exchanges/s for SECONDS and reports what got through,
# drops and round-trip times.
#   bench/dhcp-load.sh [RATE] [CLIENTS] [SECONDS]     (defaults 2000 10000 10)
# Needs root, `ip`, and perfdhcp (Debian's kea-admin).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${1:-2000}"
CLIENTS="${2:-10000}"
SECONDS_RUN="${3:-10}"
S="fdls$$"
C="fdlc$$"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
}
trap cleanup EXIT
command -v perfdhcp >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kea-admin >/dev/null

cargo build --release --locked -q -p ferric-boot --example dhcp_serve
SERVE="${CARGO_TARGET_DIR:-target}/release/examples/dhcp_serve"

ip netns add "$S"
ip netns add "$C"
ip link add fdl0 netns "$S" type veth peer name fdl1 netns "$C"
ip -n "$S" addr add 10.249.0.1/16 dev fdl0
ip -n "$C" addr add 10.249.255.254/16 dev fdl1
ip -n "$S" link set fdl0 up
ip -n "$C" link set fdl1 up
# A /16 pool: room for every client.
ip netns exec "$S" "$SERVE" fdl0 10.249.0.1 10.249.1.0 10.249.254.255 &
pid=$!
sleep 0.5

echo "== perfdhcp: $CLIENTS clients, $RATE exchanges/s for $SECONDS_RUN s"
ip netns exec "$C" perfdhcp -4 -l fdl1 -r "$RATE" -R "$CLIENTS" -p "$SECONDS_RUN" \
    -b mac=52:54:00:00:00:00 2>&1 | grep -E "sent packets|received packets|drops|min delay|avg delay|max delay|std deviation|collected packets|rate" || true
kill "$pid"; wait "$pid" || true; pid=""
