#!/usr/bin/env bash
# lab/install-deps.sh — installs the system packages Ferric's tests need, the one
# place that lists them (lab/run-tests.sh and .ci/run call it). Debian/Ubuntu, as
# root; installs only what is missing, so a second run costs nothing. The lab
# scripts fetch the rest themselves: Python peers into virtualenvs under
# ~/.cache/ferric-lab, QEMU unpacked from Debian packages, the deploy ramdisks.
set -euo pipefail

need_apt=()
pg_found=0
command -v pg_config >/dev/null 2>&1 && pg_found=1
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && pg_found=1
[ "$pg_found" = 1 ] || need_apt+=(postgresql)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v ipmitool >/dev/null 2>&1 || need_apt+=(ipmitool)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
command -v genisoimage >/dev/null 2>&1 || need_apt+=(genisoimage)
command -v qemu-img >/dev/null 2>&1 || need_apt+=(qemu-utils)
command -v sfdisk >/dev/null 2>&1 || need_apt+=(fdisk)
command -v blkid >/dev/null 2>&1 || need_apt+=(util-linux)
command -v file >/dev/null 2>&1 || need_apt+=(file)
command -v busybox >/dev/null 2>&1 || need_apt+=(busybox-static)
command -v cpio >/dev/null 2>&1 || need_apt+=(cpio)
# jemalloc (ferricd's allocator) is built from source with make.
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
# The Debian package (packaging/): strip for its binaries, systemd-analyze to
# verify its units.
command -v strip >/dev/null 2>&1 || need_apt+=(binutils)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
[ -f /usr/lib/ipxe/undionly.kpxe ] || need_apt+=(ipxe)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
# The dashboard's browser test: a headless Chromium driven over WebDriver.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "== apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
