#!/bin/sh
# Ferric deploy ramdisk: load drivers, get an address, run the agent.
# The kernel starts /init with no PATH; the agent finds sfdisk and poweroff on it.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
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
