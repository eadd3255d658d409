"""``make soak``: everything issue #14 fixed, attacked at once for 60 s (``SOAK_SECONDS``): 2,000
idle TCP connections, 500 slowloris HTTP connections, 10 consumers that never read under a
steady publisher, and a storm of wrong logins (dashboard and MQTT, from several addresses),
while a probe client measures its PINGREQ round trips. Prints the probe's p99 and the broker's
peak RSS."""

from __future__ import annotations

import os
import resource
import socket
import statistics
import threading
import time

import httpx
import psutil
import pytest

from brookmq.mqtt import packets as pk
from tests.durability.process import BrokerProcess, Wire

DONE = {"slowloris reconnects": 0, "messages published": 0, "wrong logins": 0}
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(SECONDS + 180)]
NODE_CONFIG = "authentication = [{mechanism = password_based, backend = built_in_database}]"
AUTHN = "password_based:built_in_database"


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))


_raise_fd_limit()  # before the module's broker is started: it inherits the limit


def mqtt(node: BrokerProcess, client_id: str, password: bytes = b"pw", source: str | None = None) -> Wire:
    wire = Wire(node.port, pk.MQTT_5, source=source)
    wire.connect(client_id, username="soak", password=password, keepalive=0)
    return wire


def slowloris(node: BrokerProcess, stop: threading.Event, count: int = 500) -> None:
    socks: list[socket.socket | None] = [None] * count
    while not stop.is_set():
        for i, sock in enumerate(socks):
            try:
                if sock is None:
                    sock = socks[i] = socket.create_connection(("127.0.0.1", node.api_port), timeout=1)
                    DONE["slowloris reconnects"] += 1
                    sock.sendall(b"GET /api/v5/status HTTP/1.1\r\n")
                sock.sendall(b"X")
            except OSError:
                if sock is not None:
                    sock.close()
                socks[i] = None
        stop.wait(1)
    for sock in socks:
        if sock is not None:
            sock.close()


def slow_consumers(node: BrokerProcess, stop: threading.Event) -> None:
    consumers = [mqtt(node, f"stalled-{i}") for i in range(10)]
    for wire in consumers:
        wire.send(pk.Subscribe(1, [("soak/#", pk.SubscriptionOptions(1))]))
    publisher = mqtt(node, "soak-publisher")
    payload = b"p" * 1024
    while not stop.is_set():
        for i in range(50):
            publisher.send(pk.Publish(f"soak/{i}", payload, 1, packet_id=i + 1))
        DONE["messages published"] += 50
        stop.wait(0.1)  # about 500 messages a second for each consumer
    for wire in (*consumers, publisher):
        wire.close()


def login_storm(node: BrokerProcess, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        address = f"127.0.0.{60 + n % 40}"
        try:
            with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=5) as http:
                http.post(
                    f"http://127.0.0.1:{node.api_port}/api/v5/login",
                    json={"username": f"user{n % 7}", "password": "guess-pw-1"},
                )
            mqtt(node, f"guess-{n}", b"wrong", source=address).close()
            DONE["wrong logins"] += 2
        except (OSError, httpx.HTTPError, ConnectionError):
            pass


def test_soak_everything_at_once_the_probe_stays_responsive(api_node, api):
    assert api.post(f"/authentication/{AUTHN}/users", json={"user_id": "soak", "password": "pw"}).is_success
    assert api_node.proc is not None
    broker = psutil.Process(api_node.proc.pid)
    probe = mqtt(api_node, "soak-probe")
    idle = [mqtt(api_node, f"idle-{i}") for i in range(2000)]
    stop = threading.Event()
    attackers = [
        threading.Thread(target=slowloris, args=(api_node, stop)),
        threading.Thread(target=slow_consumers, args=(api_node, stop)),
        threading.Thread(target=login_storm, args=(api_node, stop)),
    ]
    for thread in attackers:
        thread.start()
    rtts: list[float] = []
    peak = 0
    deadline = time.monotonic() + SECONDS
    next_rss = 0.0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        probe.send(pk.Pingreq())
        assert isinstance(probe.recv(timeout=10), pk.Pingresp)
        rtts.append(time.perf_counter() - started)
        if time.monotonic() >= next_rss:
            peak = max(peak, broker.memory_info().rss)
            next_rss = time.monotonic() + 1
        time.sleep(0.05)
    stop.set()
    for thread in attackers:
        thread.join(30)
    p99 = statistics.quantiles(rtts, n=100)[98]
    print(
        f"\nsoak {SECONDS:g} s: probe round trips n={len(rtts)} p50={statistics.median(rtts) * 1000:.1f} ms "
        f"p99={p99 * 1000:.1f} ms max={max(rtts) * 1000:.1f} ms; broker peak RSS {peak / 2**20:.0f} MB; "
        + ", ".join(f"{what} {count}" for what, count in DONE.items())
    )
    for wire in idle:
        wire.close()
    assert p99 < 0.2
