"""``/api/v3`` on the shared legacy framework: the route list of seed 000 (what is served so
far), with and without the trailing slash, every route as every credential, the 3.x shapes of
brokers, nodes, stats and metrics."""

from __future__ import annotations

import httpx

from tests.api.legacy import walk_routes

# Seed 000's `GET /api/v3/` list: every route.
SEED_ROUTES = {
    ("GET", "/auth_clientid"),
    ("GET", "/auth_clientid/:clientid"),
    ("POST", "/auth_clientid"),
    ("PUT", "/auth_clientid/:clientid"),
    ("DELETE", "/auth_clientid/:clientid"),
    ("GET", "/auth_username"),
    ("GET", "/auth_username/:username"),
    ("POST", "/auth_username"),
    ("PUT", "/auth_username/:username"),
    ("DELETE", "/auth_username/:username"),
    ("POST", "/auth"),
    ("POST", "/users/"),
    ("GET", "/users/"),
    ("PUT", "/users/:name"),
    ("DELETE", "/users/:name"),
    ("PUT", "/change_pwd/:username"),
    ("GET", "/alarms/present"),
    ("GET", "/alarms/present/:node"),
    ("GET", "/alarms/history"),
    ("GET", "/alarms/history/:node"),
    ("POST", "/apps/"),
    ("DELETE", "/apps/:appid"),
    ("GET", "/apps/"),
    ("GET", "/apps/:appid"),
    ("PUT", "/apps/:appid"),
    ("GET", "/banned/"),
    ("POST", "/banned/"),
    ("DELETE", "/banned/:who"),
    ("GET", "/brokers/"),
    ("GET", "/brokers/:node"),
    ("GET", "/configs/"),
    ("GET", "/nodes/:node/configs/"),
    ("PUT", "/configs/:app"),
    ("PUT", "/nodes/:node/configs/:app"),
    ("GET", "/connections/"),
    ("GET", "/nodes/:node/connections/"),
    ("GET", "/nodes/:node/connections/:clientid"),
    ("GET", "/connections/:clientid"),
    ("GET", "/nodes/:node/connection/username/:username"),
    ("GET", "/connection/username/:username"),
    ("DELETE", "/connections/:clientid"),
    ("GET", "/listeners/"),
    ("GET", "/nodes/:node/listeners"),
    ("GET", "/metrics/"),
    ("GET", "/nodes/:node/metrics/"),
    ("GET", "/nodes/"),
    ("GET", "/nodes/:node"),
    ("POST", "/mqtt/subscribe"),
    ("POST", "/mqtt/publish"),
    ("POST", "/mqtt/unsubscribe"),
    ("GET", "/routes/"),
    ("GET", "/routes/:topic"),
    ("GET", "/sessions/"),
    ("GET", "/nodes/:node/sessions/"),
    ("GET", "/sessions/:clientid"),
    ("GET", "/nodes/:node/sessions/:clientid"),
    ("DELETE", "/sessions/persistent/:clientid"),
    ("DELETE", "/nodes/:node/sessions/persistent/:clientid"),
    ("GET", "/stats/"),
    ("GET", "/nodes/:node/stats/"),
    ("GET", "/subscriptions/"),
    ("GET", "/nodes/:node/subscriptions/"),
    ("GET", "/subscriptions/:clientid"),
    ("GET", "/nodes/:node/subscriptions/:clientid"),
    ("POST", "/rules/"),
    ("GET", "/rules/"),
    ("GET", "/rules/:id"),
    ("DELETE", "/rules/:id"),
    ("GET", "/actions/"),
    ("GET", "/actions/:name"),
    ("GET", "/rule_events/"),
    ("GET", "/resources/"),
    ("POST", "/resources/"),
    ("GET", "/resources/:id"),
    ("GET", "/resource_status/:id"),
    ("POST", "/resources/:id"),
    ("DELETE", "/resources/:id"),
    ("GET", "/resource_types/"),
    ("GET", "/resource_types/:name"),
    ("GET", "/resource_types/:type/resources"),
    ("GET", "/plugins/"),
    ("GET", "/nodes/:node/plugins/"),
    ("PUT", "/nodes/:node/plugins/:plugin/load"),
    ("PUT", "/nodes/:node/plugins/:plugin/unload"),
    ("PUT", "/nodes/:node/plugins/:plugin/reload"),
    ("GET", "/nodes/:node/plugin_configs/:plugin"),
    ("PUT", "/nodes/:node/plugin_configs/:plugin"),
}


def test_the_root_lists_the_seed_routes(v3):
    listed = v3.get("/").json()["data"]
    assert {(route["method"], route["path"]) for route in listed} == SEED_ROUTES


def test_every_listed_route_answers_for_each_credential(api_node):
    walk_routes(api_node, "/api/v3")


def test_paths_work_with_and_without_the_trailing_slash(v3):
    assert v3.get("/brokers/").json()["code"] == 0 and v3.get("/brokers").json()["code"] == 0
    assert v3.get("/nodes").json()["data"][0]["name"]
    assert v3.get("/no/such/thing").text == "Not found."


def test_brokers_nodes_stats_and_metrics_in_3x_shapes(v3):
    [broker] = v3.get("/brokers/").json()["data"]
    assert broker["node_status"] == "Running" and broker["sysdescr"]
    [node] = v3.get("/nodes/").json()["data"]
    assert node["name"] == node["node"] == broker["node"]
    assert v3.get(f"/nodes/{node['name']}").json()["data"]["name"] == node["name"]
    [stats] = v3.get("/stats/").json()["data"]
    assert stats["node"] == node["name"] and "connections/count" in stats and "stats" not in stats
    assert "subscriptions/count" in v3.get(f"/nodes/{node['name']}/stats/").json()["data"]
    [metrics] = v3.get("/metrics/").json()["data"]
    assert "messages/received" in metrics["metrics"] and "bytes/received" in metrics["metrics"]
    assert "client/check_acl" in metrics["metrics"]
    assert "packets/connect/received" in v3.get(f"/nodes/{node['name']}/metrics/").json()["data"]
    assert v3.get("/nodes/someone@elsewhere").json()["code"] == 101


def test_the_dashboard_listener_serves_v3_too(api_node):
    reply = httpx.get(f"http://127.0.0.1:{api_node.api_port}/api/v3/brokers", auth=("admin", "public"))
    assert reply.status_code == 200 and reply.json()["code"] == 0
