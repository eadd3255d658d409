"""/api/v5 nodes, metrics, stats, monitor, cluster and prometheus of a broker process."""

from __future__ import annotations

import httpx

from tests.api.v5.conftest import wait_for
from tests.interop.test_paho import subscribed

NODE = "brookmq@127.0.0.1"


def test_nodes_describe_this_node(api) -> None:
    (node,) = api.get("/nodes").json()
    assert node["node"] == NODE and node["node_status"] == "running" and node["role"] == "core"
    assert node["edition"] == "Opensource" and node["version"] and node["uptime"] > 0
    assert node["memory_used"].endswith(("K", "M", "G")) and node["max_fds"] > 0
    assert isinstance(node["load1"], float) and isinstance(node["connections"], int)
    assert api.get(f"/nodes/{NODE}").json()["node"] == NODE
    missing = api.get("/nodes/other@host")
    assert missing.status_code == 404 and missing.json() == {
        "code": "NOT_FOUND",
        "message": "Node not found: other@host",
    }
    assert api.get("/nodes/other@host/metrics").status_code == 404
    assert api.get("/nodes/other@host/stats").status_code == 404
    assert api.get("/cluster").json() == {"name": "brookmq", "nodes": [NODE], "self": NODE}


def test_metrics_count_what_happened(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "m")
    subscribed(c, f"{prefix}/m", 0)
    before = api.get("/metrics", params={"aggregate": True}).json()
    for _ in range(7):
        api.post("/publish", json={"topic": f"{prefix}/m", "payload": "x", "qos": 1})
    after = api.get("/metrics", params={"aggregate": True}).json()
    assert after["messages.received"] - before["messages.received"] == 7
    assert after["messages.qos1.received"] - before["messages.qos1.received"] == 7
    assert set(after) >= {"bytes.received", "packets.connect.received", "client.connected", "session.created"}
    (per_node,) = api.get("/metrics").json()
    assert per_node["node"] == NODE and per_node["messages.received"] >= after["messages.received"]
    assert api.get("/metrics", params={"node": "nobody@nowhere"}).json() == []
    assert api.get(f"/nodes/{NODE}/metrics").json()["messages.received"] >= after["messages.received"]


def test_stats_follow_connections_and_subscriptions(api, mqtt_client, prefix) -> None:
    before = api.get("/stats", params={"aggregate": True}).json()
    c = mqtt_client(prefix + "s")
    subscribed(c, f"{prefix}/s/+", 1)
    after = api.get("/stats", params={"aggregate": "true"}).json()
    assert after["connections.count"] == before["connections.count"] + 1
    assert after["subscriptions.count"] == before["subscriptions.count"] + 1
    assert after["topics.count"] == before["topics.count"] + 1
    assert after["connections.max"] >= after["connections.count"]
    (per_node,) = api.get("/stats").json()
    assert per_node["node"] == NODE and "retained.count" in per_node
    assert api.get(f"/nodes/{NODE}/stats").json()["connections.count"] == after["connections.count"]


def test_monitor_samples_and_current_rates(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "mon")
    subscribed(c, f"{prefix}/mon", 0)
    assert api.delete("/monitor").status_code == 204
    for _ in range(5):
        api.post("/publish", json={"topic": f"{prefix}/mon", "payload": "x"})
    samples = wait_for(lambda: api.get("/monitor").json())  # the test node samples every second
    keys = {
        "time_stamp",
        "connections",
        "live_connections",
        "subscriptions",
        "topics",
        "received",
        "sent",
        "dropped",
        "persisted",
    }
    assert set(samples[0]) == keys
    wait_for(lambda: sum(s["received"] for s in api.get("/monitor").json()) >= 5)
    assert api.get("/monitor", params={"latest": 3600}).json()
    assert api.get(f"/monitor/nodes/{NODE}").status_code == 200
    assert api.get("/monitor/nodes/nobody@x").status_code == 404
    assert api.get("/monitor", params={"latest": 0}).status_code == 400
    current = api.get("/monitor_current").json()
    assert current["connections"] >= 1 and current["subscriptions"] >= 1 and "received_msg_rate" in current
    node_current = api.get(f"/monitor_current/nodes/{NODE}").json()
    assert node_current["node_uptime"] >= 0


def test_prometheus_needs_no_credentials(api_node, api) -> None:
    url = f"http://127.0.0.1:{api_node.api_port}/api/v5/prometheus/stats"
    text = httpx.get(url)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    lines = text.text.splitlines()
    assert "# TYPE emqx_connections_count gauge" in lines
    assert "# TYPE emqx_messages_received counter" in lines
    values = dict(line.split(" ", 1) for line in lines if not line.startswith("#"))
    assert values["emqx_cluster_nodes_running"] == "1"
    received = api.get("/metrics", params={"aggregate": True}).json()["messages.received"]
    as_json = httpx.get(url, headers={"accept": "application/json"}).json()
    assert as_json["emqx_messages_received"] >= received and "emqx_packets_publish_received" in as_json
