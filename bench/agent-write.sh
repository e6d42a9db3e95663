#!/usr/bin/env bash
# Benchmark of the agent's image pipeline: ferric-agent (test mode) writes a raw image
# from a local HTTP server to a file disk; compared with `curl | dd oflag=direct` and
# `qemu-img convert` of the same bytes on the same machine (from the local file: it
# has no download to do). Reports throughput, the ratios, and the agent's peak RSS
# (VmHWM), which must stay flat as the image grows.
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

qemu-img convert -f raw -O qcow2 "$WORK/image.raw" "$WORK/image.qcow2"
QSHA=$(sha256sum "$WORK/image.qcow2" | cut -d' ' -f1)
echo "ipa-agent-token=$TOKEN" > "$WORK/cmdline"

# agent_write NAME FORMAT SHA: one write_image through a fresh agent; sets
# agent_s (seconds) and hwm (peak RSS, KiB); checks the disk.
agent_write() {
    local name=$1 format=$2 sha=$3
    truncate -s "$((SIZE_MIB + 64))M" "$WORK/disk-agent.img"
    "$AGENT" --disk "$WORK/disk-agent.img" --mac 52:54:00:00:00:01 --listen "127.0.0.1:$AGENT_PORT" \
        --plain-http --cmdline "$WORK/cmdline" --log warn &
    local apid=$!
    pids+=($apid)
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$AGENT_PORT/v1/status" && break; sleep 0.1; done
    local t0 t1
    t0=$(now)
    curl -sf -X POST "http://127.0.0.1:$AGENT_PORT/v1/commands/?wait=true&agent_token=$TOKEN" \
        -H 'Content-Type: application/json' -d "{\"name\":\"deploy.execute_deploy_step\",\"params\":{\"step\":{\"interface\":\"deploy\",\"step\":\"write_image\",\"args\":{\"image_info\":{\"id\":\"$name\",\"urls\":[\"http://127.0.0.1:$PORT/$name\"],\"disk_format\":\"$format\",\"os_hash_algo\":\"sha256\",\"os_hash_value\":\"$sha\"}}},\"node\":{},\"ports\":[]}}" \
        > "$WORK/result.json"
    t1=$(now)
    grep -q SUCCEEDED "$WORK/result.json" || { cat "$WORK/result.json"; exit 1; }
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$apid/status")
    kill "$apid"; wait "$apid" 2>/dev/null || true
    agent_s=$(python3 -c "print($t1 - $t0)")
    cmp -n "$((SIZE_MIB * 1048576))" "$WORK/image.raw" "$WORK/disk-agent.img" >/dev/null || { echo "disk differs"; exit 1; }
    rm -f "$WORK/disk-agent.img"
}

echo "== ferric-agent write_image, raw"
agent_write image.raw raw "$SHA"
raw_s=$agent_s raw_hwm=$hwm
echo "== ferric-agent write_image, qcow2 (converted while streaming)"
agent_write image.qcow2 qcow2 "$QSHA"
qcow_s=$agent_s qcow_hwm=$hwm

echo "== curl | dd oflag=direct"
truncate -s "$((SIZE_MIB + 64))M" "$WORK/disk-dd.img"
t0=$(now)
curl -sf "$URL" | dd of="$WORK/disk-dd.img" bs=4M oflag=direct iflag=fullblock conv=notrunc status=none
sync
t1=$(now)
dd_s=$(python3 -c "print($t1 - $t0)")
rm -f "$WORK/disk-dd.img"

echo "== qemu-img convert (local files, cache=none)"
truncate -s "$((SIZE_MIB + 64))M" "$WORK/disk-qemu.img"
t0=$(now)
qemu-img convert -f raw -O raw -t none -n "$WORK/image.raw" "$WORK/disk-qemu.img"
t1=$(now)
qemu_s=$(python3 -c "print($t1 - $t0)")
t0=$(now)
qemu-img convert -f qcow2 -O raw -t none -n "$WORK/image.qcow2" "$WORK/disk-qemu.img"
t1=$(now)
qemu_q_s=$(python3 -c "print($t1 - $t0)")

rm -f "$WORK/disk-qemu.img"

printf '\n%-52s %8s %8s %12s\n' "" "seconds" "MiB/s" "peak RSS"
printf '%-52s %8.2f %8s %9s KiB\n' "ferric-agent raw (HTTP + sha256 + O_DIRECT write)" "$raw_s" "$(mib_per_s "$raw_s")" "$raw_hwm"
printf '%-52s %8.2f %8s %9s KiB\n' "ferric-agent qcow2 (HTTP + sha256 + conversion)" "$qcow_s" "$(mib_per_s "$qcow_s")" "$qcow_hwm"
printf '%-52s %8.2f %8s\n' "curl | dd bs=4M oflag=direct" "$dd_s" "$(mib_per_s "$dd_s")"
printf '%-52s %8.2f %8s\n' "qemu-img convert raw -t none (local file)" "$qemu_s" "$(mib_per_s "$qemu_s")"
printf '%-52s %8.2f %8s\n' "qemu-img convert qcow2 -t none (local file)" "$qemu_q_s" "$(mib_per_s "$qemu_q_s")"
# ratio A B: how fast A is against B (B's seconds over A's; above 1 is faster).
ratio() { python3 -c "print(f'{$2 / $1:.2f}x')"; }
echo
echo "ferric-agent raw   vs curl | dd:                    $(ratio "$raw_s" "$dd_s")"
echo "ferric-agent raw   vs qemu-img convert (local file): $(ratio "$raw_s" "$qemu_s")"
echo "ferric-agent qcow2 vs qemu-img convert (local file): $(ratio "$qcow_s" "$qemu_q_s")"
