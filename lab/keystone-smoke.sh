#!/usr/bin/env bash
# lab/keystone-smoke.sh FERRICD [PORT]
#
# A real OpenStack Keystone (from PyPI, lab/keystone.sh: SQLite, Fernet tokens)
# issues the tokens; ferricd validates them with --auth-strategy keystone and an
# Ironic-style [keystone_authtoken] section. The real `openstack` client finds
# ferricd in Keystone's catalog. Checked: a system admin sees every node, a project
# member only its project's; a wrong, a revoked and an expired token get
# keystonemiddleware's 401; with Keystone stopped, a token ferricd has not seen
# gets 503. Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/lib/smoke.sh
source lab/lib/smoke.sh
smoke_extra_cleanup() { bash lab/keystone.sh stop "$WORK/keystone" 2>/dev/null || true; }
smoke_init keystone
FERRICD="${1:?usage: lab/keystone-smoke.sh FERRICD [PORT]}"
PORT="${2:-6553}"
KS_PORT="${FERRIC_KEYSTONE_PORT:-5001}"
API="http://127.0.0.1:$PORT"
# Keystone's tokens live 30 s here, so an expired one is quick to get.
KS="$(bash lab/keystone.sh start "$WORK/keystone" "$KS_PORT" 30)" || fail "Keystone did not start"
ADMIN_PW="$(cat "$WORK/keystone/admin-password")"
export OS_AUTH_URL="$KS/v3" OS_USERNAME=admin OS_PASSWORD="$ADMIN_PW" OS_USER_DOMAIN_NAME=Default \
    OS_PROJECT_NAME=admin OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne
os() { timeout 60 "$VENV/bin/openstack" "$@"; }
os project create acme >/dev/null || fail "project create"
os user create --password alice-pw alice >/dev/null || fail "user create alice"
os role add --project acme --user alice member || fail "role add member"
os user create --password svc-pw ferric-svc >/dev/null || fail "user create ferric-svc"
os role add --project admin --user ferric-svc service || fail "role add service"
os service create --name ironic baremetal >/dev/null || fail "service create"
os endpoint create --region RegionOne baremetal public "$API" >/dev/null || fail "endpoint create"
ACME="$(os project show acme -f value -c id)"
KS_VERSION="$("${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/keystone-venv/bin/python" -c \
    'from importlib import metadata; print(metadata.version("keystone"))')"
echo "ok - Keystone $KS_VERSION from PyPI: projects, users, roles and ferricd in its catalog"

cat >"$WORK/ferricd.toml" <<TOML
[auth]
strategy = "keystone"
[keystone_authtoken]
www_authenticate_uri = "$KS/v3"
auth_url = "$KS"
auth_type = "password"
username = "ferric-svc"
password = "svc-pw"
project_name = "admin"
user_domain_name = "Default"
project_domain_name = "Default"
token_cache_time = 2
memcached_servers = "127.0.0.1:11211"
TOML
"$FERRICD" --listen "127.0.0.1:$PORT" --data-dir "$WORK/var" --config "$WORK/ferricd.toml" --log debug \
    >"$WORK/ferricd.log" 2>&1 &
ferricd_pid=$!
for _ in $(seq 1 100); do curl -sf "$API/v1" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$API/v1" >/dev/null || fail "ferricd did not start"

sys() { OS_PROJECT_NAME='' OS_PROJECT_DOMAIN_NAME='' os --os-system-scope all "$@"; }
alice() { OS_USERNAME=alice OS_PASSWORD=alice-pw OS_PROJECT_NAME=acme os "$@"; }
sys baremetal node create --driver fake-hardware --name acme-1 --owner "$ACME" >/dev/null || fail "system admin's node create"
sys baremetal node create --driver fake-hardware --name other-1 >/dev/null || fail "system admin's second node"
[ "$(sys baremetal node list -f value -c Name | sort | tr '\n' ' ')" = "acme-1 other-1 " ] || fail "the system admin's list"
[ "$(alice baremetal node list -f value -c Name)" = acme-1 ] || fail "the project member's list"
if out=$(alice baremetal node delete acme-1 2>&1); then fail "a member deleted a node"; fi
echo "$out" | grep -q "HTTP 403" || fail "the member's delete got: $out"
echo "ok - Keystone tokens: the system admin sees every node, a project member its project's (and may not delete)"

code() { curl -s -o "$WORK/body" -w '%{http_code}' -H "X-Auth-Token: $1" -H "X-OpenStack-Ironic-API-Version: 1.89" "$API/v1/nodes"; }
[ "$(code not-a-keystone-token)" = 401 ] || fail "a wrong token"
grep -q '"The request you have made requires authentication."' "$WORK/body" || fail "the 401 body: $(cat "$WORK/body")"
TOKEN="$(alice token issue -f value -c id)"
[ "$(code "$TOKEN")" = 200 ] || fail "alice's token"
os token revoke "$TOKEN" || fail "token revoke"
sleep 3
[ "$(code "$TOKEN")" = 401 ] || fail "a revoked token was accepted"
TOKEN="$(alice token issue -f value -c id)"
[ "$(code "$TOKEN")" = 200 ] || fail "a fresh token"
sleep 31
[ "$(code "$TOKEN")" = 401 ] || fail "an expired token was accepted"
echo "ok - wrong, revoked and expired tokens get keystonemiddleware's 401"

TOKEN="$(alice token issue -f value -c id)"
bash lab/keystone.sh stop "$WORK/keystone"
[ "$(code "$TOKEN")" = 503 ] || fail "with Keystone stopped: $(cat "$WORK/body")"
grep -q "The Keystone service is temporarily unavailable." "$WORK/body" || fail "the 503 body: $(cat "$WORK/body")"
echo "ok - Keystone stopped: 503"
for secret in svc-pw alice-pw "$ADMIN_PW" "$TOKEN"; do
    grep -qF -- "$secret" "$WORK/ferricd.log" && fail "a secret is in ferricd's debug log"
done
echo "ok - no password or token in ferricd's debug log"
echo "keystone-smoke: all passed"
