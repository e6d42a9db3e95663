#!/usr/bin/env bash
# lab/tls-smoke.sh FERRICD [PORT]
#
# ferricd over HTTPS (--tls-cert/--tls-key) with the built-in identity service,
# driven by the real `openstack` client with `--os-cacert` (and `cacert:` in
# clouds.yaml) and by `ferric --os-cacert`; a client without the CA and a
# certificate for another host are refused; SIGHUP swaps the certificate. The
# certificates are made here with openssl. Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/lib/smoke.sh
source lab/lib/smoke.sh
smoke_init tls
FERRICD="${1:?usage: lab/tls-smoke.sh FERRICD [PORT]}"
PORT="${2:-6552}"
FERRIC="$(dirname "$FERRICD")/ferric"
BASE="https://127.0.0.1:$PORT"
# cert NAME SAN: a server certificate signed by the lab CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Ferric lab CA" \
    -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ferricd" \
        -keyout "$WORK/$1.key" -out "$WORK/$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$2" >"$WORK/$1.ext"
    openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
        -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null
}
cert good IP:127.0.0.1
cert other DNS:other.example
cp "$WORK/good.pem" "$WORK/server.pem"; cp "$WORK/good.key" "$WORK/server.key"

"$FERRICD" --listen "127.0.0.1:$PORT" --data-dir "$WORK/var" --log info \
    --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key" \
    --enable-identity --auth-strategy keystone >"$WORK/ferricd.log" 2>&1 &
ferricd_pid=$!
for _ in $(seq 1 100); do curl -sf --cacert "$WORK/ca.pem" "$BASE/v1" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf --cacert "$WORK/ca.pem" "$BASE/v1" >/dev/null || fail "ferricd did not serve HTTPS"
PW="$(cat "$WORK/var/identity-admin-password")"
cat >"$WORK/clouds.yaml" <<YAML
clouds:
  ferric:
    auth_type: password
    cacert: $WORK/ca.pem
    auth: {auth_url: "$BASE/identity", username: admin, password: "$PW", system_scope: all, user_domain_name: Default}
  ferric-nocacert:
    auth_type: password
    auth: {auth_url: "$BASE/identity", username: admin, password: "$PW", system_scope: all, user_domain_name: Default}
YAML
export OS_CLIENT_CONFIG_FILE="$WORK/clouds.yaml"
os() { timeout 60 "$VENV/bin/openstack" "$@"; }

os --os-cloud ferric baremetal node create --driver fake-hardware --name tls-1 >/dev/null \
    || fail "openstack with cacert in clouds.yaml"
[ "$(os --os-cloud ferric-nocacert --os-cacert "$WORK/ca.pem" baremetal node list -f value -c Name)" = tls-1 ] \
    || fail "openstack --os-cacert"
if out=$(os --os-cloud ferric-nocacert baremetal node list 2>&1); then fail "a client without the CA got in"; fi
echo "$out" | grep -qi "ssl\|certificate" || fail "without the CA: $out"
echo "ok - the openstack client over HTTPS with --os-cacert (and cacert: in clouds.yaml); refused without it"

if [ -x "$FERRIC" ]; then
    "$FERRIC" --os-cloud ferric-nocacert --os-cacert "$WORK/ca.pem" node list --format json | grep -q '"name": "tls-1"' \
        || fail "ferric --os-cacert"
    if "$FERRIC" --os-cloud ferric-nocacert node list >/dev/null 2>&1; then fail "ferric without the CA got in"; fi
    cp "$WORK/other.pem" "$WORK/server.pem"; cp "$WORK/other.key" "$WORK/server.key"
    kill -HUP "$ferricd_pid"; sleep 0.5
    if "$FERRIC" --os-cloud ferric node list >/dev/null 2>"$WORK/ferric.err"; then
        fail "ferric accepted a certificate for another host"
    fi
    echo "ok - ferric --os-cacert gets in; without the CA, or to a certificate for another host, it is refused"
    cp "$WORK/good.pem" "$WORK/server.pem"; cp "$WORK/good.key" "$WORK/server.key"
    kill -HUP "$ferricd_pid"; sleep 0.5
    "$FERRIC" --os-cloud ferric node list >/dev/null || fail "after the reload back"
    grep -q "TLS certificate reloaded" "$WORK/ferricd.log" || fail "no reload in the log"
    echo "ok - SIGHUP reloads the certificate"
fi
echo "tls-smoke: all passed"
