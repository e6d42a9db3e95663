#!/usr/bin/env bash
# lab/identity-smoke.sh FERRICD [PORT]
#
# The real `openstack` client against Ferric's built-in identity service, with a
# clouds.yaml and no Keystone installed: the first administrator (made at first
# start) creates two projects and their users; each project's admin creates and
# sees only its nodes; a lessee deploys a node it leases and sees the redacted
# fields; a reader changes nothing; an application credential works; a revoked and
# an expired token get 401; `ferric --os-cloud` reads the same clouds.yaml. Listens on
# 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/lib/smoke.sh
source lab/lib/smoke.sh
smoke_init identity
FERRICD="${1:?usage: lab/identity-smoke.sh FERRICD [PORT]}"
PORT="${2:-6551}"
BASE="http://127.0.0.1:$PORT"
printf '[identity]\ntoken_expiration = 20\n' >"$WORK/ferricd.toml"
"$FERRICD" --listen "127.0.0.1:$PORT" --data-dir "$WORK/var" --config "$WORK/ferricd.toml" --log debug \
    --enable-identity --auth-strategy keystone >"$WORK/ferricd.log" 2>&1 &
ferricd_pid=$!
for _ in $(seq 1 100); do curl -sf "$BASE/v1" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$BASE/v1" >/dev/null || fail "ferricd did not start"
ADMIN_PW="$(cat "$WORK/var/identity-admin-password")"

cloud() { # name user password [project|system]
    local scope="project_name: $4, project_domain_name: Default"
    [ "$4" = system ] && scope="system_scope: all"
    printf '  %s:\n    auth_type: password\n    identity_api_version: 3\n    auth: {auth_url: "%s/identity", username: %s, password: "%s", user_domain_name: Default, %s}\n' \
        "$1" "$BASE" "$2" "$3" "$scope" >>"$WORK/clouds.yaml"
}
echo "clouds:" >"$WORK/clouds.yaml"
cloud system admin "$ADMIN_PW" system
export OS_CLIENT_CONFIG_FILE="$WORK/clouds.yaml"
os() { timeout 60 "$VENV/bin/openstack" --os-cloud "$@"; }

for p in acme beta tenant; do os system project create "$p" >/dev/null || fail "project create $p"; done
for spec in alice:acme:admin bob:beta:admin carol:acme:reader lee:tenant:admin; do
    IFS=: read -r user project role <<<"$spec"
    os system user create --password "$user-pw" "$user" >/dev/null || fail "user create $user"
    os system role add --project "$project" --user "$user" "$role" || fail "role add $role $user"
    cloud "$user" "$user" "$user-pw" "$project"
done
[ "$(os system role assignment list --names -f value -c Role -c User | grep -c '@Default')" -ge 5 ] \
    || fail "role assignment list"
echo "ok - the bootstrap admin created projects, users and role assignments with the openstack client"

os alice baremetal node create --driver fake-hardware --name acme-1 >/dev/null || fail "alice's node create"
os bob baremetal node create --driver fake-hardware --name beta-1 >/dev/null || fail "bob's node create"
ACME="$(os system project show acme -f value -c id)"
[ "$(os alice baremetal node show acme-1 -f value -c owner)" = "$ACME" ] || fail "acme-1 is not acme's"
[ "$(os alice baremetal node list -f value -c Name)" = acme-1 ] || fail "alice sees other nodes"
[ "$(os bob baremetal node list -f value -c Name)" = beta-1 ] || fail "bob sees other nodes"
[ "$(os system baremetal node list -f value -c Name | sort | tr '\n' ' ')" = "acme-1 beta-1 " ] \
    || fail "the system admin does not see every node"
if out=$(os bob baremetal node show acme-1 2>&1); then fail "bob saw acme's node"; fi
echo "$out" | grep -q "could not be found" || fail "another project's node: $out"
echo "ok - each project admin created a node its project owns and sees only its own"

if out=$(os carol baremetal node set acme-1 --extra a=b 2>&1); then fail "a reader changed a node"; fi
echo "$out" | grep -q "HTTP 403" || fail "the reader's change got: $out"
echo "ok - a reader is refused with 403"

TENANT="$(os system project show tenant -f value -c id)"
os alice baremetal node set acme-1 --lessee "$TENANT" --driver-info ipmi_password=s3cret || fail "alice sets the lessee"
os alice baremetal node manage acme-1 --wait 60 || fail "the owner manages its node"
os alice baremetal node provide acme-1 --wait 60 || fail "the owner provides its node"
os lee baremetal node deploy acme-1 --wait 60 || fail "the lessee deploys the node it leases"
[ "$(os lee baremetal node show acme-1 -f value -c provision_state)" = active ] || fail "not active"
shown="$(os lee baremetal node show acme-1 -f json)"
echo "$shown" | grep -q 'Redacted - requires baremetal:node:get:driver_info permission' \
    || fail "the lessee sees driver_info: $shown"
echo "$shown" | grep -q 's3cret' && fail "the lessee sees the BMC password"
[ "$(os lee baremetal node list -f value -c Name)" = acme-1 ] || fail "the lessee's list"
echo "ok - the lessee deployed the node it leases and sees driver_info redacted"

CRED="$(os alice application credential create ci -f value -c id -c secret | tr '\n' ' ')"
read -r CRED_ID CRED_SECRET <<<"$CRED"
printf '  alice-ci:\n    auth_type: v3applicationcredential\n    auth: {auth_url: "%s/identity", application_credential_id: %s, application_credential_secret: %s}\n' \
    "$BASE" "$CRED_ID" "$CRED_SECRET" >>"$WORK/clouds.yaml"
[ "$(os alice-ci baremetal node list -f value -c Name)" = acme-1 ] || fail "the application credential's list"
echo "ok - an application credential authenticates the openstack client"

FERRIC="$(dirname "$FERRICD")/ferric"
if [ -x "$FERRIC" ]; then
    "$FERRIC" --os-cloud alice-ci node list --format json | grep -q '"name": "acme-1"' \
        || fail "ferric --os-cloud with an application credential"
    [ "$("$FERRIC" --os-cloud bob node list --format json | grep -c '"name"')" = 1 ] \
        || fail "ferric --os-cloud bob sees other nodes"
    if "$FERRIC" --os-cloud carol node set acme-1 --extra a=b 2>"$WORK/ferric.err"; then
        fail "ferric let a reader change a node"
    fi
    grep -q "baremetal:node:update_extra" "$WORK/ferric.err" || fail "ferric's refusal: $(cat "$WORK/ferric.err")"
    echo "ok - ferric --os-cloud reads the clouds.yaml (password and application credential)"
fi

TOKEN="$(os alice token issue -f value -c id)"
code() { curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $1" -H "X-OpenStack-Ironic-API-Version: 1.89" "$BASE/v1/nodes"; }
[ "$(code "$TOKEN")" = 200 ] || fail "a fresh token"
os alice token revoke "$TOKEN" || fail "token revoke"
[ "$(code "$TOKEN")" = 401 ] || fail "a revoked token was accepted"
TOKEN="$(os alice token issue -f value -c id)"
sleep 21
[ "$(code "$TOKEN")" = 401 ] || fail "an expired token was accepted"
echo "ok - revoked and expired tokens get 401"

for secret in "$ADMIN_PW" alice-pw s3cret "$CRED_SECRET" "$TOKEN"; do
    grep -qF -- "$secret" "$WORK/ferricd.log" && fail "a secret is in ferricd's debug log"
done
echo "ok - no password, secret or token in ferricd's debug log"
echo "identity-smoke: all passed"
