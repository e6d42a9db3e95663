#!/usr/bin/env bash
# Runs Ferric's whole test suite, the one command CI and newcomers use:
#   1. the Rust tests (unit tests, the API suite on SQLite and on PostgreSQL: a
#      throwaway PostgreSQL is started with lab/postgres.sh unless
#      FERRIC_TEST_POSTGRES_URL already names one; the redfish driver against two
#      sushy-tools Redfish emulators started with lab/sushy.sh; the ipmi driver
#      against pyghmi IPMI BMCs started with lab/ipmi-bmc.sh);
#   2. the real `openstack baremetal` client against a running ferricd
#      (lab/ironicclient-smoke.sh), the real `openstack network/subnet/port`
#      against its network API (lab/osc-network.sh), the client and Metal3's URL
#      credentials with http_basic auth (lab/http-basic-smoke.sh), the client with a
#      clouds.yaml against the built-in identity service and its tenancy
#      (lab/identity-smoke.sh), HTTPS with a CA bundle and a SIGHUP reload
#      (lab/tls-smoke.sh), a real Keystone from PyPI issuing the tokens ferricd
#      validates (lab/keystone.sh, lab/keystone-smoke.sh), a SIGKILL mid-deploy and restart
#      (lab/crash-test.sh), ferric-agent inspecting, cleaning and deploying for a
#      real OpenStack Ironic 39 (lab/ironic-agent-compat.sh), sushy (Ironic's
#      Redfish client) driving the simulated rack (lab/sushy-client-sim.sh), a QEMU VM network-booting
#      from ferricd's DHCP and iPXE script into the deploy ramdisk and deployed end
#      to end (lab/vm-deploy.sh), the real ironic-python-agent 13 in a QEMU VM
#      cleaned and deployed by ferricd with its defaults (lab/ipa-deploy.sh), then a
#      SIGTERM that must stop ferricd cleanly. It installs the system packages it needs
#      first (lab/install-deps.sh).
# Everything listens on 127.0.0.1 or inside network namespaces the scripts make.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash lab/install-deps.sh

PG_DIR="${FERRIC_PG_DIR:-/tmp/ferric-test-postgres}"
API_PORT="${FERRIC_SMOKE_PORT:-6395}"
RUN_DIR="$(mktemp -d /tmp/ferric-smoke.XXXXXX)"
started_pg=0
ferricd_pid=""

cleanup() {
    if [ -n "$ferricd_pid" ] && kill -0 "$ferricd_pid" 2>/dev/null; then
        kill -TERM "$ferricd_pid" 2>/dev/null || true
    fi
        if [ "$started_pg" = 1 ]; then
        bash lab/postgres.sh stop "$PG_DIR" || true
    fi
        [ -d "$RUN_DIR/ipmi" ] && bash lab/ipmi-bmc.sh stop "$RUN_DIR/ipmi" >/dev/null 2>&1 || true
    for emulator in sushy sushy-auth; do
        [ -d "$RUN_DIR/$emulator" ] && bash lab/sushy.sh stop "$RUN_DIR/$emulator" >/dev/null 2>&1 || true
    done
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT

if [ -z "${FERRIC_TEST_POSTGRES_URL:-}" ]; then
    FERRIC_TEST_POSTGRES_URL="$(bash lab/postgres.sh start "$PG_DIR" | tail -n 1)"
    started_pg=1
fi
export FERRIC_TEST_POSTGRES_URL

echo "== Redfish emulators (sushy-tools)"
SUSHY_PORT="${FERRIC_SUSHY_PORT:-8011}"
FERRIC_TEST_REDFISH_URL="$(bash lab/sushy.sh start "$RUN_DIR/sushy" --port "$SUSHY_PORT" --systems 4 --instant | tail -n 1)"
FERRIC_TEST_REDFISH_AUTH_URL="$(bash lab/sushy.sh start "$RUN_DIR/sushy-auth" --port "$((SUSHY_PORT + 1))" --systems 4 \
    --auth admin:password | tail -n 1)"
export FERRIC_TEST_REDFISH_URL FERRIC_TEST_REDFISH_AUTH_URL

echo "== IPMI BMC emulators (pyghmi)"
FERRIC_TEST_IPMI_DIR="$RUN_DIR/ipmi"
FERRIC_TEST_IPMI_PORT="$(bash lab/ipmi-bmc.sh start "$FERRIC_TEST_IPMI_DIR" --port "${FERRIC_IPMI_PORT:-6230}" --count 2 | tail -n 1)"
export FERRIC_TEST_IPMI_DIR FERRIC_TEST_IPMI_PORT

echo "== cargo test (SQLite and PostgreSQL)"
cargo test --workspace --locked

echo "== openstack baremetal against ferricd"
cargo build --locked --bin ferricd --bin ferric
TFTP_PORT=$((API_PORT + 10))
NET_PORT=$((API_PORT + 20))
mkdir -p "$RUN_DIR/var/tftp"
printf '#!ipxe\necho ferric\n' >"$RUN_DIR/var/tftp/boot.ipxe"
"${CARGO_TARGET_DIR:-target}/debug/ferricd" --listen "127.0.0.1:$API_PORT" --data-dir "$RUN_DIR/var" --log debug \
    --tftp-listen "127.0.0.1:$TFTP_PORT" --network-api-listen "127.0.0.1:$NET_PORT" >"$RUN_DIR/ferricd.log" 2>&1 &
ferricd_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$API_PORT/" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! bash lab/ironicclient-smoke.sh "http://127.0.0.1:$API_PORT"; then
    echo "--- ferricd log"; tail -n 50 "$RUN_DIR/ferricd.log"
    exit 1
fi
echo "== openstack network / subnet / port against ferricd's network API"
if ! bash lab/osc-network.sh "http://127.0.0.1:$NET_PORT" "http://127.0.0.1:$API_PORT"; then
    echo "--- ferricd log"; tail -n 50 "$RUN_DIR/ferricd.log"
    exit 1
fi
echo "== http_basic: the openstack client and Metal3's URL credentials against ferricd"
bash lab/http-basic-smoke.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "${FERRIC_HTTP_BASIC_PORT:-6550}"
echo "== built-in identity: the openstack client with a clouds.yaml, projects, lessees, tokens"
bash lab/identity-smoke.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "${FERRIC_IDENTITY_PORT:-6551}"
echo "== HTTPS: the openstack client and ferric with a CA bundle, refusals, SIGHUP reload"
bash lab/tls-smoke.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "${FERRIC_TLS_PORT:-6552}"
echo "== a real Keystone (from PyPI) issues tokens; ferricd validates them ([keystone_authtoken])"
bash lab/keystone-smoke.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "${FERRIC_KEYSTONE_SMOKE_PORT:-6553}"
if [ "$(curl -s "tftp://127.0.0.1:$TFTP_PORT/boot.ipxe")" != "$(cat "$RUN_DIR/var/tftp/boot.ipxe")" ]; then
    echo "not ok - ferricd's TFTP server did not serve boot.ipxe"; exit 1
fi
echo "ok - ferricd serves TFTP (curl fetched boot.ipxe)"
if grep -q 'smoke-secret' "$RUN_DIR/ferricd.log"; then
    echo "not ok - a BMC password reached ferricd's log"; exit 1
fi

echo "== kill -9 in the middle of deploys, then restart"
bash lab/crash-test.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "$((API_PORT + 1))"

echo "== ferric-agent driven by a real OpenStack Ironic 39"
cargo build --locked --bin ferric-agent
bash lab/ironic-agent-compat.sh "${CARGO_TARGET_DIR:-target}/debug/ferric-agent" "${FERRIC_IRONIC_PORT:-6499}"

echo "== sushy, Ironic's Redfish client, against the simulated rack (ferric sim)"
bash lab/sushy-client-sim.sh "${CARGO_TARGET_DIR:-target}/debug/ferric" "${FERRIC_SUSHY_SIM_PORT:-8031}"

echo "== a QEMU VM network-boots from ferricd (DHCP, iPXE, HTTP) and gets deployed"
bash lab/vm-deploy.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "${FERRIC_VM_PORT:-6530}"

echo "== the real ironic-python-agent 13 in a QEMU VM, cleaned and deployed by ferricd (its defaults, http_basic on its API)"
bash lab/ipa-deploy.sh "${CARGO_TARGET_DIR:-target}/debug/ferricd" "${FERRIC_IPA_PORT:-6540}"

echo "== SIGTERM stops ferricd cleanly"
kill -TERM "$ferricd_pid"
for _ in $(seq 1 100); do
    kill -0 "$ferricd_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$ferricd_pid" 2>/dev/null; then
    echo "not ok - ferricd still running 10 s after SIGTERM"; exit 1
fi
wait "$ferricd_pid" && rc=0 || rc=$?
ferricd_pid=""
if [ "$rc" != 0 ]; then
    echo "not ok - ferricd exited with status $rc after SIGTERM"; exit 1
fi
echo "1 passed, 0 failed"
