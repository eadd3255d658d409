"""Property tests: encode then decode is the identity for every packet type and
version, and any byte string decodes to packets or a ProtocolError, never another exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from brookmq.mqtt import packets as pk
from brookmq.mqtt import properties as P
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.codec import encode
from brookmq.mqtt.reader import PacketReader

VERSIONS = st.sampled_from([pk.MQTT_3_1, pk.MQTT_3_1_1, pk.MQTT_5])
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
topic = text.filter(lambda t: t and "+" not in t and "#" not in t)
binary = st.binary(max_size=40)
u16 = st.integers(1, 65535)

_VALUES = {
    P.BYTE: st.integers(0, 1),
    P.TWO: st.integers(1, 65535),
    P.FOUR: st.integers(1, 2**32 - 1),
    P.VARINT: st.integers(1, 268_435_455),
    P.UTF8: text,
    P.BINARY: binary,
    P.PAIR: st.tuples(text, text),
}


def props_for(kind: str, exclude: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for _, (name, vtype, allowed) in P.PROPERTIES.items():
        if kind not in allowed or name in exclude:
            continue
        value = _VALUES[vtype]
        fields[name] = st.lists(value, min_size=1, max_size=3) if name in P.REPEATABLE else value
    return st.fixed_dictionaries({}, optional=fields)


def packets(version: int) -> st.SearchStrategy[pk.Packet]:
    v5 = version == pk.MQTT_5

    def props(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        return props_for(kind) if v5 else st.just({})

    code = st.integers(0, 255) if v5 else st.just(0)
    will = st.builds(pk.Will, topic, binary, st.integers(0, 2), st.booleans(), props("WILL"))
    username = st.none() | text
    connect = st.builds(
        lambda cid, clean, ka, user, pw, w, pr: pk.Connect(
            cid, version, clean, ka, user, pw if (v5 or user is not None) else None, w, pr
        ),
        text,
        st.booleans(),
        st.integers(0, 65535),
        username,
        st.none() | binary,
        st.none() | will,
        props("CONNECT"),
    )
    qos = st.integers(0, 2)
    publish = st.builds(
        lambda t, payload, q, retain, dup, pid, pr: pk.Publish(
            t, payload, q, retain, dup and q > 0, pid if q else 0, pr if v5 else None
        ),
        topic,
        binary,
        qos,
        st.booleans(),
        st.booleans(),
        u16,
        props("PUBLISH"),
    )
    options = st.builds(
        pk.SubscriptionOptions,
        qos,
        st.booleans() if v5 else st.just(False),
        st.booleans() if v5 else st.just(False),
        st.integers(0, 2) if v5 else st.just(0),
    )
    sub_props = (
        st.fixed_dictionaries(
            {},
            optional={
                "subscription_identifier": st.lists(st.integers(1, 268_435_455), min_size=1, max_size=1),
                "user_property": st.lists(st.tuples(text, text), min_size=1, max_size=3),
            },
        )
        if v5
        else st.just({})
    )
    return st.one_of(
        connect,
        st.builds(pk.Connack, st.booleans(), st.integers(0, 255), props("CONNACK")),
        publish,
        *(
            # acknowledgements without properties carry None, not an empty dict; each carries
            # only the reason codes defined for it
            st.builds(
                cls,
                u16,
                st.sampled_from(sorted(codes)) if v5 else st.just(0),
                props(cls.__name__.upper()).map(lambda d: d or None),
            )
            for cls, codes in (
                (pk.Puback, rc.PUBLISH_ACK_CODES),
                (pk.Pubrec, rc.PUBLISH_ACK_CODES),
                (pk.Pubrel, rc.RELEASE_CODES),
                (pk.Pubcomp, rc.RELEASE_CODES),
            )
        ),
        st.builds(
            pk.Subscribe,
            u16,
            st.lists(st.tuples(text.filter(bool), options), min_size=1, max_size=4),
            sub_props,
        ),
        st.builds(pk.Suback, u16, st.lists(st.integers(0, 255), max_size=4), props("SUBACK")),
        st.builds(
            pk.Unsubscribe, u16, st.lists(text.filter(bool), min_size=1, max_size=4), props("UNSUBSCRIBE")
        ),
        st.builds(
            pk.Unsuback,
            u16,
            st.lists(st.integers(0, 255), max_size=4) if v5 else st.just([]),
            props("UNSUBACK"),
        ),
        st.just(pk.Pingreq()),
        st.just(pk.Pingresp()),
        st.builds(pk.Disconnect, code, props("DISCONNECT")),
        *([st.builds(pk.Auth, code, props("AUTH"))] if v5 else []),
    )


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_encode_then_decode_is_identity(data: st.DataObject) -> None:
    version = data.draw(VERSIONS)
    packet = data.draw(packets(version))
    reader = PacketReader(version=version)
    reader.awaiting_connect = False
    if isinstance(packet, pk.Connect):
        reader.version = packet.protocol_level
    assert reader.feed(encode(packet, version)) == [packet]
    assert reader.error is None


@settings(max_examples=600, deadline=None)
@given(VERSIONS, st.binary(max_size=300), st.booleans())
def test_any_bytes_decode_to_packets_or_a_protocol_error(version: int, data: bytes, connected: bool) -> None:
    reader = PacketReader(max_packet_size=1024, version=version)
    reader.awaiting_connect = not connected
    out = reader.feed(data)  # raising anything would fail the test
    assert all(not isinstance(p, bytes) for p in out)
    if reader.error is not None:
        assert 0x80 <= reader.error.reason_code <= 0xA2


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_split_of_a_valid_stream_decodes_the_same(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from([pk.MQTT_3_1_1, pk.MQTT_5]))
    stream = data.draw(
        st.lists(packets(version).filter(lambda p: not isinstance(p, pk.Connect)), min_size=1, max_size=5)
    )
    blob = b"".join(encode(p, version) for p in stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=6)))
    reader = PacketReader(version=version)
    reader.awaiting_connect = False
    out: list[pk.Packet] = []
    prev = 0
    for cut in [*cuts, len(blob)]:
        out += reader.feed(blob[prev:cut])
        prev = cut
    assert out == stream
