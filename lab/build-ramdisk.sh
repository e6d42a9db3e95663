#!/usr/bin/env bash
# lab/build-ramdisk.sh [OUTDIR]
#
# Builds Ferric's deploy ramdisk: OUTDIR/ferric.kernel (Debian's amd64 kernel) and
# OUTDIR/ferric.initramfs (gzipped cpio: busybox-static, the static ferric-agent, the
# virtio and common NIC/disk modules, and an /init that loads them, brings up the
# network by DHCP and runs the agent, which reads ipa-api-url and BOOTIF from the
# kernel command line). Point a node's driver_info deploy_kernel/deploy_ramdisk at
# the two files (local paths work: ferricd serves them through its image cache).
#
# Downloads Debian packages with apt-get download (no install); needs root only for
# apt-get when busybox-static or cpio is missing. Default OUTDIR: target/ramdisk.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-${CARGO_TARGET_DIR:-target}/ramdisk}"
WORK="$(mktemp -d /tmp/ferric-ramdisk.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
note() { printf 'build-ramdisk.sh: %s\n' "$*" >&2; }

need=()
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
if [ "${#need[@]}" -gt 0 ]; then
    note "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
file "$(command -v busybox)" | grep -q "statically linked" \
    || { note "busybox is not static; install busybox-static"; exit 1; }

AGENT="$(bash lab/build-agent-static.sh "$WORK/ferric-agent")"

# The kernel: the package linux-image-amd64 points at.
KPKG="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
[ -n "$KPKG" ] || { apt-get update -qq; KPKG="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"; }
note "kernel package $KPKG"
(cd "$WORK" && apt-get download -q "$KPKG" >/dev/null)
dpkg -x "$WORK"/linux-image-*.deb "$WORK/k"
KVER="$(ls "$WORK/k/lib/modules")"
MODDIR="$WORK/k/lib/modules/$KVER/kernel"

ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,run,tmp,mnt,lib/modules,usr/bin,usr/sbin,usr/share/udhcpc}
cp "$(command -v busybox)" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list); do
    [ -e "$ROOT/bin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"
done
install -m 0755 "$AGENT" "$ROOT/bin/ferric-agent"

# Modules in load order (modules.dep is not shipped by dpkg -x: the order is fixed here).
MODULES=(
    drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
    drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover
    drivers/net/net_failover drivers/net/virtio_net drivers/block/virtio_blk
    drivers/net/ethernet/intel/e1000/e1000 drivers/net/ethernet/intel/e1000e/e1000e
    drivers/scsi/virtio_scsi drivers/nvme/host/nvme-core drivers/nvme/host/nvme
)
: >"$ROOT/lib/modules/order"
for m in "${MODULES[@]}"; do
    src=""
    for ext in ko ko.xz; do
        [ -f "$MODDIR/$m.$ext" ] && src="$MODDIR/$m.$ext"
    done
    if [ -z "$src" ]; then
        note "module $m not in this kernel (built in, or absent): skipped"
        continue
    fi
    name="$(basename "$src")"
    case "$name" in
        *.xz) xz -dc "$src" >"$ROOT/lib/modules/${name%.xz}"; name="${name%.xz}" ;;
        *) cp "$src" "$ROOT/lib/modules/$name" ;;
    esac
    echo "$name" >>"$ROOT/lib/modules/order"
done

cat >"$ROOT/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
# Applies a DHCP lease (busybox udhcpc calls this).
case "$1" in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        ;;
esac
exit 0
EOF
chmod 0755 "$ROOT/usr/share/udhcpc/default.script"

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# Ferric deploy ramdisk: load drivers, get an address, run the agent.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
echo "ferric-ramdisk: loading drivers"
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done </lib/modules/order
mdev -s 2>/dev/null
ip link set lo up
# The NIC to configure: BOOTIF from the command line (01-aa-bb-… or aa:bb:…), else all.
bootif=""
for p in $(cat /proc/cmdline); do
    case "$p" in BOOTIF=*) bootif="$(echo "${p#BOOTIF=}" | sed 's/^01-//; s/-/:/g' | tr 'A-F' 'a-f')" ;; esac
done
for dev in /sys/class/net/*; do
    name="$(basename "$dev")"
    [ "$name" = lo ] && continue
    mac="$(cat "$dev/address")"
    if [ -z "$bootif" ] || [ "$mac" = "$bootif" ]; then
        echo "ferric-ramdisk: DHCP on $name ($mac)"
        udhcpc -i "$name" -q -n -t 10 -T 2 -s /usr/share/udhcpc/default.script || true
    fi
done
echo "ferric-ramdisk: starting ferric-agent"
/bin/ferric-agent
status=$?
if [ -f /etc/.rescued ]; then
    # Rescue mode: the agent stored the rescue password's hash and stopped; the
    # machine stays up with a "rescue" user for its owner, now on the tenant network.
    echo "rescue:x:1000:1000:rescue:/tmp:/bin/sh" >>/etc/passwd
    echo "rescue:$(cat /etc/ipa-rescue-config/ipa-rescue-password):20000:0:99999:7:::" >>/etc/shadow
    chmod 0600 /etc/shadow
    for dev in /sys/class/net/*; do
        name="$(basename "$dev")"
        [ "$name" = lo ] || udhcpc -i "$name" -q -n -t 3 -T 2 -s /usr/share/udhcpc/default.script || true
    done
    echo "ferric-ramdisk: rescue mode, log in as rescue"
    while :; do
        [ -c /dev/ttyS0 ] && getty -L 115200 ttyS0 vt100
        sleep 5
    done
fi
echo "ferric-ramdisk: ferric-agent exited ($status); powering off"
sync
poweroff -f
EOF
chmod 0755 "$ROOT/init"

mkdir -p "$OUT"
cp "$WORK"/k/boot/vmlinuz-* "$OUT/ferric.kernel"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -9) >"$OUT/ferric.initramfs"
note "built $(du -h "$OUT/ferric.kernel" | cut -f1) kernel, $(du -h "$OUT/ferric.initramfs" | cut -f1) initramfs ($KVER)"
echo "$OUT"
