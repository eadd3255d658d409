"""The load generator: one process, raw non-blocking sockets, pre-encoded packets.

Run by ``benchmarks.run`` pinned to its own core; prints one JSON result.
Every scenario is bounded in time and talks only to 127.0.0.1. Deliveries
of one scenario all have the same size, so subscribers count bytes rather
than parse packets (QoS 1 subscribers do parse, to acknowledge).
"""

from __future__ import annotations

import argparse
import errno
import json
import selectors
import socket
import statistics
import threading
import time
from functools import partial
from typing import Any

import httpx
import psutil

from benchmarks.brokers import API_KEY
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode

V = pk.MQTT_3_1_1  # every broker under test speaks 3.1.1; amqtt speaks nothing newer
PAYLOAD = bytes(range(64))
CHUNK = 1 << 16


def publish_packet(
    topic: str, qos: int = 0, packet_id: int = 0, retain: bool = False, payload: bytes = PAYLOAD
) -> bytes:
    return encode(pk.Publish(topic, payload, qos, retain, packet_id=packet_id), V)


def client(
    port: int,
    client_id: str,
    subscribe: str | None = None,
    qos: int = 0,
    ws: bool = False,
    clean: bool = True,
) -> socket.socket:
    """A connected (and subscribed) blocking socket, then switched to non-blocking.

    With ``ws`` the socket speaks MQTT over WebSocket (path /mqtt, subprotocol mqtt); without
    ``clean`` its session is persistent (clean session 0).
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wrap = ws_frame if ws else (lambda data: data)
    if ws:
        sock.sendall(
            b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: mqtt\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            byte = sock.recv(1)
            if not byte:
                raise ConnectionError("the broker closed the connection during the WebSocket upgrade")
            head += byte
        assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(wrap(encode(pk.Connect(client_id, V, clean, 0), V)))
    _read_exactly(sock, 6 if ws else 4)  # CONNACK (in a 2-byte frame header)
    if subscribe is not None:
        sock.sendall(wrap(encode(pk.Subscribe(1, [(subscribe, pk.SubscriptionOptions(qos))]), V)))
        _read_exactly(sock, 7 if ws else 5)  # SUBACK
    sock.setblocking(False)
    return sock


def ws_frame(data: bytes) -> bytes:
    """A masked binary frame (clients must mask; the key is fixed, which servers accept)."""
    key = b"\x37\xfa\x21\x3d"
    size = len(data)
    if size < 126:
        head = bytes((0x82, 0x80 | size))
    elif size < 65536:
        head = bytes((0x82, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x82, 0x80 | 127)) + size.to_bytes(8, "big")
    mask = (key * (size // 4 + 1))[:size]
    return head + key + (int.from_bytes(data, "big") ^ int.from_bytes(mask, "big")).to_bytes(size, "big")


class WsPayloadCounter:
    """Counts the payload bytes of unmasked server frames, walking frame headers only."""

    def __init__(self) -> None:
        self.left = 0  # payload bytes of the current frame still to come
        self.rest = b""  # an incomplete frame header

    def feed(self, data: bytes) -> int:
        buf = self.rest + data if self.rest else data
        self.rest = b""
        payload = pos = 0
        end = len(buf)
        while pos < end:
            if self.left:
                take = min(self.left, end - pos)
                payload += take
                self.left -= take
                pos += take
                continue
            size = buf[pos + 1] & 0x7F if end - pos >= 2 else -1
            head = 4 if size == 126 else 10 if size == 127 else 2
            if size < 0 or end - pos < head:
                self.rest = buf[pos:]
                break
            if size >= 126:
                size = int.from_bytes(buf[pos + 2 : pos + head], "big")
            pos += head
            self.left = size
        return payload


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    sock.settimeout(30)
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection during setup")
        data += chunk
    return data


class CpuSampler:
    """CPU use of the broker and of this loader over a window, in % of one core."""

    def __init__(self, broker_pid: int) -> None:
        self.broker = psutil.Process(broker_pid)
        self.me = psutil.Process()

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.b0 = sum(self.broker.cpu_times()[:2])
        self.m0 = sum(self.me.cpu_times()[:2])

    def stop(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.t0
        return {
            "broker_cpu": round(100 * (sum(self.broker.cpu_times()[:2]) - self.b0) / elapsed, 1),
            "loader_cpu": round(100 * (sum(self.me.cpu_times()[:2]) - self.m0) / elapsed, 1),
        }


# ------------------------------------------------------------------ QoS 0 throughput


def stream(
    port: int,
    pid: int,
    duration: float,
    pubs: list[tuple[str, str]],
    subs: list[str],
    sub_filter: str,
    window: int = 10000,
    ws: bool = False,
    payload: bytes = PAYLOAD,
    delivery_size: int = 0,
) -> dict[str, Any]:
    """Publishers send QoS 0 for ``duration``; subscribers count deliveries.

    ``pubs`` is a list of (client id, topic); all topics have the same length, so
    every PUBLISH and every delivery has the same size (``delivery_size`` when what
    arrives is not what was sent: a rule's republished output). At most ``window``
    messages per subscriber are outstanding (sent, not yet delivered), so what
    is measured is the broker's rate, not how much the kernel buffers hold.
    """
    sel = selectors.DefaultSelector()
    sub_socks = [client(port, cid, sub_filter, ws=ws) for cid in subs]
    pub_socks = [client(port, cid, ws=ws) for cid, _ in pubs]
    counters = {sock: WsPayloadCounter() for sock in sub_socks} if ws else {}
    packets = [publish_packet(topic, payload=payload) for _, topic in pubs]
    sent_size = len(packets[0])
    assert all(len(p) == sent_size for p in packets)
    size = delivery_size or sent_size
    per_blob = max(1, CHUNK // sent_size)
    # What a publisher writes, in units it finishes before stopping: a packet, or (WebSocket)
    # a frame of per_blob packets.
    blobs = [memoryview(ws_frame(p * per_blob) if ws else p * per_blob) for p in packets]
    unit, per_unit = (len(blobs[0]), per_blob) if ws else (sent_size, 1)
    fan = len(sub_socks) if len(pubs) == 1 else 1  # deliveries per message sent
    sent_bytes = [0] * len(pubs)
    offsets = [0] * len(pubs)
    for i, sock in enumerate(pub_socks):
        sel.register(sock, selectors.EVENT_WRITE, i)
    for sock in sub_socks:
        sel.register(sock, selectors.EVENT_READ, -1)
    buf = bytearray(1 << 20)
    received = 0
    first = last = 0.0
    cpu = CpuSampler(pid)
    cpu.start()
    stop_at = time.perf_counter() + duration
    publishing = len(pub_socks)
    paused: set[int] = set()
    idle_deadline = 0.0
    while True:
        now = time.perf_counter()
        sent = sum(sent_bytes) // unit * per_unit
        if publishing == 0 and (received // size >= sent * fan or now > idle_deadline):
            break
        outstanding = sent * fan - received // size
        if paused and (now >= stop_at or outstanding < window * fan // 2):
            for i in paused:
                if now >= stop_at:
                    publishing -= 1
                    idle_deadline = now + 2.0
                else:
                    sel.register(pub_socks[i], selectors.EVENT_WRITE, i)
            paused.clear()
        for key, _ in sel.select(timeout=0.2):
            i = key.data
            sock = key.fileobj
            if i < 0:
                n = sock.recv_into(buf)
                if n:
                    received += counters[sock].feed(bytes(buf[:n])) if ws else n
                    last = time.perf_counter()
                    first = first or last
                    idle_deadline = last + 2.0
                continue
            off = offsets[i]
            if now >= stop_at or outstanding >= window * fan:
                end = off + (unit - sent_bytes[i] % unit) % unit  # finish the packet (frame) under way
                if end == off:
                    sel.unregister(sock)
                    if now >= stop_at:
                        publishing -= 1
                        idle_deadline = now + 2.0
                    else:
                        paused.add(i)
                    continue
            else:
                end = len(blobs[i])
            try:
                n = sock.send(blobs[i][off:end])
            except BlockingIOError:
                continue
            sent_bytes[i] += n
            offsets[i] = (off + n) % len(blobs[i])
    usage = cpu.stop()
    for sock in sub_socks + pub_socks:
        sock.close()
    delivered = received // size
    expected = sum(sent_bytes) // unit * per_unit * fan
    window_s = (last - first) or 1e-9
    return {
        "rate": round(delivered / window_s),
        "delivered": delivered,
        "expected": expected,
        "delivery_ratio": round(delivered / expected, 4) if expected else 0.0,
        **usage,
    }


def p2p(port: int, pid: int, duration: float, quick: bool) -> dict[str, Any]:
    return stream(port, pid, duration, [("p2p-pub", "bench/p2p")], ["p2p-sub"], "bench/p2p")


def p2p_ws(port: int, pid: int, duration: float, quick: bool) -> dict[str, Any]:
    """p2p over MQTT-over-WebSocket (BrookMQ's ws:default listener)."""
    return stream(port, pid, duration, [("p2p-pub", "bench/p2p")], ["p2p-sub"], "bench/p2p", ws=True)


def fanout(port: int, pid: int, duration: float, quick: bool) -> dict[str, Any]:
    subs = [f"fan-sub-{i:03d}" for i in range(100)]
    return stream(port, pid, duration, [("fan-pub", "bench/fanout")], subs, "bench/fanout")


def fanin(port: int, pid: int, duration: float, quick: bool) -> dict[str, Any]:
    pubs = [(f"in-pub-{i:03d}", f"bench/fanin/{i:03d}") for i in range(100)]
    return stream(port, pid, duration, pubs, ["in-sub"], "bench/fanin/+")


# ------------------------------------------------------------------ QoS 1


class Qos1Subscriber:
    """Reads fixed-size QoS 1 deliveries and acknowledges each one."""

    def __init__(self, sock: socket.socket, size: int, id_offset: int) -> None:
        self.sock, self.size, self.id_offset = sock, size, id_offset
        self.buffer = b""
        self.out = b""
        self.count = 0

    def read(self, on_packet: Any = None) -> bool:
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return False
        if not data:
            raise ConnectionError("broker closed the subscriber")
        buf = self.buffer + data
        size, off = self.size, self.id_offset
        whole = len(buf) // size
        acks = [b"\x40\x02" + buf[k * size + off : k * size + off + 2] for k in range(whole)]
        if on_packet is not None:
            for k in range(whole):
                on_packet(buf[k * size : (k + 1) * size])
        self.count += whole
        self.buffer = buf[whole * size :]
        self.out += b"".join(acks)
        self.flush()
        return True

    def flush(self) -> None:
        if self.out:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                return
            self.out = self.out[n:]


def qos1(
    port: int, pid: int, duration: float, quick: bool, window: int = 500, persistent: bool = False
) -> dict[str, Any]:
    """1 -> 1 at QoS 1, both PUBACK flows; at most ``window`` messages sent but not yet
    delivered, or sent but not yet acknowledged to the publisher (a real client's inflight
    window). With ``persistent`` the subscriber's session is persistent (clean session 0)."""
    topic = "bench/qos1"
    sub_sock = client(port, "q1-sub", topic, qos=1, clean=not persistent)
    pub = client(port, "q1-pub")
    packets = [publish_packet(topic, 1, i) for i in range(1, 65536)]
    size = len(packets[0])
    sub = Qos1Subscriber(sub_sock, size, 2 + 2 + len(topic))
    sel = selectors.DefaultSelector()
    sel.register(sub_sock, selectors.EVENT_READ, "sub")
    sel.register(pub, selectors.EVENT_READ, "pub")
    sent = acked = 0
    pending = b""
    cpu = CpuSampler(pid)
    cpu.start()
    start = time.perf_counter()
    first = last = 0.0
    idle_deadline = None
    while True:
        now = time.perf_counter()
        unfinished = max(sent - sub.count, sent - acked)
        if now < start + duration and unfinished < window and not pending:
            n = window - unfinished
            pending = b"".join(packets[(sent + k) % 65535] for k in range(n))
            sent += n
        if pending:
            try:
                pending = pending[pub.send(pending) :]
            except BlockingIOError:
                pass
        if (
            now >= start + duration
            and not pending
            and (sub.count >= sent or (idle_deadline and now > idle_deadline))
        ):
            break
        for key, _ in sel.select(timeout=0.05):
            if key.data == "sub":
                if sub.read():
                    last = time.perf_counter()
                    first = first or last
                    idle_deadline = last + 2.0
            else:
                try:
                    acked += len(pub.recv(1 << 20)) // 4  # PUBACKs, 4 bytes each
                except BlockingIOError:
                    continue
        sub.flush()
        if now >= start + duration and idle_deadline is None:
            idle_deadline = now + 2.0
    usage = cpu.stop()
    sub_sock.close()
    pub.close()
    window_s = (last - first) or 1e-9
    return {
        "rate": round(sub.count / window_s),
        "delivered": sub.count,
        "expected": sent,
        "delivery_ratio": round(sub.count / sent, 4) if sent else 0.0,
        **usage,
    }


def latency(port: int, pid: int, duration: float, quick: bool, rate: int = 1000) -> dict[str, Any]:
    """QoS 1 at a fixed rate; the payload carries the send time (perf_counter_ns)."""
    topic = "bench/latency"
    sub_sock = client(port, "lat-sub", topic, qos=1)
    pub = client(port, "lat-pub")
    size = len(publish_packet(topic, 1, 1))
    samples: list[float] = []

    def on_packet(packet: bytes) -> None:
        stamp = int.from_bytes(packet[size - 64 : size - 56], "big")
        samples.append((time.perf_counter_ns() - stamp) / 1e6)

    sub = Qos1Subscriber(sub_sock, size, 2 + 2 + len(topic))
    sel = selectors.DefaultSelector()
    sel.register(sub_sock, selectors.EVENT_READ, "sub")
    sel.register(pub, selectors.EVENT_READ, "pub")
    total = int(duration * rate)
    start = time.perf_counter()
    sent = 0
    deadline = start + duration + 5
    while sub.count < total and time.perf_counter() < deadline:
        now = time.perf_counter()
        due = min(total, int((now - start) * rate) + 1)
        while sent < due:
            sent += 1
            payload = time.perf_counter_ns().to_bytes(8, "big") + PAYLOAD[8:]
            pub.sendall(publish_packet(topic, 1, sent % 65535 + 1, payload=payload))
        timeout = max(0.0, start + sent / rate - time.perf_counter())
        for key, _ in sel.select(timeout=timeout):
            if key.data == "sub":
                sub.read(on_packet)
            else:
                try:
                    pub.recv(1 << 16)  # PUBACKs
                except BlockingIOError:
                    pass
    sub_sock.close()
    pub.close()
    samples.sort()
    if not samples:
        return {"p50_ms": None, "p99_ms": None, "delivery_ratio": 0.0}
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "delivered": len(samples),
        "expected": total,
        "delivery_ratio": round(len(samples) / total, 4),
    }


# ------------------------------------------------------------------ connections and retained


def idle(port: int, pid: int, duration: float, quick: bool) -> dict[str, Any]:
    """Many connections that connect, subscribe and stay idle: RSS each, and accept rate."""
    count = 2000 if quick else 10000
    broker = psutil.Process(pid)
    time.sleep(0.5)
    rss_before = broker.memory_info().rss
    socks, done, elapsed = open_idle(port, count)
    time.sleep(1.0)
    rss_after = broker.memory_info().rss
    for s in socks:
        s.close()
    return {
        "connections": done,
        "accept_per_s": round(done / elapsed),
        "rss_per_conn_kb": round((rss_after - rss_before) / 1024 / max(done, 1), 2),
        "delivery_ratio": round(done / count, 4),
    }


def open_idle(port: int, count: int) -> tuple[list[socket.socket], int, float]:
    """``count`` clients that connect and subscribe, 256 handshakes at a time: their sockets,
    how many finished, and the seconds it took."""
    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    need: dict[socket.socket, int] = {}
    opening = 0
    next_id = 0
    done = 0
    start = time.perf_counter()
    deadline = start + 120
    while done < count and time.perf_counter() < deadline:
        while opening < 256 and next_id < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, errno.EINPROGRESS):
                raise OSError(err, "connect failed")
            hello = encode(pk.Connect(f"idle-{next_id:05d}", V, True, 0), V) + encode(
                pk.Subscribe(1, [(f"bench/idle/{next_id:05d}", pk.SubscriptionOptions(0))]), V
            )
            sel.register(s, selectors.EVENT_WRITE, hello)
            need[s] = 9  # CONNACK (4) + SUBACK (5)
            socks.append(s)
            opening += 1
            next_id += 1
        for key, events in sel.select(timeout=1):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                s.send(key.data)
                sel.modify(s, selectors.EVENT_READ, None)
                continue
            data = s.recv(64)
            if not data:
                raise ConnectionError("broker refused an idle connection")
            need[s] -= len(data)
            if need[s] <= 0:
                sel.unregister(s)
                opening -= 1
                done += 1
    return socks, done, time.perf_counter() - start


def api(port: int, api_port: int, duration: float, quick: bool) -> dict[str, Any]:
    """BrookMQ's management API with 10,000 clients connected (2,000 quick): one keep-alive
    HTTP client asking ``GET /api/v5/clients?page=1&limit=100``, then the same page of
    ``/api/v4/clients?_page=1&_limit=100``, then ``POST /api/v5/publish``, back to back for a
    third of the duration each; requests/s and p99, and what a v4 page costs against a v5 one."""
    count = 2000 if quick else 10000
    socks, done, _ = open_idle(port, count)
    base = f"http://127.0.0.1:{api_port}/api/v5"
    out: dict[str, Any] = {"clients": done}
    with httpx.Client(base_url=base, auth=API_KEY, timeout=10) as http:

        def clients() -> None:
            page = http.get("/clients", params={"page": 1, "limit": 100})
            assert page.status_code == 200 and len(page.json()["data"]) == 100, page.text

        def v4_clients() -> None:
            page = http.get(f"http://127.0.0.1:{api_port}/api/v4/clients", params={"_page": 1, "_limit": 100})
            assert page.status_code == 200 and len(page.json()["data"]) == 100, page.text

        def publish() -> None:
            sent = http.post("/publish", json={"topic": "bench/idle/00001", "payload": "x" * 64})
            assert sent.status_code == 200, sent.text

        for name, call in (("clients", clients), ("v4_clients", v4_clients), ("publish", publish)):
            rps, p99 = _timed(call, duration / 3)
            out[f"{name}_rps"], out[f"{name}_p99_ms"] = rps, p99
        out["v4_page_cost"] = round(out["clients_rps"] / out["v4_clients_rps"], 2)
    for s in socks:
        s.close()
    return out


def _timed(call: Any, seconds: float) -> tuple[float, float]:
    took: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        call()
        took.append(time.perf_counter() - t)
    rate = len(took) / (time.perf_counter() - start)
    return round(rate, 1), round(statistics.quantiles(took, n=100)[98] * 1000, 2)


def retained(port: int, pid: int, duration: float, quick: bool) -> dict[str, Any]:
    """Store many retained topics, then time a '#' subscription receiving them all."""
    count = 2000 if quick else 10000
    pub = client(port, "ret-pub")
    pub.setblocking(True)
    pub.sendall(b"".join(publish_packet(f"bench/retained/{i:05d}", retain=True) for i in range(count)))
    pub.sendall(publish_packet("bench/sync", 1, 1))
    _read_exactly(pub, 4)  # PUBACK of the sync message: every retained one is stored
    size = len(publish_packet("bench/retained/00000", retain=True))
    sub = client(port, "ret-sub")
    sub.setblocking(True)
    sub.settimeout(30)
    want = 5 + count * size  # SUBACK, then the retained messages
    got = 0
    start = time.perf_counter()
    sub.sendall(encode(pk.Subscribe(1, [("#", pk.SubscriptionOptions(0))]), V))
    try:
        while got < want:
            data = sub.recv(1 << 20)
            if not data:
                break
            got += len(data)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - start
    pub.close()
    sub.close()
    delivered = max(0, got - 5) // size
    return {
        "ms": round(elapsed * 1000, 1),
        "delivered": delivered,
        "expected": count,
        "delivery_ratio": round(delivered / count, 4),
    }


RULE_PAYLOAD = b'{"temp": 25, "pad": "' + b"x" * 44 + b'"}'  # 64 bytes, as the others


def rules(port: int, pid: int, api_port: int, duration: float, quick: bool) -> dict[str, Any]:
    """BrookMQ's rule engine: p2p with no rule, then the same publisher's messages through one
    rule ``SELECT payload.temp AS t, clientid FROM "bench/rules/#" WHERE payload.temp > 20``
    republishing to the subscriber, then with 99 more rules on other filters; a third of the
    duration each. ``vs_p2p`` is the one-rule rate over the plain one, ``vs_one`` the 100-rule
    rate over the one-rule rate; ``*_us_per_msg`` the broker's CPU time per delivered message."""
    part = duration / 3
    plain = stream(
        port, pid, part, [("rules-pub", "bench/p2p/1")], ["rules-sub"], "bench/p2p/1", payload=RULE_PAYLOAD
    )
    republish = {"topic": "bench/rules_out", "qos": 0, "payload": ""}
    sql = 'SELECT payload.temp AS t, clientid FROM "bench/rules/#" WHERE payload.temp > 20'
    output = b'{"t":25,"clientid":"rules-pub"}'
    size = len(publish_packet("bench/rules_out", payload=output))
    with httpx.Client(base_url=f"http://127.0.0.1:{api_port}/api/v5", auth=API_KEY, timeout=10) as http:

        def make(rule_id: str, statement: str) -> None:
            made = http.post(
                "/rules",
                json={
                    "id": rule_id,
                    "sql": statement,
                    "actions": [{"function": "republish", "args": republish}],
                },
            )
            assert made.status_code == 201, made.text

        def through_rules() -> dict[str, Any]:
            pubs = [("rules-pub", "bench/rules/1")]
            return stream(
                port,
                pid,
                part,
                pubs,
                ["rules-sub"],
                "bench/rules_out",
                payload=RULE_PAYLOAD,
                delivery_size=size,
            )

        make("bench", sql)
        one = through_rules()
        for i in range(99):
            make(
                f"other{i}",
                f'SELECT payload.temp AS t, clientid FROM "bench/other/{i}/#" WHERE payload.temp > 20',
            )
        many = through_rules()
        passed = http.get("/rules/bench/metrics").json()["metrics"]["passed"]

    def cost(run: dict[str, Any]) -> float:
        return round(run["broker_cpu"] / 100 / run["rate"] * 1e6, 2) if run["rate"] else 0.0

    return {
        "p2p_rate": plain["rate"],
        "p2p_us_per_msg": cost(plain),
        "rule_us_per_msg": cost(one),
        "rate": one["rate"],
        "rate_100": many["rate"],
        "vs_p2p": round(one["rate"] / plain["rate"], 3) if plain["rate"] else 0.0,
        "vs_one": round(many["rate"] / one["rate"], 3) if one["rate"] else 0.0,
        "delivery_ratio": round((one["delivered"] + many["delivered"]) / max(1, passed), 4),
    }


class HookSink:
    """A minimal HTTP/1.1 server in a thread that answers 200 to every request and keeps, per
    request, the time from the send stamp in its body (perf_counter_ns) to its arrival."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.count = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.server, selectors.EVENT_READ, None)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        buffers: dict[socket.socket, bytes] = {}
        while self.running:
            for key, _ in self.sel.select(timeout=0.2):
                if key.data is None:
                    conn, _ = self.server.accept()
                    conn.setblocking(False)
                    buffers[conn] = b""
                    self.sel.register(conn, selectors.EVENT_READ, "conn")
                    continue
                conn = key.fileobj
                try:
                    data = conn.recv(1 << 16)
                except BlockingIOError:
                    continue
                if not data:
                    self.sel.unregister(conn)
                    conn.close()
                    continue
                buf = buffers[conn] + data
                answers = b""
                while b"\r\n\r\n" in buf:
                    head, _, rest = buf.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    if len(rest) < length:
                        break
                    body, buf = rest[:length], rest[length:]
                    self.count += 1
                    if len(body) >= 16:
                        self.samples.append((time.perf_counter_ns() - int(body[:16], 16)) / 1e6)
                    answers += b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                buffers[conn] = buf
                if answers:
                    conn.sendall(answers)

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.server.close()


def webhook(port: int, pid: int, api_port: int, duration: float, quick: bool) -> dict[str, Any]:
    """BrookMQ's HTTP action: a rule ``SELECT payload FROM "bench/hook"`` posts each message's
    payload to a local HTTP sink. First a flood for half the duration (``actions_per_s``: requests
    the sink got per second), then 1,000 msg/s (``p50_ms`` / ``p99_ms`` from PUBLISH to the
    request's arrival)."""
    sink = HookSink()
    pub = client(port, "hook-pub")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}/api/v5", auth=API_KEY, timeout=10) as http:
            for path, body in (
                ("/connectors", {"type": "http", "name": "sink", "url": f"http://127.0.0.1:{sink.port}"}),
                (
                    "/actions",
                    {
                        "type": "http",
                        "name": "sink",
                        "connector": "sink",
                        "parameters": {"body": "${payload}"},
                    },
                ),
                (
                    "/rules",
                    {"id": "hook", "sql": 'SELECT payload FROM "bench/hook"', "actions": ["http:sink"]},
                ),
            ):
                made = http.post(path, json=body)
                assert made.status_code == 201, made.text

        def stamped() -> bytes:
            return publish_packet(
                "bench/hook", payload=f"{time.perf_counter_ns():016x}".encode() + PAYLOAD[16:]
            )

        half = duration / 2
        start = time.perf_counter()
        sent = 0
        while time.perf_counter() - start < half:
            if sent - sink.count < 2000:  # at most 2,000 outstanding: the action's rate, not its buffer's
                pub.sendall(stamped() * 50)
                sent += 50
            else:
                time.sleep(0.001)
        deadline = time.perf_counter() + 5
        while sink.count < sent and time.perf_counter() < deadline:
            time.sleep(0.01)
        flood_time = time.perf_counter() - start
        flood = sink.count
        sink.samples.clear()
        rate, total = 1000, int(half * 1000)
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pub.sendall(stamped())
        deadline = time.perf_counter() + 5
        while sink.count < flood + total and time.perf_counter() < deadline:
            time.sleep(0.01)
        samples = sorted(sink.samples)
    finally:
        pub.close()
        sink.close()
    return {
        "actions_per_s": round(flood / flood_time),
        "p50_ms": round(statistics.median(samples), 3) if samples else None,
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3) if samples else None,
        "delivery_ratio": round((sink.count - flood) / total, 4) if total else 0.0,
    }


SCENARIOS = {
    "p2p": p2p,
    "p2p_ws": p2p_ws,
    "fanout": fanout,
    "fanin": fanin,
    "qos1": qos1,
    "qos1_persistent": partial(qos1, persistent=True),
    "latency": latency,
    "idle": idle,
    "retained": retained,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=[*SCENARIOS, "api", "rules", "webhook"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--broker-pid", type=int, required=True)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--api-port", type=int, default=0, help="the management API (api scenario)")
    args = parser.parse_args()
    if args.scenario == "api":
        result = api(args.port, args.api_port, args.duration, args.quick)
    elif args.scenario in ("rules", "webhook"):
        run = rules if args.scenario == "rules" else webhook
        result = run(args.port, args.broker_pid, args.api_port, args.duration, args.quick)
    else:
        result = SCENARIOS[args.scenario](args.port, args.broker_pid, args.duration, args.quick)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
