"""The minirest framework as ``/api/v4`` serves it: the route list, Basic auth with apps (the v5
API keys), roles, plain-text 401/404/400, the envelope, and the node family's shapes."""

from __future__ import annotations

import re

import httpx

from tests.api.legacy import walk_routes
from tests.api.v5.conftest import KEYS


def test_the_root_lists_every_route_as_minirest_does(v4):
    reply = v4.get("/")
    assert reply.status_code == 200
    body = reply.json()
    assert body["code"] == 0
    routes = {(r["method"], r["path"]) for r in body["data"]}
    assert ("GET", "/nodes/:node/stats") in routes and ("GET", "/brokers") in routes
    assert all(set(r) == {"name", "method", "path", "descr"} for r in body["data"])


def test_every_listed_route_answers_for_each_credential(api_node):
    walk_routes(api_node, "/api/v4")


def test_unknown_routes_and_bad_json(v4, api_node):
    assert v4.get("/no/such/route").status_code == 404
    assert v4.get("/no/such/route").text == "Not found."
    assert v4.delete("/brokers").text == "Not found."  # a known path, another method
    reply = v4.request("GET", "/nodes", content=b"{not json", headers={"content-type": "application/json"})
    assert reply.status_code == 400 and reply.text == "Bad Request"
    nan = v4.post("/acl", content=b'{"clientid": NaN}', headers={"content-type": "application/json"})
    assert nan.status_code == 400 and nan.text == "Bad Request"  # Python's json takes NaN, JSON does not
    huge = v4.post("/acl", content=b'[{"clientid": [1e400]}]', headers={"content-type": "application/json"})
    assert huge.json() == {"code": 108, "message": "the number 1e400 is out of range"}  # never echoed as inf
    huge = v4.post("/mqtt/subscribe", content=b'{"topic":"t","clientid":"' + b"x" * 1_100_000 + b'"}')
    assert huge.status_code == 413 and "larger than" in huge.text
    status = httpx.get(f"http://127.0.0.1:{api_node.mgmt_port}/status")
    assert status.status_code == 200 and "is started" in status.text
    assert httpx.get(f"http://127.0.0.1:{api_node.mgmt_port}/elsewhere").text == "Not found."


def test_brokers_and_nodes_in_emqx_4_shapes(v4):
    [broker] = v4.get("/brokers").json()["data"]
    assert set(broker) == {"version", "sysdescr", "uptime", "datetime", "node", "otp_release", "node_status"}
    assert broker["node_status"] == "Running"
    assert re.fullmatch(r"(\d+ \w+, )*\d+ seconds", broker["uptime"])
    assert v4.get(f"/brokers/{broker['node']}").json()["data"]["node"] == broker["node"]
    [node] = v4.get("/nodes").json()["data"]
    for key in ("memory_total", "memory_used", "load1", "load5", "load15"):
        assert isinstance(node[key], str), key
    assert node["connections"] >= 0 and node["max_fds"] > 0
    other = v4.get("/nodes/someone@elsewhere").json()
    assert other["code"] == 101 and "someone@elsewhere" in other["message"]


def test_stats_and_metrics_cluster_wide_and_per_node(v4):
    [row] = v4.get("/stats").json()["data"]
    assert set(row) == {"node", "stats"} and "connections.count" in row["stats"]
    flat = v4.get(f"/nodes/{row['node']}/stats").json()["data"]
    assert "connections.count" in flat
    [metrics] = v4.get("/metrics").json()["data"]
    assert "messages.received" in metrics["metrics"]
    assert (
        "client.check_acl" in metrics["metrics"] and "client.authorize" not in metrics["metrics"]
    )  # 4's names
    assert "session.takeovered" in metrics["metrics"]
    assert "messages.received" in v4.get(f"/nodes/{row['node']}/metrics").json()["data"]


def test_prometheus_needs_no_credentials(api_node):
    base = f"http://127.0.0.1:{api_node.mgmt_port}/api/v4/emqx_prometheus"
    text = httpx.get(base)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert "# TYPE emqx_connections_count gauge" in text.text
    as_json = httpx.get(base, params={"type": "json"}).json()
    assert as_json["code"] == 0 and "emqx_messages_received" in as_json["data"]


def test_the_dashboard_listener_serves_v4_to_dashboard_users_and_apps(api_node):
    base = f"http://127.0.0.1:{api_node.api_port}/api/v4"
    with httpx.Client(base_url=base, auth=("admin", "public"), timeout=10) as user:
        assert user.get("/nodes").json()["code"] == 0
    with httpx.Client(base_url=base, auth=KEYS["viewer"], timeout=10) as app:
        assert app.get("/brokers").json()["code"] == 0
    refused = httpx.get(f"{base}/nodes", auth=("admin", "wrong-password"))
    assert refused.status_code == 401 and refused.text == "UNAUTHORIZED"
    mgmt = f"http://127.0.0.1:{api_node.mgmt_port}/api/v4/nodes"
    assert httpx.get(mgmt, auth=("admin", "public")).status_code == 401  # users only on the dashboard
    assert httpx.get(f"http://127.0.0.1:{api_node.api_port}/api/v5/status").status_code == 200  # v5 stays


def test_a_message_of_the_largest_packet_can_be_published(v4):
    big = v4.post("/mqtt/publish", json={"topic": "big/one", "payload": "x" * 1_000_000})
    assert big.status_code == 200 and big.json() == {"code": 0}
