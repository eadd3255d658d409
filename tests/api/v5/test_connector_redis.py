"""The Redis connector against a real redis-server (started here): a rule's output becomes a
command (HSET) that is really run, the connector's PING check reports a dead server."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from tests.api.v5.conftest import wait_for

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_port() -> Iterator[int]:
    port = _free_port()
    args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def test_a_rule_writes_to_redis(api, mqtt_client, prefix, redis_port) -> None:
    made = api.post(
        "/connectors",
        json={
            "type": "redis",
            "name": f"{prefix}r",
            "server": f"127.0.0.1:{redis_port}",
            "database": 2,
            "password": None,
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "connected" and made.json()["redis_type"] == "single"
    command = ["HSET", "${clientid}", "temp", "${temp}", "topic", "${topic}"]
    action = {
        "type": "redis",
        "name": f"{prefix}w",
        "connector": f"{prefix}r",
        "parameters": {"command_template": command},
    }
    assert api.post("/actions", json=action).status_code == 201
    sql = f'SELECT clientid, topic, payload.temp AS temp FROM "{prefix}s/#"'
    assert (
        api.post(
            "/rules", json={"id": f"{prefix}to-redis", "sql": sql, "actions": [f"redis:{prefix}w"]}
        ).status_code
        == 201
    )
    pub = mqtt_client(prefix + "dev")
    pub.publish(f"{prefix}s/1", json.dumps({"temp": 21.5}), 1).wait_for_publish(5)
    store = redis.Redis(port=redis_port, db=2, decode_responses=True)
    assert wait_for(lambda: store.hgetall(prefix + "dev")) == {"temp": "21.5", "topic": f"{prefix}s/1"}
    figures = wait_for(
        lambda: (m := api.get(f"/actions/redis:{prefix}w/metrics").json()["metrics"])["success"] and m
    )
    assert figures["matched"] == 1 and figures["failed"] == 0
    bad = {
        **action,
        "name": f"{prefix}bad",
        "parameters": {"command_template": ["NOSUCHCOMMAND", "${clientid}"]},
    }
    assert api.post("/actions", json=bad).status_code == 201
    api.put(f"/rules/{prefix}to-redis", json={"actions": [f"redis:{prefix}w", f"redis:{prefix}bad"]})
    pub.publish(f"{prefix}s/1", json.dumps({"temp": 22}), 1).wait_for_publish(5)
    assert wait_for(lambda: api.get(f"/actions/redis:{prefix}bad/metrics").json()["metrics"]["failed"] == 1)
    assert wait_for(lambda: store.hget(prefix + "dev", "temp") == "22")


def test_a_dead_redis_is_disconnected(api, prefix) -> None:
    made = api.post(
        "/connectors", json={"type": "redis", "name": f"{prefix}dead", "server": f"127.0.0.1:{_free_port()}"}
    )
    assert made.status_code == 201
    assert made.json()["status"] == "disconnected" and "ConnectionError" in made.json()["status_reason"]
    assert api.post("/connectors", json={"type": "redis", "name": "x", "server": "nohost"}).status_code == 400
    answer = api.post(
        "/actions",
        json={
            "type": "redis",
            "name": "y",
            "connector": f"{prefix}dead",
            "parameters": {"command_template": []},
        },
    )
    assert answer.status_code == 400 and "command_template" in answer.json()["message"]
