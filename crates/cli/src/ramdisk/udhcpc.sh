#!/bin/sh
# Applies a DHCP lease (busybox udhcpc calls this).
case "$1" in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        # Name servers, for an ipa-api-url given by host name.
        if [ -n "$dns" ]; then
            for server in $dns; do echo "nameserver $server"; done >/etc/resolv.conf
        fi
        ;;
esac
exit 0
