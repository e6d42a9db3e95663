#!/usr/bin/env bash
# lab/http-basic-smoke.sh FERRICD [PORT]
#
# ferricd with http_basic authentication, driven the ways Ironic users do it: the
# real `openstack baremetal` client with OS_AUTH_TYPE=http_basic (keystoneauth's
# plugin; the client of lab/ironicclient-smoke.sh, whose virtualenv it reuses),
# Metal3's way (credentials in the URL, basic auth), a wrong password refused with
# Ironic's answer, users scoped to projects (htpasswd lines with project= and roles=)
# each seeing only their project's nodes, and no password in ferricd's debug log.
# Listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/lib/smoke.sh
source lab/lib/smoke.sh
smoke_init http-basic
FERRICD="${1:?usage: lab/http-basic-smoke.sh FERRICD [PORT]}"
PORT="${2:-6550}"
ENDPOINT="http://127.0.0.1:$PORT"
PASSWORD="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
htpasswd -B -b -c "$WORK/htpasswd" operator "$PASSWORD" 2>/dev/null
# Project users: an admin in each of two projects, and a reader.
for spec in alice:acme:admin bob:beta:admin carol:acme:reader; do
    IFS=: read -r user project role <<<"$spec"
    htpasswd -B -b "$WORK/htpasswd" "$user" "$PASSWORD" 2>/dev/null
    sed -i "s|^$user:.*|&:project=$project:roles=$role|" "$WORK/htpasswd"
done
"$FERRICD" --listen "127.0.0.1:$PORT" --data-dir "$WORK/var" --log debug \
    --auth-strategy http_basic --http-basic-auth-user-file "$WORK/htpasswd" >"$WORK/ferricd.log" 2>&1 &
ferricd_pid=$!
for _ in $(seq 1 100); do curl -sf "$ENDPOINT/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$ENDPOINT/" >/dev/null || fail "ferricd did not start"

as_user() {
    OS_AUTH_TYPE=http_basic OS_USERNAME="$1" OS_PASSWORD="$2" OS_ENDPOINT="$ENDPOINT" \
        timeout 60 "$VENV/bin/openstack" baremetal "${@:3}"
}
osc() { as_user operator "$@"; }
osc "$PASSWORD" node create --driver fake-hardware --name hb-1 -f value -c uuid >/dev/null \
    || fail "openstack baremetal node create with http_basic"
[ "$(osc "$PASSWORD" node list -f value -c Name)" = hb-1 ] || fail "openstack baremetal node list with http_basic"
echo "ok - the openstack client (OS_AUTH_TYPE=http_basic) created and listed a node"

if out=$(osc wrong-password node list 2>&1); then fail "a wrong password was let in"; fi
echo "$out" | grep -q "HTTP 401" || fail "a wrong password got: $out"
body=$(curl -s -u "operator:wrong" "$ENDPOINT/v1/nodes")
[ "$body" = '{"error":{"code":401,"message":"Incorrect username or password"}}' ] \
    || [ "$body" = '{"error":{"message":"Incorrect username or password","code":401}}' ] \
    || fail "a wrong password's body: $body"
echo "ok - a wrong password is refused: the client reports HTTP 401, the body is Ironic's"

[ "$(curl -s -o /dev/null -w '%{http_code}' "$ENDPOINT/v1/nodes")" = 401 ] || fail "no credentials were let in"
body=$(curl -sf -H "X-OpenStack-Ironic-API-Version: 1.89" "http://operator:$PASSWORD@127.0.0.1:$PORT/v1/nodes") \
    || fail "credentials in the URL (Metal3's way) were refused"
echo "$body" | grep -q '"name": *"hb-1"' || fail "the URL-credentials listing lacks the node: $body"
echo "ok - credentials in the URL (Metal3's way) work; none get 401"

# Tenancy without Keystone: each project admin creates a node its project owns and
# sees only its project's nodes; another project's node is not found; a reader
# cannot change anything.
as_user alice "$PASSWORD" node create --driver fake-hardware --name acme-1 >/dev/null \
    || fail "a project admin could not create a node"
as_user bob "$PASSWORD" node create --driver fake-hardware --name beta-1 >/dev/null \
    || fail "the second project's admin could not create a node"
[ "$(as_user alice "$PASSWORD" node show acme-1 -f value -c owner)" = acme ] \
    || fail "a project admin's node is not owned by its project"
[ "$(as_user alice "$PASSWORD" node list -f value -c Name)" = acme-1 ] || fail "alice sees other nodes"
[ "$(as_user bob "$PASSWORD" node list -f value -c Name)" = beta-1 ] || fail "bob sees other nodes"
[ "$(as_user carol "$PASSWORD" node list -f value -c Name)" = acme-1 ] || fail "the reader's list"
[ "$(osc "$PASSWORD" node list -f value -c Name | sort | tr '\n' ' ')" = "acme-1 beta-1 hb-1 " ] \
    || fail "the unrestricted operator does not see every node"
if out=$(as_user bob "$PASSWORD" node show acme-1 2>&1); then fail "bob saw alice's node"; fi
echo "$out" | grep -q "could not be found" || fail "another project's node: $out"
if out=$(as_user carol "$PASSWORD" node set acme-1 --extra a=b 2>&1); then fail "a reader changed a node"; fi
echo "$out" | grep -q "HTTP 403" || fail "a reader's change got: $out"
echo "$out" | grep -q "baremetal:node:update_extra" || fail "the 403 does not name the rule: $out"
echo "ok - project users (htpasswd project= roles=) own and see only their nodes; a reader gets 403"
grep 'INFO' "$WORK/ferricd.log" | grep 'method=POST' | grep -q 'user=alice project=acme' \
    || fail "the log does not say alice of acme created a node"
echo "ok - the log names the user and project of each change"

grep -q "$PASSWORD" "$WORK/ferricd.log" && fail "the password is in ferricd's log"
grep -q "DEBUG" "$WORK/ferricd.log" || fail "ferricd did not log at debug level"
echo "ok - the password is not in ferricd's debug log"
echo "http-basic-smoke: all passed"
