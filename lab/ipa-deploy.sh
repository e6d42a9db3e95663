#!/usr/bin/env bash
# lab/ipa-deploy.sh FERRICD [PORT]
#
# The real OpenStack ironic-python-agent 13 — the agent every Ironic user already has
# in their ramdisks — cleaned and deployed by Ferric with its defaults (require_tls
# on: IPA serves its API over TLS with its own P-384 / ecdsa-with-SHA512 certificate,
# which ferricd pins), and http_basic authentication on its API: the agent's lookup
# and heartbeats are public routes, everything else needs the password.
#
# A QEMU VM (TCG, a 1 GiB virtio disk) boots the IPA ramdisk of
# lab/build-ipa-ramdisk.sh straight from -kernel/-initrd on a lab network: a bridge
# in a network namespace where busybox udhcpd gives it an address and ferricd
# listens; the kernel command line carries ipa-api-url. The node is a fake-hardware
# node (direct deploy, fake boot): this script plays its BMC, starting the VM when the
# node powers on (the ramdisk when its boot device is pxe, the disk otherwise) and
# stopping it when the node powers off — a real power-off ends the ramdisk.
#   Cleaning: IPA's own clean steps (erase_devices_metadata, erase_devices): the
# disk, filled with a marker first, reads back as zeros.
#   Deploy: IPA writes a raw image (a boot sector that prints FERRIC-BOOTED) from an
# HTTP server in the namespace, powers itself off, the node boots from its disk and
# the VM prints FERRIC-BOOTED; `qemu-img compare` finds the disk equal to the image.
# The node is active, and no agent token is in ferricd's debug log.
# Prints the cleaning and deploy times and ferricd's lookup and heartbeat times.
# FERRIC_LAB_KEEP=DIR keeps the logs there.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRICD="${1:?usage: lab/ipa-deploy.sh FERRICD [PORT]}"
PORT="${2:-6540}"
NS="fipa$$"
BRIP=10.252.0.1
MAC=52:54:00:ee:00:01
WORK="$(mktemp -d /tmp/ferric-ipa.XXXXXX)"
API="http://$BRIP:$PORT"
pids=()
vm_pid=""

note() { printf 'ipa-deploy.sh: %s\n' "$*" >&2; }
# shellcheck source=lib/vm-lab.sh
source lab/lib/vm-lab.sh
trap 'vm_lab_cleanup "$NS"' EXIT

source lab/lib/qemu.sh
ensure_qemu
RAMDISK="$(bash lab/build-ipa-ramdisk.sh "$WORK/ramdisk" | tail -n 1)"
python3 lab/lib/boot-image.py "$WORK/www/boot.img"
SHA=$(sha256sum "$WORK/www/boot.img" | cut -d' ' -f1)

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add fbr0 type bridge
ip -n "$NS" link set fbr0 up
ip -n "$NS" addr add "$BRIP/24" dev fbr0
ip -n "$NS" tuntap add dev fitap0 mode tap
ip -n "$NS" link set fitap0 master fbr0
ip -n "$NS" link set fitap0 up
cat >"$WORK/udhcpd.conf" <<EOF
start 10.252.0.100
end 10.252.0.120
interface fbr0
lease_file $WORK/udhcpd.leases
option subnet 255.255.255.0
EOF
touch "$WORK/udhcpd.leases"
ip netns exec "$NS" busybox udhcpd -f "$WORK/udhcpd.conf" >"$WORK/udhcpd.log" 2>&1 &
pids+=("$!")
ip netns exec "$NS" python3 -m http.server --bind "$BRIP" --directory "$WORK/www" 8080 >"$WORK/http.log" 2>&1 &
pids+=("$!")
# ferricd with its defaults but the listener and http_basic (an API beyond loopback
# needs authentication); the agent's endpoints stay public, as in Ironic.
BM_AUTH="admin:$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
htpasswd -B -b -c "$WORK/htpasswd" admin "${BM_AUTH#admin:}" 2>/dev/null
ip netns exec "$NS" "$FERRICD" --listen "$BRIP:$PORT" --data-dir "$WORK/var" --log debug \
    --auth-strategy http_basic --http-basic-auth-user-file "$WORK/htpasswd" >"$WORK/ferricd.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do ip netns exec "$NS" curl -sf "$API/" >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec "$NS" curl -sf "$API/" >/dev/null || fail "ferricd did not start"
[ "$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' "$API/v1/nodes")" = 401 ] \
    || fail "ferricd answered an unauthenticated node listing"

# shellcheck source=lib/fake-bmc.sh
source lab/lib/fake-bmc.sh
# on_poll — notes the node's agent token, certificate and URL, read from ferricd's
# database (the API masks the token), to check them and search the log for the token.
on_poll() {
    python3 - "$WORK/var/ferric.db" "$NODE" "$WORK" <<'PY' || true
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=5)
for (dii,) in db.execute("SELECT driver_internal_info FROM nodes WHERE uuid = ?", (sys.argv[2],)):
    dii = json.loads(dii or "{}")
    for key, file, mode in [("agent_secret_token", "tokens", "a"), ("agent_verify_ca", "agent-cert.pem", "w"),
                            ("agent_url", "agent-url", "w")]:
        if dii.get(key):
            with open(f"{sys.argv[3]}/{file}", mode) as f:
                print(dii[key], file=f)
PY
}

truncate -s 1G "$WORK/disk.img"
NODE=$(bm POST /nodes '{"driver": "fake-hardware", "deploy_interface": "direct", "boot_interface": "fake",
    "name": "ipa-vm", "properties": {"root_device": {"name": "/dev/vda"}, "capabilities": "boot_mode:bios"}}' \
    | field '["uuid"]')
bm POST /ports "{\"node_uuid\": \"$NODE\", \"address\": \"$MAC\"}" >/dev/null
# Something for cleaning to erase, at both ends of the disk.
for seek in 0 1023; do
    printf 'OLD-TENANT-DATA' | dd of="$WORK/disk.img" bs=1M seek="$seek" conv=notrunc status=none
done

boots=0
# start_vm network|disk — starts the VM for the node's current boot: a network boot
# is the IPA ramdisk, straight from -kernel/-initrd.
start_vm() {
    boots=$((boots + 1))
    local boot=()
    if [ "$1" = network ]; then
        boot=(-kernel "$RAMDISK/ipa.kernel" -initrd "$RAMDISK/ipa.initramfs"
            -append "console=ttyS0 ipa-api-url=$API ipa-disk-wait-attempts=1 BOOTIF=01-${MAC//:/-}")
    fi
    ip netns exec "$NS" "$QEMU" -accel tcg -m 768 -smp 1 -nographic -no-reboot -monitor none \
        -L "$QEMU_DIR/usr/share/qemu" -L /usr/share/seabios "${boot[@]}" \
        -serial "file:$WORK/serial-$boots-$1.log" \
        -netdev "tap,id=n0,ifname=fitap0,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=" \
        -drive "file=$WORK/disk.img,format=raw,if=virtio" \
        >"$WORK/qemu-$boots.log" 2>&1 &
    vm_pid=$!
    note "VM boot $boots from its $1"
}

bm PUT "/nodes/$NODE/states/provision" '{"target": "manage"}' >/dev/null
play_bmc manageable
bm PUT "/nodes/$NODE/states/provision" '{"target": "provide"}' >/dev/null
started=$SECONDS
play_bmc available "clean failed"
clean_time=$((SECONDS - started))
settled_in available cleaning
grep -q OLD-TENANT-DATA "$WORK/disk.img" && fail "cleaning left the old data on the disk"
cmp -s -n 1048576 /dev/zero "$WORK/disk.img" || fail "the disk's first MiB is not zeros after erase_devices"
for step in erase_devices_metadata erase_devices; do
    grep -aq "'step': '$step'}, result" "$WORK/serial-1-network.log" || fail "IPA's console shows no $step"
done
grep -q "TLS handshake" "$WORK/ferricd.log" && fail "a TLS handshake with IPA failed"
grep -q '^https://' "$WORK/agent-url" || fail "IPA's callback URL is not https: $(cat "$WORK/agent-url")"
openssl x509 -in "$WORK/agent-cert.pem" -noout -text >"$WORK/agent-cert.txt" \
    || fail "the agent_verify_ca IPA sent is not a certificate"
grep -q "Signature Algorithm: ecdsa-with-SHA512" "$WORK/agent-cert.txt" && grep -q "P-384" "$WORK/agent-cert.txt" \
    || fail "IPA's certificate is not P-384/ecdsa-with-SHA512: $(grep -m2 -E 'Signature Algorithm|NIST' "$WORK/agent-cert.txt")"
echo "ok - IPA 13 looked up, heartbeated over TLS (its P-384/SHA-512 certificate pinned), ran erase_devices_metadata and erase_devices; the disk reads as zeros, the node is available (${clean_time} s)"

bm PATCH "/nodes/$NODE" "[{\"op\": \"add\", \"path\": \"/instance_info\", \"value\":
    {\"image_source\": \"http://$BRIP:8080/boot.img\", \"image_disk_format\": \"raw\",
     \"image_os_hash_algo\": \"sha256\", \"image_os_hash_value\": \"$SHA\"}}]" >/dev/null
bm PUT "/nodes/$NODE/states/provision" '{"target": "active"}' >/dev/null
started=$SECONDS
play_bmc active "deploy failed"
deploy_time=$((SECONDS - started))
settled_in active deploy
for _ in $(seq 1 240); do
    grep -q FERRIC-BOOTED "$WORK"/serial-*-disk.log 2>/dev/null && break
    play_bmc active >/dev/null
    sleep 0.5
done
grep -q FERRIC-BOOTED "$WORK"/serial-*-disk.log 2>/dev/null || fail "the VM did not boot the deployed image"
stop "$vm_pid"; vm_pid=""
qemu-img compare -q -f raw -F raw "$WORK/disk.img" "$WORK/www/boot.img" \
    || fail "qemu-img compare: the disk does not hold the image"
echo "ok - IPA 13 wrote the image (qemu-img compare: equal), powered itself off, the node is active and the VM booted the image from its disk (${deploy_time} s)"

# No agent token in ferricd's debug log.
tokens=$(sort -u "$WORK/tokens" 2>/dev/null || true)
[ -n "$tokens" ] || fail "no agent token was seen in the database"
for t in $tokens; do grep -q "$t" "$WORK/ferricd.log" && fail "an agent token is in ferricd's log"; done
grep -q "DEBUG" "$WORK/ferricd.log" || fail "ferricd did not log at debug level"
grep -q "${BM_AUTH#admin:}" "$WORK/ferricd.log" && fail "the API password is in ferricd's log"
echo "ok - none of the $(echo "$tokens" | wc -l) agent tokens IPA was given is in ferricd's debug log"

# Server-side times of IPA's requests, from ferricd's debug request log.
times() {
    grep -a "path=$1" "$WORK/ferricd.log" | grep -o 'micros=[0-9]*' | cut -d= -f2 | sort -n \
        | awk '{v[NR] = $1} END {if (NR) printf "%d requests, median %.1f ms, max %.1f ms", NR, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000; else printf "none"}'
}
echo "ok - ferricd answered IPA's lookups: $(times /v1/lookup); heartbeats: $(times "/v1/heartbeat/$NODE")"
