"""``/api/v4/clients/{clientid}/ratelimit`` and ``/quota`` on real connections: past a limit the
broker stops reading that connection until the bucket refills (so the next PUBLISH is acked
late), others carry on, and removing the limit ends it. Only lower bounds on the throttled
waits (a slow machine only makes them longer) and a generous bound on the unthrottled ones."""

from __future__ import annotations

import time

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import prefix  # noqa: F401
from tests.durability.process import Wire


def _connected(node, client_id: str) -> Wire:
    wire = Wire(node.port)
    assert wire.connect(client_id).reason_code == 0
    return wire


def _burst(wire: Wire, topic: str, count: int, size: int = 1, first_id: int = 1) -> None:
    """``count`` QoS 1 PUBLISHes in one write; waits for their PUBACKs."""
    wire.send(*(pk.Publish(topic, b"x" * size, 1, packet_id=first_id + i) for i in range(count)))
    for _ in range(count):
        assert isinstance(wire.recv(timeout=10), pk.Puback)


def _ack_time(wire: Wire, topic: str, packet_id: int) -> float:
    start = time.monotonic()
    wire.send(pk.Publish(topic, b"x", 1, packet_id=packet_id))
    assert isinstance(wire.recv(timeout=10), pk.Puback)
    return time.monotonic() - start


def test_a_message_rate_limit_pauses_that_client_only(v4, api_node, prefix):  # noqa: F811
    slow, other = _connected(api_node, prefix + "slow"), _connected(api_node, prefix + "other")
    limit = {"conn_messages_in": "5,1s", "conn_bytes_in": "100KB,1s"}
    assert v4.post(f"/clients/{prefix}slow/ratelimit", json=limit).json() == {"code": 0}
    _burst(slow, f"{prefix}/t", 10)  # 5 over the limit: about a second without reading
    start = time.monotonic()
    slow.send(pk.Publish(f"{prefix}/t", b"x", 1, packet_id=20))
    assert _ack_time(other, f"{prefix}/t", 1) < 0.5  # the other client is not held up
    assert isinstance(slow.recv(timeout=10), pk.Puback)
    assert time.monotonic() - start >= 0.8
    assert v4.delete(f"/clients/{prefix}slow/ratelimit").json() == {"code": 0}
    _burst(slow, f"{prefix}/t", 10, first_id=30)
    assert _ack_time(slow, f"{prefix}/t", 50) < 0.5  # no limit now
    slow.close()
    other.close()


def test_a_byte_rate_limit(v4, api_node, prefix):  # noqa: F811
    client = _connected(api_node, prefix + "bytes")
    assert v4.post(f"/clients/{prefix}bytes/ratelimit", json={"conn_bytes_in": "1KB,1s"}).json() == {
        "code": 0
    }
    _burst(client, f"{prefix}/b", 1, size=3000)  # 2 KB over: about two seconds
    assert _ack_time(client, f"{prefix}/b", 2) >= 1.5
    client.close()


def test_a_routing_quota_counts_deliveries(v4, api_node, prefix):  # noqa: F811
    subscriber = _connected(api_node, prefix + "sub")
    subscriber.send(pk.Subscribe(1, [(f"{prefix}/q", pk.SubscriptionOptions(0))]))
    subscriber.recv()
    publisher = _connected(api_node, prefix + "pub")
    assert v4.post(f"/clients/{prefix}pub/quota", json={"conn_messages_routing": "2,1s"}).json() == {
        "code": 0
    }
    _burst(publisher, f"{prefix}/unrouted", 6)  # nobody subscribed: routed nowhere, no quota used
    assert _ack_time(publisher, f"{prefix}/unrouted", 10) < 0.5
    _burst(publisher, f"{prefix}/q", 6, first_id=20)  # 6 deliveries, 4 over: about two seconds
    assert _ack_time(publisher, f"{prefix}/q", 30) >= 1.5
    assert v4.delete(f"/clients/{prefix}pub/quota").json() == {"code": 0}
    subscriber.close()
    publisher.close()


def test_limit_input_is_checked(v4, api_node, prefix):  # noqa: F811
    client = _connected(api_node, prefix + "checked")
    path = f"/clients/{prefix}checked/ratelimit"
    assert v4.post(path, json={}).json() == {
        "code": 107,
        "message": "missing mandatory params: ['conn_bytes_in', 'conn_messages_in']",
    }
    for bad in ("100", "x,1s", "100,forever", "0,1s", 5):
        assert v4.post(path, json={"conn_messages_in": bad}).json()["code"] == 108, bad
    assert v4.post("/clients/nobody-here/ratelimit", json={"conn_messages_in": "1,1s"}).json()["code"] == 112
    assert v4.post(f"/clients/{prefix}checked/quota", json={"conn_bytes_in": "1,1s"}).json()["code"] == 107
    client.close()
