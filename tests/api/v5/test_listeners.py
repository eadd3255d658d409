"""/api/v5/listeners: the listeners as they run, and listeners created, changed, stopped,
started and deleted at run time, with real clients connecting to them."""

from __future__ import annotations

import socket

from tests.api.v5.conftest import restart
from tests.durability.process import Wire, free_port
from tests.interop.test_access_paho import connack


def reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_listed_with_their_state(api, api_node, mqtt_client, prefix) -> None:
    mqtt_client(prefix + "c")
    listed = api.get("/listeners").json()
    assert [item["id"] for item in listed] == ["tcp:default", "ssl:default", "ws:default", "wss:default"]
    tcp = api.get("/listeners/tcp:default").json()
    assert tcp["bind"] == f"127.0.0.1:{api_node.port}" and tcp["type"] == "tcp" and tcp["name"] == "default"
    assert tcp["status"]["running"] is True and tcp["status"]["current_connections"] >= 1
    assert tcp["node_status"][0]["status"] == tcp["status"]
    assert api.get("/listeners/ssl:default").json()["status"]["running"] is False
    assert [item["id"] for item in api.get("/listeners", params={"type": "ws"}).json()] == ["ws:default"]
    assert api.get("/listeners/tcp:nope").json() == {
        "code": "BAD_LISTENER_ID",
        "message": "Listener id not found",
    }
    assert api.get("/listeners/garbage").status_code == 400
    assert api.get("/listeners", params={"type": "quic"}).status_code == 400


def test_created_changed_stopped_started_deleted(api, api_node, prefix) -> None:
    port = free_port()
    created = api.post("/listeners", json={"type": "tcp", "name": "extra", "bind": f"127.0.0.1:{port}"})
    assert created.status_code == 200, created.text
    assert created.json()["status"]["running"] is True
    assert connack(port, 5, prefix + "x") == 0
    again = api.post("/listeners", json={"type": "tcp", "name": "extra", "bind": f"127.0.0.1:{free_port()}"})
    assert again.status_code == 400 and again.json()["code"] == "BAD_LISTENER_ID"

    mounted = api.put("/listeners/tcp:extra", json={"mountpoint": "m/"})
    assert mounted.json()["mountpoint"] == "m/" and mounted.json()["bind"] == f"127.0.0.1:{port}"

    assert api.post("/listeners/tcp:extra/stop").status_code == 200
    assert not reachable(port)
    assert api.get("/listeners/tcp:extra").json()["enable"] is False
    restart(api_node)  # stays stopped, and is still there
    assert not reachable(port) and api.get("/listeners/tcp:extra").json()["mountpoint"] == "m/"
    assert api.post("/listeners/tcp:extra/start").status_code == 200
    assert connack(port, 5, prefix + "y") == 0
    assert api.post("/listeners/tcp:extra/restart").status_code == 200
    assert reachable(port)

    assert api.delete("/listeners/tcp:extra").status_code == 204
    assert not reachable(port) and api.get("/listeners/tcp:extra").status_code == 404
    assert api.delete("/listeners/tcp:default").json()["code"] == "NOT_ALLOWED"


def test_a_port_in_use_is_refused_and_nothing_changes(api, api_node, prefix) -> None:
    taken = api.post("/listeners/tcp:clash", json={"bind": f"127.0.0.1:{api_node.port}"})
    assert taken.status_code == 400 and taken.json()["code"] == "UPDATE_FAILED"
    assert api.get("/listeners/tcp:clash").status_code == 404
    wire = Wire(api_node.port)  # the default listener still serves
    assert wire.connect(prefix + "still").reason_code == 0
    wire.close()
    bad = api.put("/listeners/tcp:default", json={"max_connections": -1})
    assert bad.status_code == 400 and "listeners.tcp.default.max_connections" in bad.json()["message"]
