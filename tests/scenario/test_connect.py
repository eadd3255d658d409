"""CONNECT, CONNACK, client identifiers, sessions, takeover, keepalive."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop, persistent, settle

from brookmq.core.hooks import Hook
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode


async def test_connack_accepts_a_clean_session_without_session_present_MQTT_3_2_2_2(broker):
    c = MemoryClient(broker, pk.MQTT_3_1_1)
    ack = c.connect("a")
    assert ack == pk.Connack(False, 0)


@pytest.mark.parametrize("version", [pk.MQTT_3_1, pk.MQTT_3_1_1, pk.MQTT_5])
async def test_every_protocol_version_connects(broker, version):
    c = MemoryClient(broker, version)
    assert c.connect("a").reason_code == 0
    c.send(pk.Pingreq())
    assert c.recv() == pk.Pingresp()


async def test_empty_client_id_is_assigned_for_v5_MQTT_3_2_2_16(broker):
    c = MemoryClient(broker, pk.MQTT_5)
    ack = c.connect("")
    assigned = ack.properties["assigned_client_identifier"]
    assert assigned.startswith("brookmq-") and assigned in broker.sessions


async def test_empty_client_id_with_clean_session_is_accepted_in_v311_MQTT_3_1_3_6(broker):
    c = MemoryClient(broker, pk.MQTT_3_1_1)
    assert c.connect("", clean_start=True).reason_code == 0
    assert c.conn.client_id.startswith("brookmq-")


async def test_empty_client_id_without_clean_session_is_rejected_in_v311_MQTT_3_1_3_8(broker):
    c = MemoryClient(broker, pk.MQTT_3_1_1)
    ack = c.connect("", clean_start=False)
    assert ack == pk.Connack(False, 0x02)
    assert c.closed and not broker.sessions


async def test_empty_client_id_is_rejected_in_v31(broker):
    c = MemoryClient(broker, pk.MQTT_3_1)
    assert c.connect("").reason_code == 0x02 and c.closed


@pytest.mark.parametrize(("version", "code"), [(pk.MQTT_3_1_1, 0x02), (pk.MQTT_5, 0x85)])
async def test_client_id_longer_than_max_clientid_len_is_rejected(make_broker, version, code):
    broker = make_broker(max_clientid_len=23)
    c = MemoryClient(broker, version)
    assert c.connect("x" * 24).reason_code == code and c.closed
    assert MemoryClient(broker, version).connect("x" * 23).reason_code == 0


@pytest.mark.parametrize(("level", "connack"), [(6, "20 02 00 01"), (2, "20 02 00 01")])
async def test_unsupported_protocol_level_gets_connack_0x01_and_close_MQTT_3_1_2_2(broker, level, connack):
    c = MemoryClient(broker, pk.MQTT_3_1_1)
    c.send_raw(bytes.fromhex(f"10 0D 00 04 4D 51 54 54 {level:02x} 02 00 3C 00 01 63"))
    assert c.recv() == pk.Connack(False, 0x01)
    assert c.closed


async def test_first_packet_other_than_connect_closes_without_answer_MQTT_3_1_0_1(broker):
    c = MemoryClient(broker)
    c.send(pk.Pingreq())
    assert c.closed and not c.inbox


@pytest.mark.parametrize("version", VERSIONS)
async def test_second_connect_is_a_protocol_error_MQTT_3_1_0_2(client, version):
    c = client("a", version)
    c.send(pk.Connect("a", version))
    if version == pk.MQTT_5:
        assert c.recv(pk.Disconnect).reason_code == 0x82
    assert c.closed


@pytest.mark.parametrize("version", VERSIONS)
async def test_persistent_session_resumes_with_session_present_MQTT_3_2_2_3(broker, version):
    kwargs = persistent(version, 60)
    a = MemoryClient(broker, version)
    assert a.connect("a", clean_start=False, **kwargs).session_present is False
    a.subscribe("t", 1)
    a.send(pk.Disconnect())
    await settle()
    a2 = MemoryClient(broker, version)
    assert a2.connect("a", clean_start=False, **kwargs).session_present is True
    pub = MemoryClient(broker, version)
    pub.connect("p")
    pub.publish("t", b"kept")
    assert [p.payload for p in a2.publishes()] == [b"kept"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_clean_start_discards_the_old_session_MQTT_3_1_2_4(broker, version):
    kwargs = persistent(version, 60)
    a = MemoryClient(broker, version)
    a.connect("a", clean_start=False, **kwargs)
    a.subscribe("t", 1)
    a.send(pk.Disconnect())
    a2 = MemoryClient(broker, version)
    assert a2.connect("a", clean_start=True).session_present is False
    assert broker.sessions["a"].subscriptions == {}
    assert broker.counters["session.discarded"] == 1


async def test_v31_never_reports_session_present(broker):
    a = MemoryClient(broker, pk.MQTT_3_1)
    a.connect("a", clean_start=False)
    a.send(pk.Disconnect())
    a2 = MemoryClient(broker, pk.MQTT_3_1)
    assert a2.connect("a", clean_start=False).session_present is False
    assert "a" in broker.sessions


@pytest.mark.parametrize("version", VERSIONS)
async def test_takeover_disconnects_the_old_connection_with_0x8E_MQTT_3_1_4_3(broker, version):
    kwargs = persistent(version, 60)
    old = MemoryClient(broker, version)
    old.connect("a", clean_start=False, **kwargs)
    old.subscribe("t", 1)
    new = MemoryClient(broker, version)
    assert new.connect("a", clean_start=False, **kwargs).session_present is True
    if version == pk.MQTT_5:
        assert old.recv(pk.Disconnect).reason_code == 0x8E
    assert old.closed and not new.closed
    assert old.conn.close_reason == "takenover"
    pub = MemoryClient(broker, version)
    pub.connect("p")
    pub.publish("t", b"to-new")
    assert [p.payload for p in new.publishes()] == [b"to-new"] and not old.inbox
    assert broker.counters["session.takenover"] == 1


async def test_v3_persistent_session_expires_after_session_expiry_interval(make_broker):
    broker = make_broker(session_expiry_interval=0.1)
    a = MemoryClient(broker, pk.MQTT_3_1_1)
    a.connect("a", clean_start=False)
    a.send(pk.Disconnect())
    assert "a" in broker.sessions
    await asyncio.sleep(0.25)
    assert "a" not in broker.sessions
    assert broker.counters["session.terminated"] == 1


async def test_v5_session_expiry_interval_0_ends_the_session_on_disconnect_MQTT_3_1_2_23(broker):
    a = MemoryClient(broker, pk.MQTT_5)
    a.connect("a", clean_start=False)
    a.send(pk.Disconnect())
    assert "a" not in broker.sessions


async def test_v5_session_expires_after_its_interval(broker):
    a = MemoryClient(broker, pk.MQTT_5)
    a.connect("a", clean_start=False, properties={"session_expiry_interval": 1})
    drop(a)
    await asyncio.sleep(0.5)
    assert "a" in broker.sessions
    await asyncio.sleep(0.8)
    assert "a" not in broker.sessions


async def test_disconnect_may_not_raise_session_expiry_from_zero_MQTT_3_14_2_2(client):
    c = client("a", pk.MQTT_5)
    c.send(pk.Disconnect(0, {"session_expiry_interval": 30}))
    assert c.recv(pk.Disconnect).reason_code == 0x82
    assert c.closed


async def test_disconnect_can_change_a_nonzero_session_expiry(broker):
    c = MemoryClient(broker, pk.MQTT_5)
    c.connect("a", clean_start=False, properties={"session_expiry_interval": 30})
    c.send(pk.Disconnect(0, {"session_expiry_interval": 0}))
    assert "a" not in broker.sessions


@pytest.mark.parametrize("version", VERSIONS)
async def test_keepalive_timeout_closes_after_keepalive_times_multiplier_MQTT_3_1_2_22(make_broker, version):
    broker = make_broker(keepalive_multiplier=0.2)  # keepalive 1 s -> 0.2 s
    c = MemoryClient(broker, version)
    c.connect("a", keepalive=1)
    await asyncio.sleep(0.12)
    c.send(pk.Pingreq())  # traffic resets the timer
    await asyncio.sleep(0.12)
    assert not c.closed
    await asyncio.sleep(0.2)
    assert c.closed and c.conn.close_reason == "keepalive_timeout"
    if version == pk.MQTT_5:
        assert c.recv(pk.Disconnect).reason_code == 0x8D


async def test_keepalive_zero_never_times_out(make_broker):
    broker = make_broker(keepalive_multiplier=0.01)
    c = MemoryClient(broker)
    c.connect("a", keepalive=0)
    await asyncio.sleep(0.1)
    assert not c.closed


async def test_maximum_keepalive_65535_is_accepted(broker):
    c = MemoryClient(broker)
    assert c.connect("a", keepalive=65535).reason_code == 0
    assert c.conn.keepalive == 65535


async def test_server_keepalive_overrides_and_is_announced_MQTT_3_2_2_21(make_broker):
    broker = make_broker(server_keepalive=10)
    c = MemoryClient(broker, pk.MQTT_5)
    ack = c.connect("a", keepalive=300)
    assert ack.properties["server_keep_alive"] == 10 and c.conn.keepalive == 10


async def test_socket_that_never_sends_connect_is_closed_after_idle_timeout(make_broker):
    broker = make_broker(idle_timeout=0.05)
    c = MemoryClient(broker)
    await asyncio.sleep(0.12)
    assert c.closed and c.conn.close_reason == "idle_timeout"


async def test_connack_v5_properties_describe_the_limits(make_broker):
    broker = make_broker(
        max_qos_allowed=1,
        retain_available=False,
        wildcard_subscription=False,
        shared_subscription=False,
        max_packet_size=4096,
        max_topic_alias=8,
    )
    c = MemoryClient(broker, pk.MQTT_5)
    props = c.connect("a").properties
    assert props == {
        "receive_maximum": 100,
        "maximum_packet_size": 4096,
        "topic_alias_maximum": 8,
        "maximum_qos": 1,
        "retain_available": 0,
        "wildcard_subscription_available": 0,
        "shared_subscription_available": 0,
    }


async def test_auth_packet_without_enhanced_auth_gets_0x8C(client):
    c = client("a", pk.MQTT_5)
    c.send(pk.Auth(0x19, {"authentication_method": "SCRAM"}))
    assert c.recv(pk.Disconnect).reason_code == 0x8C and c.closed


async def test_connect_with_authentication_method_gets_connack_0x8C(broker):
    c = MemoryClient(broker, pk.MQTT_5)
    assert c.connect("a", properties={"authentication_method": "SCRAM"}).reason_code == 0x8C
    assert c.closed


@pytest.mark.parametrize(("version", "code"), [(pk.MQTT_3_1_1, 0x04), (pk.MQTT_5, 0x86)])
async def test_authentication_hook_refusal_gets_bad_credentials(broker, version, code):
    class Deny(Hook):
        def client_authenticate(self, client, password):
            return password == b"right"

    broker.hooks.add(Deny())
    c = MemoryClient(broker, version)
    assert c.connect("a", username="u", password=b"wrong").reason_code == code and c.closed
    assert MemoryClient(broker, version).connect("b", username="u", password=b"right").reason_code == 0
    assert broker.counters["authentication.failure"] == 1


class Pending(Hook):
    """An authenticator that answers later (like an HTTP request): the test sets the answer."""

    def __init__(self) -> None:
        self.answers: list[asyncio.Future] = []

    def client_authenticate(self, client, password):
        self.answers.append(asyncio.get_running_loop().create_future())
        return self.answers[-1]


async def test_connect_waits_for_a_slow_authenticator_and_keeps_what_came_meanwhile(broker):
    pending = Pending()
    broker.hooks.add(pending)
    c = MemoryClient(broker, pk.MQTT_5)
    # CONNECT, SUBSCRIBE and PUBLISH in one read, before any answer [MQTT-3.1.4-5 allows it].
    c.send_raw(
        encode(pk.Connect("a", pk.MQTT_5, True), pk.MQTT_5)
        + encode(pk.Subscribe(1, [("t", pk.SubscriptionOptions(1))]), pk.MQTT_5)
        + encode(pk.Publish("t", b"hello", 1, packet_id=7), pk.MQTT_5)
    )
    assert c.inbox == deque() and not c.transport.reading  # nothing handled, no more read
    pending.answers[0].set_result(True)
    await settle()
    kinds = [type(p) for p in c.recv_all()]
    assert kinds[:2] == [pk.Connack, pk.Suback] and set(kinds[2:]) == {pk.Puback, pk.Publish}
    assert c.transport.reading and broker.counters["authentication.success"] == 1


async def test_a_slow_authenticator_that_fails_refuses_and_a_gone_client_is_forgotten(broker):
    pending = Pending()
    broker.hooks.add(pending)
    refused = MemoryClient(broker, pk.MQTT_5)
    refused.send(pk.Connect("a", pk.MQTT_5, True))
    pending.answers[0].set_exception(OSError("unreachable"))
    await settle()
    assert refused.recv(pk.Connack).reason_code == 0x86 and refused.closed
    gone = MemoryClient(broker, pk.MQTT_5)
    gone.send(pk.Connect("b", pk.MQTT_5, True))
    drop(gone)
    await settle()
    assert pending.answers[1].cancelled() and "b" not in broker.sessions


@pytest.mark.parametrize("version", VERSIONS)
async def test_will_topic_with_wildcard_is_refused(broker, version):
    c = MemoryClient(broker, version)
    ack = c.connect("a", will=pk.Will("w/#", b"x"))
    assert ack.reason_code == (0x90 if version == pk.MQTT_5 else 0x03) and c.closed


async def test_receive_maximum_and_packet_size_from_connect_are_kept(broker):
    c = MemoryClient(broker, pk.MQTT_5)
    c.connect("a", properties={"receive_maximum": 3, "maximum_packet_size": 500, "topic_alias_maximum": 4})
    assert (c.conn.inflight_limit, c.conn.max_packet_out, c.conn.alias_max_out) == (3, 500, 4)


async def test_hooks_see_the_connection_lifecycle(broker):
    seen = []

    class Watch(Hook):
        def client_connected(self, client):
            seen.append(("connected", client.client_id))

        def client_disconnected(self, client, reason):
            seen.append(("disconnected", reason))

        def session_created(self, session):
            seen.append(("created", session.client_id))

        def session_terminated(self, session, reason):
            seen.append(("terminated", reason))

    broker.hooks.add(Watch())
    c = MemoryClient(broker)
    c.connect("a")
    c.send(pk.Disconnect())
    assert seen == [
        ("created", "a"),
        ("connected", "a"),
        ("disconnected", "normal"),
        ("terminated", "closed"),
    ]
    assert broker.stats.snapshot()["connections.count"] == 0
    assert broker.stats.snapshot()["connections.max"] == 1


async def test_request_problem_information_0_leaves_out_the_reason_string_MQTT_3_1_2_29(broker):
    quiet = MemoryClient(broker)
    quiet.connect("quiet", properties={"request_problem_information": 0})
    quiet.publish("bad/#")
    assert quiet.recv(pk.Disconnect) == pk.Disconnect(0x90)
    chatty = MemoryClient(broker)
    chatty.connect("chatty")
    chatty.publish("bad/#")
    assert chatty.recv(pk.Disconnect).properties["reason_string"]


class ChallengeResponse(Hook):
    """A toy enhanced authentication: the server sends a nonce, the client answers it reversed."""

    def __init__(self):
        self.nonces = {}

    def client_enhanced_authenticate(self, client, method, data):
        if method != "TOY":
            return None
        if client not in self.nonces:
            self.nonces[client] = b"nonce-42"
            return 0x18, self.nonces[client]
        expected = self.nonces.pop(client)[::-1]
        return (0x00, b"welcome") if data == expected else (0x87, None)


async def test_enhanced_authentication_exchange_then_connack_MQTT_4_12_0_1(broker):
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "TOY"}))
    challenge = c.recv(pk.Auth)
    assert challenge == pk.Auth(0x18, {"authentication_method": "TOY", "authentication_data": b"nonce-42"})
    c.send(pk.Auth(0x18, {"authentication_method": "TOY", "authentication_data": b"24-ecnon"}))
    ack = c.recv(pk.Connack)
    assert ack.reason_code == 0 and ack.properties["authentication_data"] == b"welcome"
    assert ack.properties["authentication_method"] == "TOY"
    assert "e" in broker.sessions


async def test_enhanced_authentication_wrong_answer_is_refused(broker):
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "TOY"}))
    c.recv(pk.Auth)
    c.send(pk.Auth(0x18, {"authentication_method": "TOY", "authentication_data": b"wrong"}))
    assert c.recv(pk.Connack).reason_code == 0x87 and c.closed
    assert "e" not in broker.sessions


async def test_only_auth_may_come_during_the_exchange_MQTT_4_12_0_2(broker):
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "TOY"}))
    c.recv(pk.Auth)
    c.publish("t", b"too early")
    assert c.closed and "e" not in broker.sessions


async def test_auth_with_another_method_is_a_protocol_error_MQTT_4_12_0_5(broker):
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "TOY"}))
    c.recv(pk.Auth)
    c.send(pk.Auth(0x18, {"authentication_method": "OTHER", "authentication_data": b"24-ecnon"}))
    assert c.closed


async def test_an_unknown_method_is_refused_with_0x8C_even_with_a_hook(broker):
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "SCRAM-SHA-256"}))
    assert c.recv(pk.Connack).reason_code == 0x8C


async def test_re_authentication_after_connect_MQTT_4_12_1_1(broker):
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "TOY"}))
    c.recv(pk.Auth)
    c.send(pk.Auth(0x18, {"authentication_method": "TOY", "authentication_data": b"24-ecnon"}))
    c.recv(pk.Connack)
    c.send(pk.Auth(0x19, {"authentication_method": "TOY"}))
    assert c.recv(pk.Auth).reason_code == 0x18
    c.send(pk.Auth(0x18, {"authentication_method": "TOY", "authentication_data": b"24-ecnon"}))
    assert c.recv(pk.Auth) == pk.Auth(
        0x00, {"authentication_method": "TOY", "authentication_data": b"welcome"}
    )
    assert not c.closed


async def test_an_authentication_that_never_finishes_is_closed_after_idle_timeout(make_broker):
    broker = make_broker(idle_timeout=0.1)
    broker.hooks.add(ChallengeResponse())
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect("e", pk.MQTT_5, properties={"authentication_method": "TOY"}))
    c.recv(pk.Auth)
    await asyncio.sleep(0.2)
    assert c.closed and c.conn.close_reason == "idle_timeout"
