"""Listeners of every kind on loopback, in-process: limits, runtime control, TLS and WebSocket edges."""

from __future__ import annotations

import asyncio
import os
import ssl
import stat

import pytest
import trustme
from wsproto.events import Pong

from brookmq.app.server import BrookMQ
from brookmq.config import load_settings
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode
from tests.transport.conftest import LOOPBACK_LISTENERS
from tests.transport.test_tcp import Wire
from tests.transport.wsclient import WsClient

CONNECT_V5 = encode(pk.Connect("ws-client", pk.MQTT_5), pk.MQTT_5)


async def started(tmp_path, **env: str) -> BrookMQ:
    settings = load_settings(environ={**LOOPBACK_LISTENERS, "BROOKMQ_NODE__DATA_DIR": str(tmp_path), **env})
    app = BrookMQ(settings)
    await app.start()
    return app


@pytest.fixture
async def app(tmp_path):
    server = await started(tmp_path)
    yield server
    await server.stop()


def port(app: BrookMQ, listener_id: str) -> int:
    return app.listeners.get(listener_id).port


def client_tls(ca_file) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    return ctx


async def tls_wire(app: BrookMQ, ctx: ssl.SSLContext, listener: str = "ssl:default") -> Wire:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port(app, listener), ssl=ctx, server_hostname="localhost"
    )
    return Wire(reader, writer, pk.MQTT_5)


async def test_first_start_generates_a_ca_and_keys_only_the_owner_can_read(app, tmp_path):
    certs = tmp_path / "certs"
    assert (certs / "ca.pem").exists() and (certs / "server.pem").exists()
    for key in ("server.key", "ca.key"):
        assert stat.S_IMODE(os.stat(certs / key).st_mode) == 0o600


async def test_mqtt_over_tls_with_the_generated_ca(app, tmp_path):
    wire = await tls_wire(app, client_tls(tmp_path / "certs" / "ca.pem"))
    await wire.connect("tls-client")
    wire.send(pk.Pingreq())
    assert await wire.recv() == pk.Pingresp()
    assert app.broker.sessions["tls-client"].connection.listener == "ssl:default"


async def test_tls_handshake_failure_closes_only_that_connection_and_is_counted(app):
    reader, writer = await asyncio.open_connection("127.0.0.1", port(app, "ssl:default"))
    writer.write(b"\x16\x03\x01\x00\x05hello-this-is-not-tls" * 4)
    answer = await asyncio.wait_for(reader.read(), 5)  # until the broker closes
    assert reader.at_eof()
    assert not answer or answer[0] == 0x15  # nothing, or a TLS alert record; never MQTT
    await asyncio.sleep(0.05)
    assert app.listeners.get("ssl:default").state.shutdown_count["tls_error"] == 1
    ok = await Wire.open(app)
    await ok.connect("still-fine")


async def test_tls_client_that_never_finishes_the_handshake_is_closed(tmp_path):
    app = await started(tmp_path, BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__HANDSHAKE_TIMEOUT="200ms")
    try:
        reader, _ = await asyncio.open_connection("127.0.0.1", port(app, "ssl:default"))
        assert await asyncio.wait_for(reader.read(), 3) == b""
        assert app.listeners.get("ssl:default").state.shutdown_count["tls_error"] == 1
    finally:
        await app.stop()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_tls_versions_below_the_configured_ones_are_refused(app, tmp_path):
    ctx = client_tls(tmp_path / "certs" / "ca.pem")
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await tls_wire(app, ctx)


@pytest.fixture
def pki(tmp_path):
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("device-7@example.com", common_name="device-7")
    files = {}
    for name, blob in (
        ("ca", ca.cert_pem),
        ("server", server.private_key_and_cert_chain_pem),
        ("client", client.private_key_and_cert_chain_pem),
    ):
        files[name] = tmp_path / f"{name}.pem"
        blob.write_to_path(str(files[name]))
    return files


def verify_peer_env(pki) -> dict[str, str]:
    """ssl:default with the test CA's server certificate, asking clients for theirs."""
    prefix = "BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__"
    return {
        f"{prefix}CERTFILE": str(pki["server"]),
        f"{prefix}KEYFILE": str(pki["server"]),
        f"{prefix}CACERTFILE": str(pki["ca"]),
        f"{prefix}VERIFY": "verify_peer",
    }


async def test_verify_peer_takes_username_and_client_id_from_the_certificate_cn(tmp_path, pki):
    field, expected_username, expected_client = "cn", "device-7", "device-7"
    app = await started(
        tmp_path,
        **verify_peer_env(pki),
        BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__FAIL_IF_NO_PEER_CERT="true",
        BROOKMQ_LISTENERS__SSL__DEFAULT__PEER_CERT_AS_USERNAME=field,
        BROOKMQ_LISTENERS__SSL__DEFAULT__PEER_CERT_AS_CLIENTID=field,
    )
    try:
        ctx = client_tls(pki["ca"])
        ctx.load_cert_chain(str(pki["client"]))
        wire = await tls_wire(app, ctx)
        await wire.connect("claimed-id", username="claimed-user")
        conn = app.broker.sessions[expected_client].connection
        assert (conn.client_id, conn.username) == (expected_client, expected_username)
        # without a client certificate the handshake is refused
        bare = client_tls(pki["ca"])
        with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
            w = await tls_wire(app, bare)
            w.send(pk.Connect("x", pk.MQTT_5))
            assert await w.recv() is None
            raise ConnectionError("closed")
    finally:
        await app.stop()


async def test_dn_of_the_certificate_as_username(tmp_path, pki):
    app = await started(
        tmp_path, **verify_peer_env(pki), BROOKMQ_LISTENERS__SSL__DEFAULT__PEER_CERT_AS_USERNAME="dn"
    )
    try:
        ctx = client_tls(pki["ca"])
        ctx.load_cert_chain(str(pki["client"]))
        wire = await tls_wire(app, ctx)
        await wire.connect("c")
        username = app.broker.sessions["c"].connection.username
        assert "CN=device-7" in username
    finally:
        await app.stop()


async def test_mqtt_over_websocket_echoes_the_subprotocol_and_frames_freely(app):
    ws = await WsClient.connect(port(app, "ws:default"), subprotocols=("mqttv3.1",))
    assert ws.accepted is not None and ws.accepted.subprotocol == "mqttv3.1"
    connect = encode(pk.Connect("ws", pk.MQTT_3_1_1), pk.MQTT_3_1_1)
    ws.send(connect[:3])  # a packet split across frames
    ws.send(connect[3:])
    assert await ws.recv_bytes(4) == b"\x20\x02\x00\x00"
    ws.send(b"\xc0\x00\xc0\x00")  # two packets in one frame
    assert await ws.recv_bytes(4) == b"\xd0\x00\xd0\x00"
    ws.ping()
    assert isinstance(await ws.until(Pong), Pong)
    ws.close()
    await asyncio.sleep(0.05)
    assert "ws" not in app.broker.sessions


async def test_websocket_without_a_subprotocol_is_refused(app):
    ws = await WsClient.connect(port(app, "ws:default"), subprotocols=())
    assert ws.rejected is not None and ws.rejected.status_code == 400


async def test_websocket_on_the_wrong_path_is_refused(app):
    ws = await WsClient.connect(port(app, "ws:default"), path="/other")
    assert ws.rejected is not None and ws.rejected.status_code == 404


async def test_plain_http_request_to_the_websocket_port_gets_400(app):
    reader, writer = await asyncio.open_connection("127.0.0.1", port(app, "ws:default"))
    writer.write(b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    assert answer.startswith(b"HTTP/1.1 400")
    assert app.listeners.get("ws:default").state.shutdown_count["websocket_error"] == 1


async def test_websocket_handshake_never_finished_is_closed_after_idle_timeout(tmp_path):
    app = await started(tmp_path, BROOKMQ_MQTT__IDLE_TIMEOUT="200ms")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port(app, "ws:default"))
        writer.write(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        assert await asyncio.wait_for(reader.read(), 3) == b""
    finally:
        await app.stop()


async def test_websocket_frame_with_a_bogus_length_closes_the_connection(app):
    ws = await WsClient.connect(port(app, "ws:default"))
    ws.writer.write(b"\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00")  # 64-bit length, top bit set
    data = await asyncio.wait_for(ws.reader.read(), 5)
    assert data[0] == 0x88 and data[2:4] == b"\x03\xea"  # a close frame, 1002 protocol error; then EOF
    assert app.listeners.get("ws:default").state.shutdown_count["websocket_error"] == 1


async def test_origin_check(tmp_path):
    app = await started(
        tmp_path,
        BROOKMQ_LISTENERS__WS__DEFAULT__WEBSOCKET__CHECK_ORIGIN_ENABLE="true",
        BROOKMQ_LISTENERS__WS__DEFAULT__WEBSOCKET__CHECK_ORIGINS='["https://dash.example.com"]',
    )
    try:
        bad = await WsClient.connect(
            port(app, "ws:default"), headers=[(b"origin", b"https://evil.example.com")]
        )
        assert bad.rejected is not None and bad.rejected.status_code == 403
        good = await WsClient.connect(
            port(app, "ws:default"), headers=[(b"origin", b"https://dash.example.com")]
        )
        assert good.accepted is not None
    finally:
        await app.stop()


async def test_proxy_headers_give_the_client_address_when_configured(tmp_path):
    app = await started(
        tmp_path,
        BROOKMQ_LISTENERS__WS__DEFAULT__WEBSOCKET__PROXY_ADDRESS_HEADER="x-forwarded-for",
        BROOKMQ_LISTENERS__WS__DEFAULT__WEBSOCKET__PROXY_PORT_HEADER="x-forwarded-port",
    )
    try:
        ws = await WsClient.connect(
            port(app, "ws:default"),
            headers=[(b"x-forwarded-for", b"203.0.113.9, 10.0.0.1"), (b"x-forwarded-port", b"40123")],
        )
        ws.send(CONNECT_V5)
        await ws.recv_bytes(3)
        info = app.broker.sessions["ws-client"].connection.client_info()
        assert (info["ip_address"], info["port"]) == ("203.0.113.9", 40123)
    finally:
        await app.stop()


async def test_proxy_headers_are_ignored_unless_configured(app):
    ws = await WsClient.connect(port(app, "ws:default"), headers=[(b"x-forwarded-for", b"203.0.113.9")])
    ws.send(CONNECT_V5)
    await ws.recv_bytes(3)
    assert app.broker.sessions["ws-client"].connection.peerhost == "127.0.0.1"


async def test_mqtt_over_secure_websocket(app, tmp_path):
    ws = await WsClient.connect(port(app, "wss:default"), tls=client_tls(tmp_path / "certs" / "ca.pem"))
    assert ws.accepted is not None
    ws.send(CONNECT_V5)
    assert (await ws.recv_bytes(2))[:1] == b"\x20"
    assert app.broker.sessions["ws-client"].connection.listener == "wss:default"


async def test_max_connections_refuses_and_counts(tmp_path):
    app = await started(tmp_path, BROOKMQ_LISTENERS__TCP__DEFAULT__MAX_CONNECTIONS="2")
    try:
        wires = [await Wire.open(app) for _ in range(2)]
        for i, w in enumerate(wires):
            await w.connect(f"c{i}")
        extra = await Wire.open(app)
        assert await extra.recv() is None  # closed at once
        state = app.listeners.get("tcp:default").state
        assert state.shutdown_count["max_connections"] == 1 and len(state.connections) == 2
    finally:
        await app.stop()


async def test_stop_start_restart_one_listener_at_runtime(app):
    tcp = await Wire.open(app, pk.MQTT_5)
    await tcp.connect("on-tcp")
    ws = await WsClient.connect(port(app, "ws:default"))
    ws.send(CONNECT_V5)
    await ws.recv_bytes(3)
    tcp_port = port(app, "tcp:default")
    await app.listeners.stop("tcp:default")
    assert await tcp.recv() == pk.Disconnect(0x8B)
    assert await tcp.recv() is None
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", tcp_port)
    assert "ws-client" in app.broker.sessions and app.broker.sessions["ws-client"].connection is not None
    info = {i["id"]: i for i in app.listeners.info()}
    assert info["tcp:default"]["running"] is False and info["ws:default"]["current_connections"] == 1
    assert info["tcp:default"]["shutdown_count"] == {"listener_stopped": 1}
    await app.listeners.start("tcp:default")
    again = await Wire.open(app)
    await again.connect("back")
    await app.listeners.restart("tcp:default")
    assert await again.recv() == pk.Disconnect(0x8B)
    after = await Wire.open(app)
    await after.connect("after-restart")


async def test_a_listener_in_a_zone_applies_the_zones_limits(tmp_path):
    app = await started(
        tmp_path,
        BROOKMQ_ZONES__SMALL__MQTT__MAX_PACKET_SIZE="1KB",
        BROOKMQ_LISTENERS__TCP__SMALL__ZONE="small",
        BROOKMQ_LISTENERS__TCP__SMALL__BIND="127.0.0.1:0",
    )
    try:
        big = pk.Publish("t", b"x" * 2000)
        default = await Wire.open(app)
        await default.connect("on-default")
        default.send(big)
        default.send(pk.Pingreq())
        assert await default.recv() == pk.Pingresp()
        reader, writer = await asyncio.open_connection("127.0.0.1", port(app, "tcp:small"))
        small = Wire(reader, writer, pk.MQTT_5)
        await small.connect("on-small")
        small.send(big)
        assert (await small.recv()).reason_code == 0x95
    finally:
        await app.stop()


@pytest.mark.parametrize("listener", ["ssl:default", "ws:default"])
async def test_stopping_a_listener_also_closes_connections_still_in_their_handshake(app, listener):
    reader, writer = await asyncio.open_connection("127.0.0.1", port(app, listener))
    writer.write(b"\x16\x03\x01" if listener.startswith("ssl") else b"GET /mqtt HTTP/1.1\r\n")  # and no more
    await asyncio.sleep(0.05)
    assert len(app.listeners.get(listener).state.handshaking) == 1
    await app.listeners.stop(listener)
    assert await asyncio.wait_for(reader.read(), 3) == b""
    assert app.listeners.get(listener).state.handshaking == set()


async def test_a_huge_declared_packet_inside_websocket_frames_is_refused_from_its_header(app):
    # reliability 1.1: remaining length far beyond what is sent, over WebSocket frames
    ws = await WsClient.connect(port(app, "ws:default"))
    ws.send(CONNECT_V5)
    await ws.recv_bytes(3)
    ws.send(b"\x30\xff\xff\xff\x7f")  # a PUBLISH declaring 256 MB
    ws.send(b"\x00" * 1000)
    data = await ws.recv_bytes(3)
    assert data[0] == 0xE0 and data[2] == 0x95  # DISCONNECT, reason 0x95 packet too large
    assert "ws-client" not in app.broker.sessions
