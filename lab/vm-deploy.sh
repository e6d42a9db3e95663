#!/usr/bin/env bash
# lab/vm-deploy.sh FERRICD [PORT]
#
# A real machine, network-booted, cleaned and deployed end to end. ferricd runs
# inside a network namespace with its DHCP and TFTP servers on a bridge; a QEMU VM
# (TCG, 512 MiB, a 1 GiB virtio disk) whose NIC (QEMU's iPXE ROM, a tap on that
# bridge) boots from the network gets an address and the node's rendered iPXE script
# from ferricd, fetches Ferric's deploy kernel and ramdisk (lab/build-ramdisk.sh) and
# boots them.
# The node uses the `neutron` network interface: ferricd's network service flips
# the VM's switch port (the tap, in a Linux bridge per VLAN) onto the provisioning
# VLAN for cleaning and deploying, and onto the tenant VLAN of its attached VIF
# before it boots its instance.
#   Cleaning: UEFI firmware (OVMF); ferricd as a ProxyDHCP server beside a "site"
# DHCP server (busybox udhcpd in a namespace of its own on the same bridge) that
# hands out the addresses; the `pxe` boot interface (script, kernel and ramdisk over
# TFTP). The agent erases the disk.
#   Deploy: ferricd restarted as the network's DHCP server with its HTTP boot server
# on a listener of its own (port 8080); BIOS (SeaBIOS); the `ipxe` boot interface
# (over HTTP). The agent looks its node up, heartbeats over TLS and writes the image (served from the image cache) to the VM's disk; the
# conductor powers it off, sets boot to disk and powers it on, and the VM boots the
# deployed image, which prints FERRIC-BOOTED on its serial console. The node is
# `active`.
#   Rescue: off the tenant VLAN onto the rescue network (VLAN 100), the ramdisk boots,
# its agent stores the rescue password hash and stops, the VM stays up in rescue mode
# and goes back on the tenant VLAN (`rescue`); unrescue boots the image again.
#   Undeploy: off the tenant VLAN, cleaned on VLAN 100 again, `available`.
#
# The node is a fake-hardware node: this script plays its BMC, starting the VM when
# the node powers on (from the network or its disk, as its boot device says) and
# stopping it when the node powers off. Everything lives in the namespace.
#
# FERRIC_LAB_KEEP=DIR keeps the logs there.
# Installs what it needs: QEMU's system emulator unpacked from Debian packages into
# ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/qemu (apt-get install of
# qemu-system-x86 would remove qemu-utils here), its libraries, seabios, ipxe-qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRICD="${1:?usage: lab/vm-deploy.sh FERRICD [PORT]}"
PORT="${2:-6530}"
NS="fpxe$$"
BRIP=10.253.0.1
WORK="$(mktemp -d /tmp/ferric-vm.XXXXXX)"
API="http://$BRIP:$PORT"
pids=()
vm_pid=""

note() { printf 'vm-deploy.sh: %s\n' "$*" >&2; }
# shellcheck source=lib/vm-lab.sh
source lab/lib/vm-lab.sh
trap 'vm_lab_cleanup "$NS" "$NS-site"' EXIT

# QEMU, unpacked once.
# shellcheck source=lib/qemu.sh
source lab/lib/qemu.sh
ensure_qemu
RAMDISK="$(bash lab/build-ramdisk.sh "$WORK/ramdisk")"
# Reproducible: a second build from the same inputs has the same checksums.
bash lab/build-ramdisk.sh "$WORK/ramdisk-again" >/dev/null
cmp "$RAMDISK/SHA256SUMS" "$WORK/ramdisk-again/SHA256SUMS" \
    || { note "two ramdisk builds differ"; diff "$RAMDISK/SHA256SUMS" "$WORK/ramdisk-again/SHA256SUMS" >&2; exit 1; }
note "ramdisk built twice, same bytes: $(tr '\n' ' ' <"$RAMDISK/SHA256SUMS")"

# The image: a boot sector that prints FERRIC-BOOTED on the first serial port.
python3 lab/lib/boot-image.py "$WORK/www/boot.img"
SHA=$(sha256sum "$WORK/www/boot.img" | cut -d' ' -f1)
[ -f /usr/lib/ipxe/qemu/efi-virtio.rom ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ipxe-qemu >/dev/null
[ -f /usr/share/ovmf/OVMF.fd ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ovmf >/dev/null
ip netns add "$NS"
ip -n "$NS" link set lo up
# The namespace is also the top-of-rack switch (ferricd's linux-bridge driver in
# bridge-per-vlan mode): fbr100 is the provisioning VLAN, where ferricd serves;
# fbr200 a tenant VLAN. The VM's NIC (the tap) is a switch port on no VLAN until
# ferricd flips it.
for vlan in 100 200; do
    ip -n "$NS" link add "fbr$vlan" type bridge
    ip -n "$NS" link set "fbr$vlan" up
done
ip -n "$NS" addr add "$BRIP/24" dev fbr100
ip -n "$NS" tuntap add dev fvtap0 mode tap
ip -n "$NS" link set fvtap0 up

# The site's DHCP server, another host on the same network.
ip netns add "$NS-site"
ip -n "$NS" link add fvsite type veth peer name eth0 netns "$NS-site"
ip -n "$NS" link set fvsite master fbr100
ip -n "$NS" link set fvsite up
ip -n "$NS-site" addr add 10.253.0.2/24 dev eth0
ip -n "$NS-site" link set eth0 up
cat >"$WORK/udhcpd.conf" <<EOF
start 10.253.0.200
end 10.253.0.220
interface eth0
lease_file $WORK/udhcpd.leases
option subnet 255.255.255.0
EOF
touch "$WORK/udhcpd.leases"
ip netns exec "$NS-site" busybox udhcpd -f "$WORK/udhcpd.conf" >"$WORK/udhcpd.log" 2>&1 &
site_dhcp=$!
pids+=("$site_dhcp")

cat >"$WORK/ferricd.toml" <<EOF
[boot]
dhcp_server_ip = "$BRIP"
dhcp_pool_start = "10.253.0.100"
dhcp_pool_end = "10.253.0.150"
[deploy]
http_url = "http://$BRIP:$PORT"
allowed_local_paths = ["$WORK"]
[conductor]
deploy_callback_timeout = 240
sync_power_state_interval = 0
[agent]
post_deploy_get_power_state_retry_interval = 1
post_deploy_get_power_state_retries = 20
[network]
api_listen = "$BRIP:9696"
[[network.switches]]
name = "lab"
driver = "linux-bridge"
switch_info = "lab"
bridge = "fbr"
EOF
# start_ferricd [--dhcp-proxy] — (re)starts ferricd serving the bridge.
ferricd_pid=""
start_ferricd() {
    stop "$ferricd_pid"
    ip netns exec "$NS" "$FERRICD" --listen "$BRIP:$PORT" --dhcp-interface fbr100 --tftp-listen "$BRIP:69" \
        --data-dir "$WORK/var" --config "$WORK/ferricd.toml" --allow-insecure-noauth "$@" >>"$WORK/ferricd.log" 2>&1 &
    ferricd_pid=$!
    pids+=("$ferricd_pid")
    for _ in $(seq 1 100); do ip netns exec "$NS" curl -sf "$API/" >/dev/null 2>&1 && break; sleep 0.1; done
}
start_ferricd --dhcp-proxy

# shellcheck source=lib/fake-bmc.sh
source lab/lib/fake-bmc.sh
metric() { ip netns exec "$NS" curl -sf "$API/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

net() {
    ip netns exec "$NS" curl -sS --fail-with-body -X "$1" "http://$BRIP:9696/v2.0$2" \
        -H "Content-Type: application/json" ${3:+-d "$3"}
}
# The provisioning network (also used for cleaning) and a tenant network.
PROV=$(net POST /networks '{"network": {"name": "prov", "role": "provisioning", "provider:network_type": "vlan",
    "provider:physical_network": "physnet1", "provider:segmentation_id": 100}}' | field '["network"]["id"]')
net POST /subnets "{\"subnet\": {\"network_id\": \"$PROV\", \"cidr\": \"10.253.0.0/24\", \"gateway_ip\": \"$BRIP\",
    \"allocation_pools\": [{\"start\": \"10.253.0.160\", \"end\": \"10.253.0.199\"}]}}" >/dev/null
TENANT=$(net POST /networks '{"network": {"name": "tenant-a", "provider:network_type": "vlan",
    "provider:physical_network": "physnet1", "provider:segmentation_id": 200}}' | field '["network"]["id"]')
net POST /subnets "{\"subnet\": {\"network_id\": \"$TENANT\", \"cidr\": \"10.254.0.0/24\"}}" >/dev/null
VIF=$(net POST /ports "{\"port\": {\"network_id\": \"$TENANT\", \"name\": \"vm-vif\"}}" | field '["port"]["id"]')

MAC=52:54:00:cc:00:01
truncate -s 1G "$WORK/disk.img"
NODE=$(bm POST /nodes "{\"driver\": \"fake-hardware\", \"deploy_interface\": \"direct\", \"name\": \"vm\",
    \"boot_interface\": \"pxe\", \"network_interface\": \"neutron\", \"rescue_interface\": \"agent\",
    \"properties\": {\"root_device\": {\"name\": \"/dev/vda\"}},
    \"driver_info\": {\"deploy_kernel\": \"$RAMDISK/ferric.kernel\", \"deploy_ramdisk\": \"$RAMDISK/ferric.initramfs\",
                      \"cleaning_network\": \"prov\", \"rescuing_network\": \"prov\"},
    \"instance_info\": {\"image_source\": \"$WORK/www/boot.img\", \"image_disk_format\": \"raw\",
                        \"image_os_hash_algo\": \"sha256\", \"image_os_hash_value\": \"$SHA\"}}" | field '["uuid"]')
bm POST /ports "{\"node_uuid\": \"$NODE\", \"address\": \"$MAC\", \"physical_network\": \"physnet1\",
    \"local_link_connection\": {\"switch_id\": \"02:00:00:00:00:fe\", \"switch_info\": \"lab\", \"port_id\": \"fvtap0\"}}" >/dev/null
bm POST "/nodes/$NODE/vifs" "{\"id\": \"$VIF\"}" >/dev/null
master() { ip -n "$NS" -o link show fvtap0 | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
# Something for cleaning to erase.
printf 'OLD-TENANT-DATA' | dd of="$WORK/disk.img" bs=1M seek=5 conv=notrunc status=none

boots=0
FIRMWARE=()   # empty: SeaBIOS; (-bios OVMF.fd): UEFI
# start_vm network|disk — starts the VM for the node's current boot.
start_vm() {
    boots=$((boots + 1))
    local serial="$WORK/serial-$boots-$1.log" nic="romfile="
    # Network boot: the NIC's iPXE ROM first; disk boot: no ROM at all.
    [ "$1" = network ] && nic="bootindex=1"
    ip netns exec "$NS" "$QEMU" -accel tcg -m 512 -smp 1 -nographic -no-reboot -monitor none "${FIRMWARE[@]}" \
        -L "$QEMU_DIR/usr/share/qemu" -L /usr/share/seabios -L /usr/lib/ipxe/qemu \
        -serial "file:$serial" \
        -netdev "tap,id=n0,ifname=fvtap0,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$MAC,$nic" \
        -drive "file=$WORK/disk.img,format=raw,if=virtio" \
        >"$WORK/qemu-$boots.log" 2>&1 &
    vm_pid=$!
    note "VM boot $boots from $1"
}

bm PUT "/nodes/$NODE/states/provision" '{"target": "manage"}' >/dev/null
play_bmc manageable
# Cleaning boots the VM with UEFI firmware (OVMF).
FIRMWARE=(-bios /usr/share/ovmf/OVMF.fd)
bm PUT "/nodes/$NODE/states/provision" '{"target": "provide"}' >/dev/null
started=$SECONDS
play_bmc available "clean failed"
settled_in available cleaning
grep -q OLD-TENANT-DATA "$WORK/disk.img" && fail "cleaning left the old data on the disk"
[ "$(metric ferric_dhcp_offers_total)" -ge 1 ] || fail "no ProxyDHCP offer was sent"
[ "$(metric ferric_tftp_completed_total)" -ge 3 ] || fail "the script, kernel and ramdisk did not go over TFTP"
grep -q "sending ACK" "$WORK/udhcpd.log" || fail "the site's DHCP server leased nothing"
[ -z "$(master)" ] || fail "after cleaning the VM's switch port is still on $(master)"
bm GET "/nodes/$NODE/history" | grep -q 'fvtap0.*VLAN 100' || fail "the cleaning flip is not in the node's history"
echo "ok - cleaning ran on VLAN 100 and left the VM's switch port on no network"
echo "ok - the VM got its address from the site's DHCP server and its boot file from ferricd's ProxyDHCP, network-booted its ramdisk over TFTP (pxe boot interface), and its agent erased the disk; the node is available ($((SECONDS - started)) s)"
stop "$site_dhcp"
start_ferricd --http-boot-listen "$BRIP:8080"
FIRMWARE=()
bm PATCH "/nodes/$NODE" '[{"op": "replace", "path": "/boot_interface", "value": "ipxe"}]' >/dev/null
bm PUT "/nodes/$NODE/states/provision" '{"target": "active"}' >/dev/null
started=$SECONDS
play_bmc active "deploy failed"
settled_in active deploy
echo "ok - the VM network-booted from ferricd (DHCP, iPXE script, kernel and ramdisk over HTTP from the boot listener: ipxe boot interface), its agent wrote the image, the node is active ($((SECONDS - started)) s)"
for _ in $(seq 1 120); do
    grep -q FERRIC-BOOTED "$WORK"/serial-*-disk.log 2>/dev/null && break
    play_bmc active >/dev/null
    sleep 0.5
done
grep -q FERRIC-BOOTED "$WORK"/serial-*-disk.log 2>/dev/null || fail "the VM did not boot the deployed image"
echo "ok - the VM booted the deployed image from its disk (FERRIC-BOOTED on its serial console)"
[ "$(master)" = fbr200 ] || fail "the active VM's switch port is on '$(master)', not the tenant VLAN"
[ "$(net GET "/ports/$VIF" | field '["port"]["status"]')" = ACTIVE ] || fail "the tenant VIF is not bound"
grep -a -q "10.253.0.16[0-9]/" "$WORK"/serial-2-network.log || fail "the VM did not get its provisioning port's address"
echo "ok - deployed on the provisioning VLAN with its provisioning port's address, the VM's switch port is on the tenant VLAN only, its VIF bound"
# VIFs of a deployed node are unplugged and plugged in at once.
bm DELETE "/nodes/$NODE/vifs/$VIF" >/dev/null
[ -z "$(master)" ] || fail "after the VIF's detach the switch port is still on $(master)"
[ "$(net GET "/ports/$VIF" | field '["port"]["binding:host_id"]')" = "" ] || fail "the detached VIF is still bound"
bm POST "/nodes/$NODE/vifs" "{\"id\": \"$VIF\"}" >/dev/null
[ "$(master)" = fbr200 ] || fail "after the VIF's attach the switch port is on '$(master)', not the tenant VLAN"
echo "ok - detaching the active node's VIF took its switch port off the tenant VLAN; attaching it again put it back"
cmp -n "$(stat -c %s "$WORK/www/boot.img")" "$WORK/www/boot.img" "$WORK/disk.img" || fail "the disk does not hold the image"
echo "ok - the VM's disk holds the image"
[ "$(metric ferric_ra_solicitations_total)" -ge 1 ] || fail "iPXE's router solicitations were not answered"
echo "ok - /metrics since the restart: $(metric ferric_dhcp_acks_total) DHCP acks, $(metric ferric_http_boot_files_total) HTTP boot files, $(metric ferric_ra_solicitations_total) router solicitations answered"

# Rescue: off the tenant VLAN onto the rescue network (the provisioning VLAN here), the
# ramdisk boots, its agent takes the password hash and stops, and the VM — still
# running the ramdisk, in rescue mode — is put back on the tenant VLAN.
flips_before=$(bm GET "/nodes/$NODE/history" | grep -o 'fvtap0 ([^)]*) on network prov' | wc -l)
bm PUT "/nodes/$NODE/states/provision" '{"target": "rescue", "rescue_password": "lab-rescue"}' >/dev/null
started=$SECONDS
play_bmc rescue "rescue failed"
settled_in rescue rescue
[ "$(master)" = fbr200 ] || fail "the rescued VM's switch port is on '$(master)', not the tenant VLAN"
flips_after=$(bm GET "/nodes/$NODE/history" | grep -o 'fvtap0 ([^)]*) on network prov' | wc -l)
[ "$flips_after" -gt "$flips_before" ] || fail "the rescue did not put the switch port on the rescue network"
sleep 3
kill -0 "$vm_pid" 2>/dev/null || fail "the rescued VM powered off instead of staying in rescue mode"
echo "ok - rescued: the ramdisk booted on the rescue network, its agent took the password and stopped, the VM stays up in rescue mode on the tenant VLAN ($((SECONDS - started)) s)"
bm PUT "/nodes/$NODE/states/provision" '{"target": "unrescue"}' >/dev/null
started=$SECONDS
play_bmc active "unrescue failed"
settled_in active unrescue
for _ in $(seq 1 120); do
    [ "$(grep -l FERRIC-BOOTED "$WORK"/serial-*-disk.log 2>/dev/null | wc -l)" -ge 2 ] && break
    play_bmc active >/dev/null
    sleep 0.5
done
[ "$(grep -l FERRIC-BOOTED "$WORK"/serial-*-disk.log 2>/dev/null | wc -l)" -ge 2 ] \
    || fail "after unrescue the VM did not boot its deployed image"
[ "$(master)" = fbr200 ] || fail "after unrescue the switch port is on '$(master)', not the tenant VLAN"
echo "ok - unrescued: the VM booted its deployed image again, on the tenant VLAN ($((SECONDS - started)) s)"

# Undeploy: off the tenant VLAN, then automated cleaning on the cleaning network.
bm PUT "/nodes/$NODE/states/provision" '{"target": "deleted"}' >/dev/null
started=$SECONDS
play_bmc available "clean failed"
settled_in available undeploy
[ -z "$(master)" ] || fail "after undeploy and cleaning the VM's switch port is still on $(master)"
[ "$(net GET "/ports/$VIF" | field '["port"]["status"]')" = DOWN ] || fail "the tenant VIF is still bound"
cmp -s -n 512 /dev/zero "$WORK/disk.img" || fail "cleaning left the deployed image's boot sector"
echo "ok - undeployed: off the tenant VLAN, cleaned on the cleaning network (the image erased), the node is available ($((SECONDS - started)) s)"
