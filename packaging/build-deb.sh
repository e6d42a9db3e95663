#!/usr/bin/env bash
# Builds Ferric's Debian package: the one documented command.
#   packaging/build-deb.sh [OUT_DIR]      (default target/debian; prints the .deb's path)
#
# What is in it:
#   /usr/bin/ferricd, /usr/bin/ferric        release builds (glibc; ferricd on jemalloc)
#   /usr/lib/ferric/ferric-agent             the static (musl) agent, for ramdisks
#   /etc/ferric/ferric.toml                  `ferricd config example`: every option,
#                                            commented out (a conffile)
#   /lib/systemd/system/ferricd.service      all-in-one; ferricd@.service per role
#   /usr/share/doc/ferric/                   README.md, configuration.md, copyright
# and maintainer scripts that make the `ferric` system user and /var/lib/ferric
# (packaging/debian/postinst). Same sources, same toolchain → same bytes: file
# times are SOURCE_DATE_EPOCH (default: the last commit's time), owners root.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
OUT="$(realpath -m "${1:-$TARGET_DIR/debian}")"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

cargo build --locked --release -p ferric-server -p ferric-cli --bin ferricd --bin ferric \
    --features ferric-server/jemalloc >&2
AGENT="$(bash lab/build-agent-static.sh)"
VERSION="$("$TARGET_DIR/release/ferricd" --version | awk '{print $2}')"
ARCH="$(dpkg --print-architecture)"

STAGE="$(mktemp -d)"
chmod 0755 "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
install -d "$STAGE/DEBIAN" "$STAGE/usr/bin" "$STAGE/usr/lib/ferric" "$STAGE/etc/ferric" \
    "$STAGE/lib/systemd/system" "$STAGE/usr/share/doc/ferric"
for bin in ferricd ferric; do
    strip -o "$STAGE/usr/bin/$bin" "$TARGET_DIR/release/$bin"
done
install -m 0755 "$AGENT" "$STAGE/usr/lib/ferric/ferric-agent"
"$STAGE/usr/bin/ferricd" config example >"$STAGE/etc/ferric/ferric.toml"
# The units: their shared [Service] settings go in place of @SERVICE_COMMON@.
COMMON="$(tail -n +3 packaging/debian/service-common.conf)"
for unit in ferricd.service ferricd@.service; do
    awk -v common="$COMMON" '$0 == "@SERVICE_COMMON@" { print common; next } { print }' \
        "packaging/debian/$unit.in" >"$STAGE/lib/systemd/system/$unit"
done
install -m 0644 README.md docs/configuration.md "$STAGE/usr/share/doc/ferric/"
cat >"$STAGE/usr/share/doc/ferric/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ferric

Files: *
Copyright: the Ferric authors
License: Apache-2.0
EOF
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
    "$STAGE/DEBIAN/"
echo /etc/ferric/ferric.toml >"$STAGE/DEBIAN/conffiles"
SIZE_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat >"$STAGE/DEBIAN/control" <<EOF
Package: ferric
Version: $VERSION
Architecture: $ARCH
Maintainer: Ferric developers <ferric@localhost>
Installed-Size: $SIZE_KB
Depends: libc6 (>= 2.34), passwd, procps
Recommends: ipmitool, ipxe, qemu-utils, busybox-static, fdisk
Suggests: postgresql
Section: admin
Priority: optional
Description: bare-metal provisioning with an Ironic-compatible API
 Ferric takes physical servers through their life: enroll them by their BMC,
 inspect, clean, deploy an OS image, plug them into their tenant's networks,
 rescue and tear them down. It speaks OpenStack Ironic's REST API, so the
 openstack baremetal client, openstacksdk and Metal3 work against it.
 .
 This package has ferricd (the service, with its systemd units), the ferric
 command line, and the static ferric-agent for deploy ramdisks.
EOF
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$OUT"
DEB="$OUT/ferric_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >&2
echo "$DEB"
