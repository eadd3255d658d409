"""/api/v5/connectors and /actions against a real broker and a real HTTP server: a rule's
output is POSTed to the server (a webhook), failures are retried, a dead server marks the
connector disconnected with an alarm and costs nothing but counted drops."""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.v5.conftest import restart, wait_for


class Sink:
    """An HTTP server on loopback that keeps every request; ``fail`` requests answer 503 first."""

    def __init__(self) -> None:
        self.requests: queue.Queue[tuple[str, str, dict[str, str], bytes]] = queue.Queue()
        self.fail = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if sink.fail:
                    sink.fail -= 1
                    self.send_response(503)
                else:
                    sink.requests.put((self.command, self.path, dict(self.headers), body))
                    self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    made = Sink()
    yield made
    made.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_rule_posts_to_a_webhook(api, mqtt_client, prefix, sink) -> None:
    connector = api.post(
        "/connectors",
        json={
            "type": "http",
            "name": f"{prefix}hook",
            "url": f"http://127.0.0.1:{sink.port}/in",
            "headers": {"x-from": "brookmq"},
            "resource_opts": {"health_check_interval": "1s"},
        },
    )
    assert connector.status_code == 201, connector.text
    shown = connector.json()
    assert shown["status"] == "connected" and shown["node_status"][0]["status"] == "connected"
    assert shown["connect_timeout"] == "15s" and shown["pool_size"] == 8
    action = api.post(
        "/actions",
        json={
            "type": "http",
            "name": f"{prefix}post",
            "connector": f"{prefix}hook",
            "parameters": {"path": "/${clientid}", "headers": {"x-topic": "${topic}"}, "max_retries": 3},
        },
    )
    assert action.status_code == 201, action.text
    assert action.json()["status"] == "connected" and action.json()["parameters"]["method"] == "post"
    assert api.get(f"/connectors/http:{prefix}hook").json()["actions"] == [f"{prefix}post"]
    rule = {
        "id": f"{prefix}r",
        "sql": f'SELECT payload.v AS v, clientid, topic FROM "{prefix}t/#"',
        "actions": [f"http:{prefix}post"],
    }
    assert api.post("/rules", json=rule).status_code == 201
    pub = mqtt_client(prefix + "p")
    sink.fail = 2  # the first request answers 503 twice, then succeeds on its third try
    for v in (1, 2):
        pub.publish(f"{prefix}t/x", json.dumps({"v": v}), 1).wait_for_publish(5)
    got = [sink.requests.get(timeout=10) for _ in range(2)]
    assert sorted(json.loads(body)["v"] for _, _, _, body in got) == [1, 2]
    method, path, headers, body = got[0]
    assert (method, path) == ("POST", f"/in/{prefix}p")
    assert headers["x-from"] == "brookmq" and headers["x-topic"] == f"{prefix}t/x"
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["clientid"] == prefix + "p"
    figures = wait_for(
        lambda: (m := api.get(f"/actions/http:{prefix}post/metrics").json()["metrics"])["success"] == 2 and m
    )
    assert (
        figures["matched"] == 2
        and figures["retried"] == 2
        and figures["failed"] == 0
        and figures["queuing"] == 0
    )
    rule_figures = wait_for(
        lambda: (m := api.get(f"/rules/{prefix}r/metrics").json()["metrics"])["actions.success"] == 2 and m
    )
    assert rule_figures["actions.total"] == 2 and rule_figures["actions.failed"] == 0
    summary = [s for s in api.get("/actions_summary").json() if s["name"] == f"{prefix}post"]
    assert summary[0]["rules"] == [f"{prefix}r"] and summary[0]["stats"]["success"] == 2
    in_use = api.delete(f"/actions/http:{prefix}post")
    assert in_use.status_code == 400 and "dependent rules" in in_use.json()["message"]
    assert api.delete(f"/connectors/http:{prefix}hook").status_code == 400
    assert api.delete(f"/rules/{prefix}r").status_code == 204
    assert api.delete(f"/actions/http:{prefix}post").status_code == 204
    assert api.delete(f"/connectors/http:{prefix}hook").status_code == 204
    assert api.get(f"/connectors/http:{prefix}hook").status_code == 404


def test_a_dead_server_is_disconnected_with_an_alarm_and_drops_are_counted(api, mqtt_client, prefix) -> None:
    dead = _free_port()
    api.post(
        "/connectors",
        json={
            "type": "http",
            "name": f"{prefix}dead",
            "url": f"http://127.0.0.1:{dead}",
            "connect_timeout": "1s",
        },
    )
    shown = api.get(f"/connectors/http:{prefix}dead").json()
    assert shown["status"] == "disconnected" and str(dead) in shown["status_reason"]
    alarms = api.get("/alarms").json()["data"]
    assert any(a["name"] == f"connector:http:{prefix}dead" for a in alarms)
    api.post(
        "/actions",
        json={
            "type": "http",
            "name": f"{prefix}lost",
            "connector": f"{prefix}dead",
            "parameters": {"max_retries": 0, "request_timeout": "1s"},
            "resource_opts": {"max_buffer_bytes": "1KB"},
        },
    )
    api.post(
        "/rules",
        json={"id": f"{prefix}lost", "sql": f'SELECT * FROM "{prefix}d"', "actions": [f"http:{prefix}lost"]},
    )
    pub = mqtt_client(prefix + "p")
    for _ in range(20):
        pub.publish(f"{prefix}d", b"x" * 200, 0)
    figures = wait_for(
        lambda: (
            (m := api.get(f"/actions/http:{prefix}lost/metrics").json()["metrics"])["matched"] == 20
            and m["queuing"] == 0
            and m["inflight"] == 0
            and m
        )
    )
    assert figures["success"] == 0 and figures["failed"] + figures["dropped"] == 20
    assert figures["dropped.queue_full"] > 0  # 1 KB of buffer holds a few of them, never all
    # the rate of matches, once the second they came in is over: 20 in the last 5 s, and 5 min
    rates = wait_for(
        lambda: (m := api.get(f"/actions/http:{prefix}lost/metrics").json()["metrics"])["rate_last5m"] and m
    )
    assert rates["rate_last5m"] == round(20 / 300, 2) and rates["rate_max"] == 4.0
    rule_figures = api.get(f"/rules/{prefix}lost/metrics").json()["metrics"]
    assert rule_figures["actions.failed"] == 20


def test_bad_settings_and_unknown_ids(api, prefix) -> None:
    for body in (
        {"type": "kafka", "name": "x", "url": "http://h"},
        {"type": "http", "name": "x", "url": "ftp://h"},
        {"type": "http", "name": "x"},
        {"type": "http", "name": "x", "url": "http://h", "pool_size": 0},
        {"type": "http", "name": "x", "url": "http://h", "connect_timeout": "soon"},
        {"type": "http", "name": "x", "url": "http://h", "what": 1},
        {"type": "http", "url": "http://h"},
        [1],
    ):
        answer = api.post("/connectors", json=body)
        assert answer.status_code == 400 and answer.json()["code"] == "BAD_REQUEST", (body, answer.text)
    no_connector = api.post("/actions", json={"type": "http", "name": "a", "connector": "none"})
    assert no_connector.status_code == 400 and "connector" in no_connector.json()["message"]
    assert api.get("/connectors/http:none").status_code == 404
    assert api.get("/connectors/kafka:none").status_code == 404
    assert api.get("/actions/http:none").status_code == 404
    assert api.get("/action_types").json() == ["http", "mqtt", "redis"]
    assert api.get("/source_types").json() == ["mqtt"]
    probe = api.post(
        "/connectors_probe",
        json={"type": "http", "url": f"http://127.0.0.1:{_free_port()}", "connect_timeout": "1s"},
    )
    assert probe.status_code == 400


def test_connectors_and_actions_survive_a_restart(api, api_node, mqtt_client, prefix, sink) -> None:
    api.post(
        "/connectors", json={"type": "http", "name": f"{prefix}kept", "url": f"http://127.0.0.1:{sink.port}"}
    )
    api.post(
        "/actions",
        json={
            "type": "http",
            "name": f"{prefix}kept",
            "connector": f"{prefix}kept",
            "parameters": {"body": "${payload}"},
        },
    )
    api.post(
        "/rules",
        json={
            "id": f"{prefix}kept",
            "sql": f'SELECT payload FROM "{prefix}k"',
            "actions": [f"http:{prefix}kept"],
        },
    )
    assert api.put(f"/actions/http:{prefix}kept/enable/false").status_code == 204
    assert api.get(f"/actions/http:{prefix}kept").json()["enable"] is False
    assert api.put(f"/actions/http:{prefix}kept/enable/true").status_code == 204
    restart(api_node)
    assert wait_for(lambda: api.get(f"/connectors/http:{prefix}kept").json()["status"] == "connected")
    mqtt_client(prefix + "p").publish(f"{prefix}k", b"after restart", 1).wait_for_publish(5)
    assert sink.requests.get(timeout=10)[3] == b"after restart"
