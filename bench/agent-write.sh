#!/usr/bin/env bash
# Benchmark of the agent's image pipeline: ferric-agent (test mode) writes a raw image
# from a local HTTP server to a file disk; compared with `curl | dd oflag=direct` and
# `qemu-img convert` of the same bytes on the same machine. Reports throughput and the
# agent's peak RSS (VmHWM), which must stay flat as the image grows.
#   bench/agent-write.sh [SIZE_MIB]      (default 2048)
# Builds the release agent; everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-2048}"
WORK="$(mktemp -d /var/tmp/ferric-agent-bench.XXXXXX)"
PORT=18765
AGENT_PORT=18766
TOKEN=benchmark-token-0123456789abcdef0123456789
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --locked -q --bin ferric-agent
AGENT="${CARGO_TARGET_DIR:-target}/release/ferric-agent"

echo "== making a ${SIZE_MIB} MiB image"
head -c "$((SIZE_MIB * 1048576))" /dev/urandom > "$WORK/image.raw"
SHA=$(sha256sum "$WORK/image.raw" | cut -d' ' -f1)
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/image.raw"

mib_per_s() { python3 -c "print(f'{$SIZE_MIB / $1:.0f}')"; }
now() { date +%s.%N; }

echo "== ferric-agent write_image"
truncate -s "$((SIZE_MIB + 64))M" "$WORK/disk-agent.img"
echo "ipa-agent-token=$TOKEN" > "$WORK/cmdline"
"$AGENT" --disk "$WORK/disk-agent.img" --mac 52:54:00:00:00:01 --listen "127.0.0.1:$AGENT_PORT" \
    --plain-http --cmdline "$WORK/cmdline" --log warn &
apid=$!
pids+=($apid)
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$AGENT_PORT/v1/status" && break; sleep 0.1; done
t0=$(now)
curl -sf -X POST "http://127.0.0.1:$AGENT_PORT/v1/commands/?wait=true&agent_token=$TOKEN" \
    -H 'Content-Type: application/json' -d "{\"name\":\"deploy.execute_deploy_step\",\"params\":{\"step\":{\"interface\":\"deploy\",\"step\":\"write_image\",\"args\":{\"image_info\":{\"id\":\"image.raw\",\"urls\":[\"$URL\"],\"disk_format\":\"raw\",\"os_hash_algo\":\"sha256\",\"os_hash_value\":\"$SHA\"}}},\"node\":{},\"ports\":[]}}" \
    > "$WORK/result.json"
t1=$(now)
grep -q SUCCEEDED "$WORK/result.json" || { cat "$WORK/result.json"; exit 1; }
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$apid/status")
agent_s=$(python3 -c "print($t1 - $t0)")
cmp -n "$((SIZE_MIB * 1048576))" "$WORK/image.raw" "$WORK/disk-agent.img" >/dev/null || { echo "disk differs"; exit 1; }
rm -f "$WORK/disk-agent.img"

echo "== curl | dd oflag=direct"
truncate -s "$((SIZE_MIB + 64))M" "$WORK/disk-dd.img"
t0=$(now)
curl -sf "$URL" | dd of="$WORK/disk-dd.img" bs=4M oflag=direct iflag=fullblock conv=notrunc status=none
sync
t1=$(now)
dd_s=$(python3 -c "print($t1 - $t0)")
rm -f "$WORK/disk-dd.img"

echo "== qemu-img convert (local file, raw → raw, cache=none)"
truncate -s "$((SIZE_MIB + 64))M" "$WORK/disk-qemu.img"
t0=$(now)
qemu-img convert -f raw -O raw -t none -n "$WORK/image.raw" "$WORK/disk-qemu.img"
t1=$(now)
qemu_s=$(python3 -c "print($t1 - $t0)")

printf '\n%-40s %8s %10s\n' "" "seconds" "MiB/s"
printf '%-40s %8.2f %10s\n' "ferric-agent (download+sha256+write)" "$agent_s" "$(mib_per_s "$agent_s")"
printf '%-40s %8.2f %10s\n' "curl | dd bs=4M oflag=direct" "$dd_s" "$(mib_per_s "$dd_s")"
printf '%-40s %8.2f %10s\n' "qemu-img convert -t none" "$qemu_s" "$(mib_per_s "$qemu_s")"
printf 'ferric-agent peak RSS: %s KiB for a %s MiB image\n' "$hwm" "$SIZE_MIB"
