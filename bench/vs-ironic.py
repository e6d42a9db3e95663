"""The client half of bench/vs-ironic.sh: the same requests against one Ironic-API
server (OpenStack Ironic or ferricd), printed as one JSON object.

    vs-ironic.py URL NODES CYCLE_NODES

Creates NODES fake-hardware nodes (8 in flight: 8 processes, each with one
kept-alive connection, so the client is not what is measured), times the
detailed listing of them, takes CYCLE_NODES more through manage -> provide ->
deploy (8 at a time, polling each node every 20 ms), then deletes the NODES nodes
(8 in flight). The single-node GET rate comes from wrk, run by the shell script.
"""

import concurrent.futures
import http.client
import json
import sys
import threading
import time
import urllib.parse

import requests

HEADERS = {
    "X-OpenStack-Ironic-API-Version": "1.89",
    "Content-Type": "application/json",
}
IN_FLIGHT = 8
POLL = 0.02
local = threading.local()


def session():
    if not hasattr(local, "session"):
        local.session = requests.Session()
        local.session.headers.update(HEADERS)
    return local.session


def call(method, url, body=None, ok=(200, 201, 202, 204)):
    r = session().request(method, url, json=body, timeout=60)
    if r.status_code not in ok:
        raise SystemExit(f"{method} {url}: {r.status_code} {r.text[:300]}")
    return r


def parallel(job, items):
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
        results = list(pool.map(job, items))
    return time.monotonic() - started, results


class Connection:
    """One kept-alive HTTP connection; reconnects once when the server closed it."""

    def __init__(self, api):
        url = urllib.parse.urlparse(api)
        self.host, self.port = url.hostname, url.port
        self.conn = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=HEADERS)
                reply = self.conn.getresponse()
                raw = reply.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if reply.will_close:
                self.conn.close()
                self.conn = None
            if reply.status not in (200, 201, 202, 204):
                raise SystemExit(f"{method} {path}: {reply.status} {raw[:300]!r}")
            return raw


def create_slice(api, prefix, numbers):
    conn = Connection(api)
    return [
        json.loads(conn.call("POST", "/v1/nodes", {"driver": "fake-hardware", "name": f"{prefix}-{i}"}))[
            "uuid"
        ]
        for i in numbers
    ]


def delete_slice(api, uuids):
    conn = Connection(api)
    for uuid in uuids:
        conn.call("DELETE", f"/v1/nodes/{uuid}")
    return []


def in_processes(job, api, items, *args):
    """Runs `job(api, *args, slice)` on IN_FLIGHT processes, each slice's results a
    list; the time and every result."""
    slices = [items[k::IN_FLIGHT] for k in range(IN_FLIGHT)]
    with concurrent.futures.ProcessPoolExecutor(IN_FLIGHT) as pool:
        # The processes start before the clock does.
        list(pool.map(time.sleep, [0.2] * IN_FLIGHT))
        started = time.monotonic()
        results = list(pool.map(job, [api] * IN_FLIGHT, *[[a] * IN_FLIGHT for a in args], slices))
    return time.monotonic() - started, [r for part in results for r in part]


def create(api, prefix, count):
    return in_processes(create_slice, api, list(range(count)), prefix)


def wait_for(api, uuid, state):
    while True:
        node = call("GET", f"{api}/v1/nodes/{uuid}").json()
        if node["provision_state"] == state and not node.get("target_provision_state"):
            return
        if node.get("last_error"):
            raise SystemExit(f"node {uuid}: {node['last_error']}")
        time.sleep(POLL)


def cycle(api, uuid):
    for verb, state in (("manage", "manageable"), ("provide", "available"), ("active", "active")):
        while True:
            r = session().put(
                f"{api}/v1/nodes/{uuid}/states/provision", json={"target": verb}, timeout=60
            )
            if r.status_code == 202:
                break
            if r.status_code not in (409, 503):
                raise SystemExit(f"{verb} of {uuid}: {r.status_code} {r.text[:300]}")
            time.sleep(POLL)
        wait_for(api, uuid, state)


def main():
    api, nodes, cycle_nodes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out = {}
    took, uuids = create(api, "bench", nodes)
    out["create_per_s"] = nodes / took
    listings = []
    for _ in range(5):
        started = time.monotonic()
        r = call("GET", f"{api}/v1/nodes/detail?limit={nodes}")
        listings.append(time.monotonic() - started)
        if len(r.json()["nodes"]) != nodes:
            raise SystemExit(f"the listing had {len(r.json()['nodes'])} nodes, not {nodes}")
    out["list_detail_s"] = sorted(listings)
    _, cycled = create(api, "cycle", cycle_nodes)
    took, _ = parallel(lambda u: cycle(api, u), cycled)
    out["cycle_s"] = took
    took, _ = in_processes(delete_slice, api, uuids)
    out["delete_per_s"] = nodes / took
    print(json.dumps(out))


if __name__ == "__main__":
    main()
