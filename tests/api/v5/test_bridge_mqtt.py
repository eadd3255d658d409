"""The MQTT bridge against a real Mosquitto: rule outputs are published there (egress), what is
published there comes back through a source into rules (ingress), and the bridge reconnects and
subscribes again when Mosquitto comes back."""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.api.v5.conftest import wait_for
from tests.interop.test_paho import connected, make_client, subscribed

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Mosquitto:
    def __init__(self, directory: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    assert Path(MOSQUITTO).exists(), "mosquitto is installed by make system-deps"
    remote = Mosquitto(tmp_path).start()
    yield remote
    remote.stop()


def _made(api, path: str, body: dict) -> dict:
    answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_egress_and_ingress_through_mosquitto(api, mqtt_client, prefix, mosquitto) -> None:
    connector = _made(
        api,
        "/connectors",
        {"type": "mqtt", "name": f"{prefix}m", "server": f"127.0.0.1:{mosquitto.port}", "keepalive": "5s"},
    )
    assert (
        connector["status"] == "connected"
        and connector["proto_ver"] == "v4"
        and connector["keepalive"] == "5s"
    )
    _made(
        api,
        "/actions",
        {
            "type": "mqtt",
            "name": f"{prefix}out",
            "connector": f"{prefix}m",
            "parameters": {"topic": "remote/${topic}", "qos": 1, "payload": "${payload}"},
        },
    )
    _made(
        api,
        "/sources",
        {
            "type": "mqtt",
            "name": f"{prefix}in",
            "connector": f"{prefix}m",
            "parameters": {"topic": "fromremote/#", "qos": 1},
        },
    )
    shown = api.get(f"/connectors/mqtt:{prefix}m").json()
    assert shown["actions"] == [f"{prefix}out"] and shown["sources"] == [f"{prefix}in"]
    api.post(
        "/rules",
        json={
            "id": f"{prefix}egress",
            "sql": f'SELECT * FROM "{prefix}local/#"',
            "actions": [f"mqtt:{prefix}out"],
        },
    )
    republish = {
        "function": "republish",
        "args": {"topic": f"{prefix}bridged/${{topic}}", "payload": "${payload}"},
    }
    api.post(
        "/rules",
        json={
            "id": f"{prefix}ingress",
            "sql": f'SELECT payload, topic FROM "$bridges/mqtt:{prefix}in"',
            "actions": [republish],
        },
    )
    remote = connected(make_client(mosquitto.port, mqtt.MQTTv311), mosquitto.port)
    subscribed(remote, "remote/#", 1)
    local = mqtt_client(prefix + "local")
    subscribed(local, f"{prefix}bridged/#", 1)
    local.publish(f"{prefix}local/a", b"to the other side", 1).wait_for_publish(5)
    there = remote.inbox.get(timeout=10)
    assert (there.topic, there.payload, there.qos) == (f"remote/{prefix}local/a", b"to the other side", 1)
    remote.publish("fromremote/x", json.dumps({"n": 1}), 1).wait_for_publish(5)
    back = local.inbox.get(timeout=10)
    assert (back.topic, json.loads(back.payload)) == (f"{prefix}bridged/fromremote/x", {"n": 1})
    action_figures = wait_for(
        lambda: (m := api.get(f"/actions/mqtt:{prefix}out/metrics").json()["metrics"])["success"] and m
    )
    assert action_figures["matched"] == 1 and action_figures["failed"] == 0
    assert api.get(f"/sources/mqtt:{prefix}in/metrics").json()["metrics"]["received"] == 1
    summary = [s for s in api.get("/sources_summary").json() if s["name"] == f"{prefix}in"]
    assert summary[0]["rules"] == [f"{prefix}ingress"]
    in_use = api.delete(f"/sources/mqtt:{prefix}in")
    assert in_use.status_code == 400 and "dependent rules" in in_use.json()["message"]
    remote.disconnect()

    mosquitto.stop()
    assert wait_for(lambda: api.get(f"/connectors/mqtt:{prefix}m").json()["status"] == "disconnected")
    assert any(a["name"] == f"connector:mqtt:{prefix}m" for a in api.get("/alarms").json()["data"])
    mosquitto.start()
    assert wait_for(
        lambda: api.get(f"/connectors/mqtt:{prefix}m").json()["status"] == "connected", timeout=20
    )
    remote = connected(make_client(mosquitto.port, mqtt.MQTTv311), mosquitto.port)
    # subscribed again on the new connection: ingress works
    for _ in range(20):
        remote.publish("fromremote/y", b"again", 1).wait_for_publish(5)
        try:
            back = local.inbox.get(timeout=0.5)
            break
        except queue.Empty:
            continue
    assert back.topic == f"{prefix}bridged/fromremote/y" and back.payload == b"again"
    remote.disconnect()
    for path in (
        f"/rules/{prefix}egress",
        f"/rules/{prefix}ingress",
        f"/actions/mqtt:{prefix}out",
        f"/sources/mqtt:{prefix}in",
        f"/connectors/mqtt:{prefix}m",
    ):
        assert api.delete(path).status_code == 204, path


def test_bad_bridge_settings(api, prefix) -> None:
    for body in (
        {"type": "mqtt", "name": "x", "server": "nohost"},
        {"type": "mqtt", "name": "x", "server": "h:99999"},
        {"type": "mqtt", "name": "x", "server": "h:1883", "proto_ver": "v9"},
    ):
        answer = api.post("/connectors", json=body)
        assert answer.status_code == 400 and answer.json()["code"] == "BAD_REQUEST", (body, answer.text)
    assert (
        api.post(
            "/sources", json={"type": "http", "name": "s", "connector": "c", "parameters": {}}
        ).status_code
        == 400
    )
    bad_filter = {"type": "mqtt", "name": "s", "connector": "c", "parameters": {"topic": "a/#/b"}}
    assert api.post("/sources", json=bad_filter).status_code == 400
