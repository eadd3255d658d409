"""The management listener: bodies read only after authentication, a body limit, a deadline
for each request, a cap on open connections. Raw sockets against a real broker process."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import httpx
import psutil

from tests.api.v5.conftest import KEYS, api_client, wait_for
from tests.api.v5.test_listeners import reachable
from tests.durability.process import BrokerProcess, Wire, free_port

HTTPS_PORT = free_port()
NODE_ENV = {
    "BROOKMQ_DASHBOARD__IDLE_TIMEOUT": "2s",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTP__MAX_CONNECTIONS": "30",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__ENABLE": "true",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__BIND": f"127.0.0.1:{HTTPS_PORT}",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__MAX_CONNECTIONS": "5",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__SSL_OPTIONS__HANDSHAKE_TIMEOUT": "1s",
}


def raw(node: BrokerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", node.api_port), timeout=10)


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or 10 s of silence)."""
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def rss(node: BrokerProcess) -> int:
    assert node.proc is not None
    return psutil.Process(node.proc.pid).memory_info().rss


def huge_unauthenticated_post(node: BrokerProcess, size: int) -> bytes:
    """The headers, the answer to them (the body is not waited for), then the body anyway."""
    sock = raw(node)
    body = b"[" + b"{}," * (size // 3) + b"{}]"
    head = (
        f"POST /api/v5/banned HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head)
    sock.settimeout(5)
    reply = sock.recv(65536)
    try:
        sock.sendall(body)
    except OSError:
        pass  # the server closed its side: it wanted none of it
    sock.close()
    return reply


def test_unauthenticated_bodies_are_never_read_or_parsed(api_node):
    before = rss(api_node)
    replies: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: replies.append(huge_unauthenticated_post(api_node, 10_000_000)))
        for _ in range(4)
    ]
    probe = Wire(api_node.port)
    assert probe.connect("probe-during-bodies").reason_code == 0
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(replies) == 4 and all(r.startswith(b"HTTP/1.1 401") for r in replies), replies
    assert rss(api_node) - before < 30_000_000  # 10 MB of "{}," each parses into 200+ MB


def test_a_body_over_max_body_size_is_refused_with_413(api):
    body = b'{"as":"clientid","who":"' + b"x" * 1_100_000 + b'"}'
    reply = api.post("/banned", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 413, reply.text
    assert reply.json()["code"] == "PAYLOAD_TOO_LARGE"

    def chunks():
        for _ in range(12):
            yield b" " * 100_000

    chunked = api.post("/banned", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert api.post("/banned", json={"as": "clientid", "who": "fits"}).status_code == 200
    api.delete("/banned/clientid/fits")


def test_connections_that_send_nothing_or_dribble_headers_are_closed_at_idle_timeout(api_node):
    silent = [raw(api_node) for _ in range(10)]
    dribbler = raw(api_node)
    dribbler.sendall(b"GET /api/v5/status HTTP/1.1\r\n")
    stop = time.monotonic() + 6
    closed = False
    started = time.monotonic()
    while time.monotonic() < stop and not closed:
        try:
            dribbler.sendall(b"x")
        except OSError:
            closed = True
            break
        closed = closed_within(dribbler, 0.3)
    assert closed and time.monotonic() - started < 4.5
    assert all(closed_within(s, 3) for s in silent)
    for s in silent:
        s.close()


def test_open_connections_are_capped_and_mqtt_and_the_api_carry_on(api_node):
    held = [raw(api_node) for _ in range(30)]
    time.sleep(0.3)
    extra = [raw(api_node) for _ in range(10)]
    assert all(closed_within(s, 2) for s in extra)  # closed at once, before the deadline
    probe = Wire(api_node.port)
    assert probe.connect("probe-at-cap").reason_code == 0
    for s in held:
        s.close()
    time.sleep(0.3)
    with api_client(api_node) as api:
        assert api.get("/status").status_code == 200
    assert httpx.get(f"http://127.0.0.1:{api_node.api_port}/api/v5/clients", auth=KEYS["viewer"]).is_success


def test_https_handshakes_have_a_deadline_and_count_against_the_cap(api_node):
    wait_for(lambda: reachable(HTTPS_PORT))
    time.sleep(0.5)  # the reachability probe's own socket is gone
    silent = [socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=5) for _ in range(5)]
    time.sleep(0.3)
    extra = socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=5)
    assert closed_within(extra, 1)  # the five handshaking sockets fill the cap of 5
    started = time.monotonic()
    assert all(closed_within(s, 3) for s in silent)  # asyncio's own TLS would wait 60 s
    assert time.monotonic() - started < 2.5
    trust = ssl.create_default_context(cafile=str(api_node.data_dir / "certs" / "ca.pem"))
    reply = httpx.get(f"https://localhost:{HTTPS_PORT}/api/v5/status", verify=trust, timeout=5)
    assert reply.status_code == 200
