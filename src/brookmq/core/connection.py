"""One MQTT connection: an asyncio Protocol fed by any byte-stream transport.

The transport (TCP, TLS, WebSocket adapter, or an in-memory pair in tests)
calls ``connection_made``/``data_received``/``connection_lost``; everything
the connection sends goes through ``transport.write``. Packet handling lives
in the ``*_flow`` modules, one per packet family.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from brookmq.core import connect_flow, limits, publish_flow, subscribe_flow
from brookmq.core.hooks import Hooks
from brookmq.core.limits import ConnLimits
from brookmq.core.listener import ListenerContext
from brookmq.core.message import Message
from brookmq.core.metrics import QOS_SENT
from brookmq.core.states import AUTHENTICATING, CLOSED, CONNECTED, NEW
from brookmq.mqtt import packets as pk
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.codec import UnsupportedProtocolVersion, encode, encode_publish, packet_id_offset
from brookmq.mqtt.errors import ProtocolError, protocol_error
from brookmq.mqtt.reader import PacketReader

if TYPE_CHECKING:
    from brookmq.core.broker import Broker
    from brookmq.core.session import Session

log = logging.getLogger("brookmq.connection")


_SENT_METRIC = {
    pk.Connack: "packets.connack.sent",
    pk.Puback: "packets.puback.sent",
    pk.Pubrec: "packets.pubrec.sent",
    pk.Pubrel: "packets.pubrel.sent",
    pk.Pubcomp: "packets.pubcomp.sent",
    pk.Suback: "packets.suback.sent",
    pk.Unsuback: "packets.unsuback.sent",
    pk.Disconnect: "packets.disconnect.sent",
    pk.Auth: "packets.auth.sent",
}
# DISCONNECT reason code a v5 client is told when the server closes for each reason.
_EVICT_CODES = {
    "takenover": rc.SESSION_TAKEN_OVER,
    "discarded": rc.SESSION_TAKEN_OVER,
    "kicked": rc.ADMINISTRATIVE_ACTION,
    "shutdown": rc.SERVER_SHUTTING_DOWN,
    "listener_stopped": rc.SERVER_SHUTTING_DOWN,
}
_DEFAULT_CONTEXT = ListenerContext()
_FLUSH_AT = 65536  # gathered bytes that are written at once, so flow control still bites
_CLOSE_REASONS = {rc.PACKET_TOO_LARGE: "frame_too_large", rc.KEEP_ALIVE_TIMEOUT: "keepalive_timeout"}


class Connection(asyncio.Protocol):
    __slots__ = (
        "_keepalive_timeout",
        "_out",
        "_out_size",
        "_throttled",
        "_timer",
        "alias_max_out",
        "aliases_in",
        "aliases_out",
        "auth_method",
        "authz_cache",
        "backlog",
        "broker",
        "cert_client_id",
        "cert_username",
        "clean_start",
        "client_id",
        "close_reason",
        "connected_at",
        "context",
        "created_at",
        "disconnected_at",
        "handlers",
        "held",
        "inflight_limit",
        "is_superuser",
        "keepalive",
        "last_recv",
        "limits",
        "loop",
        "max_packet_out",
        "mountpoint",
        "options",
        "peerhost",
        "peerport",
        "pending_connect",
        "problem_information",
        "reader",
        "recv_cnt",
        "recv_msg",
        "recv_oct",
        "recv_pkt",
        "send_cnt",
        "send_dropped_too_large",
        "send_msg",
        "send_oct",
        "send_pkt",
        "session",
        "state",
        "transport",
        "username",
        "version",
        "waiting",
        "will",
        "writable",
    )

    def __init__(self, broker: Broker, context: ListenerContext | None = None) -> None:
        self.broker = broker
        self.context = context or _DEFAULT_CONTEXT
        self.mountpoint = ""  # resolved at CONNECT from the listener's mountpoint
        self.cert_username: str | None = None
        self.cert_client_id: str | None = None
        self.handlers = HANDLERS  # AUTH_PHASE_HANDLERS while an enhanced authentication runs
        self.limits: ConnLimits | None = None  # EMQX 4's ratelimit and quota, set at run time
        self._throttled: asyncio.TimerHandle | None = None  # past a limit: reading again then
        self.auth_method: str | None = None  # the enhanced authentication method of CONNECT
        self.pending_connect: Any = None  # the CONNECT waiting for that exchange to finish
        opts = self.options = self.context.options or broker.options  # the listener's zone
        self.reader = PacketReader(opts.max_packet_size)
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.state = NEW
        self.version = pk.MQTT_3_1_1
        self.client_id = ""
        self.username: str | None = None
        self.clean_start = True
        self.keepalive = 0
        self.session: Session | None = None
        self.will: pk.Will | None = None
        self.writable = True
        self.inflight_limit = opts.max_inflight
        self.max_packet_out = 0  # the client's Maximum Packet Size; 0 = no limit
        self.alias_max_out = 0  # the client's Topic Alias Maximum
        self.aliases_out: dict[str, int] | None = None  # made when first needed
        self.aliases_in: dict[int, str] | None = None
        self.problem_information = True
        self.peerhost = ""
        self.peerport = 0
        self.created_at = broker.clock.time()
        self.connected_at = 0.0
        self.disconnected_at = 0.0
        self.close_reason = ""
        self.last_recv = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._keepalive_timeout = 0.0
        self.recv_cnt = self.recv_oct = self.recv_pkt = self.recv_msg = 0
        self.send_cnt = self.send_oct = self.send_pkt = self.send_msg = 0
        self.send_dropped_too_large = 0
        self._out: list[bytes] = []
        self._out_size = 0
        self.held = 0  # acknowledgements waiting for the store to commit
        self.is_superuser = False  # set by an authenticator; superusers skip authorization
        self.authz_cache: dict[Any, Any] | None = None  # kept by the authorization extension
        self.waiting: asyncio.Future[Any] | None = None  # what suspend() waits for
        self.backlog: list[pk.Packet] | None = None  # packets that came in meanwhile (made by suspend)

    @property
    def listener(self) -> str:
        """The id of the listener that accepted this connection, e.g. ``ssl:default``."""
        return self.context.name

    # ---------------------------------------------------------- transport callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peerhost, self.peerport = peer[0], peer[1]
        if not self.context.opened(self):
            self.state = CLOSED
            self.close_reason = "max_connections"
            transport.close()
            return
        self.cert_username, self.cert_client_id = self.context.identity(transport)
        self.last_recv = self.loop.time()
        self._timer = self.loop.call_later(self.options.idle_timeout, self._idle_check)

    def data_received(self, data: bytes) -> None:
        if self.state == CLOSED:
            return
        size = len(data)
        self.recv_cnt += 1
        self.recv_oct += size
        self.last_recv = self.loop.time()
        counters = self.broker.counters
        counters["bytes.received"] += size
        reader = self.reader
        packets = reader.feed(data)
        broker = self.broker
        broker.batching = True
        try:
            if packets:
                self.recv_pkt += len(packets)
                counters["packets.received"] += len(packets)
                self._handle(packets)
            if reader.error is not None and self.state != CLOSED:
                self.protocol_violation(reader.error)
        finally:
            broker.batching = False
            broker.flush()

    def _handle(self, packets: list[pk.Packet]) -> None:
        try:
            for packet in packets:
                self.handlers[type(packet)](self, packet)
                if self.state == CLOSED:
                    return
        except ProtocolError as exc:
            self.protocol_violation(exc)
        except Exception:
            self._internal_error()

    def _internal_error(self) -> None:
        log.exception("internal error handling a packet from %r; closing it", self.client_id)
        self.close_with(rc.UNSPECIFIED_ERROR, "internal_error")

    def suspend(self, awaitable: Awaitable[Any], then: Callable[[Any], None]) -> None:
        """Wait for ``awaitable`` (e.g. an HTTP authenticator) without blocking the loop: stop
        reading, keep the packets already read, then call ``then(result)`` (``None`` when it
        failed) and handle them in order."""
        self.handlers = DEFERRED_HANDLERS
        self.backlog = []
        if self.transport is not None:
            self.transport.pause_reading()
        task = self.waiting = asyncio.ensure_future(awaitable)
        task.add_done_callback(lambda done: self._resume(done, then))

    def _resume(self, task: asyncio.Future[Any], then: Callable[[Any], None]) -> None:
        self.waiting = None
        if self.state == CLOSED or task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("waiting for %r failed: %r", self.client_id, exc)
        self.handlers = self._ready_handlers()
        backlog, self.backlog = self.backlog or [], None
        broker = self.broker
        broker.batching = True
        try:
            try:
                then(None if exc is not None else task.result())
            except Exception:
                self._internal_error()
            if self.state != CLOSED:
                self._handle(backlog)
        finally:
            broker.batching = False
            broker.flush()
        if self.state != CLOSED and self.transport is not None and self._throttled is None:
            self.transport.resume_reading()

    # ---------------------------------------------------------- limits

    def _ready_handlers(self) -> dict[type, Any]:
        return LIMITED_HANDLERS if self.limits is not None else HANDLERS

    def limit_with(self, limits: ConnLimits | None) -> None:
        """Set (None: remove) the connection's rate limit and quota (``core.limits``)."""
        self.limits = limits
        if self.handlers is HANDLERS or self.handlers is LIMITED_HANDLERS:
            self.handlers = self._ready_handlers()
        if limits is None and self._throttled is not None:
            self._throttled.cancel()
            self._unthrottle()

    def throttle(self, wait: float) -> None:
        """Past a limit: stop reading for ``wait`` seconds (or longer, if already paused longer)."""
        if self.transport is None or self.state == CLOSED:
            return
        until = self.loop.time() + wait
        if self._throttled is not None:
            if self._throttled.when() >= until:
                return
            self._throttled.cancel()
        else:
            self.transport.pause_reading()
        self._throttled = self.loop.call_at(until, self._unthrottle)

    def _unthrottle(self) -> None:
        self._throttled = None
        if self.state != CLOSED and self.waiting is None and self.transport is not None:
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.close("sock_closed")

    def pause_writing(self) -> None:
        self.writable = False
        if self.broker.congestion_sustain is not None and self.state == CONNECTED:
            self.broker.congested(self, True)

    def resume_writing(self) -> None:
        self.writable = True
        if self.broker.congestion_sustain is not None and self.state == CONNECTED:
            self.broker.congested(self, False)
        if self.session is not None and self.state == CONNECTED:
            self.session.drain()

    # ---------------------------------------------------------- closing

    def protocol_violation(self, exc: ProtocolError) -> None:
        log.debug("closing %s:%s (%r): %s", self.peerhost, self.peerport, self.client_id, exc.message)
        if self.state == NEW and isinstance(exc, UnsupportedProtocolVersion):
            version = pk.MQTT_5 if exc.level == pk.MQTT_5 else pk.MQTT_3_1_1
            self.send(pk.Connack(False, rc.connack_code(rc.UNSUPPORTED_PROTOCOL_VERSION, version)), version)
            self.broker.counters["packets.connack.error"] += 1
            self.close("protocol_error")
            return
        self.close_with(exc.reason_code, _CLOSE_REASONS.get(exc.reason_code, "protocol_error"), exc.message)

    def close_with(self, reason_code: int, reason: str, reason_string: str = "") -> None:
        """Close from the server side; a v5 client hears why first [MQTT-4.13.1-1]."""
        if self.state == CONNECTED and self.version == pk.MQTT_5:
            props = {"reason_string": reason_string} if reason_string and self.problem_information else {}
            self.send(pk.Disconnect(reason_code, props))
        self.close(reason)

    def evict(self, reason: str) -> None:
        self.close_with(_EVICT_CODES.get(reason, rc.ADMINISTRATIVE_ACTION), reason)

    def close(self, reason: str, publish_will: bool = True) -> None:
        """Tear down once: detach the session (will, expiry) and close the transport."""
        if self.state == CLOSED:
            return
        was_connected = self.state == CONNECTED
        self.state = CLOSED
        if self.waiting is not None:
            self.waiting.cancel()
        self.close_reason = reason
        self.disconnected_at = self.broker.clock.time()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._throttled is not None:
            self._throttled.cancel()
            self._throttled = None
        broker = self.broker
        if was_connected and self.session is not None:
            broker.client_disconnected()
            broker.counters["client.disconnected"] += 1
            broker.hooks.notify(broker.hooks.listeners("client.disconnected"), self, reason)
            broker.connection_closed(self, self.will if publish_will else None)
        self.will = None
        if not self.writable and was_connected and broker.congestion_sustain is not None:
            broker.congested(self, False)  # its congestion alarm ends with it
        self.context.closed(self, reason)
        if self.transport is not None:
            self.flush()
            self.transport.close()

    # ---------------------------------------------------------- keepalive

    def start_keepalive(self, keepalive: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if keepalive:
            self._keepalive_timeout = keepalive * self.options.keepalive_multiplier
            self._timer = self.loop.call_later(self._keepalive_timeout, self._keepalive_check)

    def _keepalive_check(self) -> None:
        idle = self.loop.time() - self.last_recv
        if idle >= self._keepalive_timeout:
            self.close_with(rc.KEEP_ALIVE_TIMEOUT, "keepalive_timeout")  # [MQTT-3.1.2-22]
        else:
            self._timer = self.loop.call_later(self._keepalive_timeout - idle, self._keepalive_check)

    def _idle_check(self) -> None:
        if self.state in (NEW, AUTHENTICATING):  # no CONNECT, or an authentication that never ends
            self.close("idle_timeout")

    def enter_auth_phase(self) -> None:
        """An enhanced authentication exchange runs: only AUTH and DISCONNECT may come."""
        self.state = AUTHENTICATING
        self.handlers = AUTH_PHASE_HANDLERS

    def leave_auth_phase(self) -> None:
        self.handlers = self._ready_handlers()

    # ---------------------------------------------------------- sending

    def write(self, data: bytes) -> None:
        """Send one packet: gathered while the broker handles a batch, else written at once."""
        if self.state == CLOSED:
            return
        size = len(data)
        if not self._out:
            self._out.append(data)
            self._out_size = size
            if self.broker.batching:
                self.broker.dirty.append(self)
                return
        else:
            self._out.append(data)
            self._out_size += size
            if self._out_size < _FLUSH_AT:
                return
        self.flush()

    def flush(self) -> None:
        out = self._out
        if not out:
            return
        self._out = []
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        transport.write(data)
        self.send_cnt += 1
        self.send_pkt += len(out)
        self.send_oct += len(data)
        counters = self.broker.counters
        counters["packets.sent"] += len(out)
        counters["bytes.sent"] += len(data)

    def send(self, packet: pk.Packet, version: int = 0) -> None:
        data = encode(packet, version or self.version)
        if self.max_packet_out and len(data) > self.max_packet_out:
            data = self._trimmed(packet, version or self.version)
            if not data:
                return
        self.write(data)
        metric = _SENT_METRIC.get(type(packet))
        if metric is not None:
            self.broker.counters[metric] += 1

    def _trimmed(self, packet: pk.Packet, version: int) -> bytes:
        """``packet`` without its reason string and user properties, if that fits the client's
        Maximum Packet Size [MQTT-3.1.2-25]; else nothing: it is not sent [MQTT-3.1.2-24]."""
        props = getattr(packet, "properties", None)
        if props:
            kept = {k: v for k, v in props.items() if k not in ("reason_string", "user_property")}
            data = encode(dataclasses.replace(packet, properties=kept), version)  # type: ignore[arg-type]
            if len(data) <= self.max_packet_out:
                return data
        log.debug("not sent to %r: a %s over its maximum packet size", self.client_id, type(packet).__name__)
        return b""

    def ack(self, ack: pk.Packet | bytes, mark: int) -> None:
        """Send a PUBACK, PUBREC, PUBREL or PUBCOMP; it waits for the store to commit when the broker
        recorded a change since ``mark`` (or an earlier ack still waits: acks keep their order
        [MQTT-4.6.0-2])."""
        store = self.broker.store
        if self.held or (store is not None and store.writes != mark and self.broker.hold_acks):
            self.hold(partial(self._send_ack, ack))
        else:
            self._send_ack(ack)

    def hold(self, send: Callable[[], None]) -> None:
        """Call ``send`` once the store has committed everything recorded so far, after
        whatever this connection already holds."""
        store = self.broker.store
        assert store is not None
        self.held += 1
        store.after_commit(partial(self._release, send))

    def _release(self, send: Callable[[], None]) -> None:
        self.held -= 1
        send()

    def _send_ack(self, ack: pk.Packet | bytes) -> None:
        if isinstance(ack, bytes):
            self.write(ack)
        else:
            self.send(ack)

    def send_pubrel(self, packet_id: int) -> None:
        self.send(pk.Pubrel(packet_id))

    def send_publish(
        self,
        message: Message,
        qos: int,
        retain: bool,
        sub_ids: tuple[int, ...],
        packet_id: int,
        dup: bool = False,
    ) -> bool:
        """Write one PUBLISH; the encoded form is shared by every subscriber with the same one."""
        version = self.version
        try:
            if self.mountpoint:
                data = self._encode_mounted(message, qos, retain, sub_ids)
            elif version == pk.MQTT_5:
                data = self._encode_v5(message, qos, retain, sub_ids)
            else:
                key = qos * 2 + retain  # the wire form: an int, so the check allocates nothing
                if message.wire_key == key:
                    data = message.wire_bytes
                else:
                    data = encode_publish(
                        message.topic, message.payload, qos, retain, False, 1, None, version
                    )
                    message.wire_key = key
                    message.wire_bytes = data
        except UnicodeEncodeError:
            # Text no codec can write (a lone surrogate that got past an edge): the message is
            # dropped for this subscriber, who did nothing wrong and stays connected.
            log.warning("dropped a message to %r: its text is not valid UTF-8", self.client_id)
            self.broker.drop(self.client_id, message, "bad_text")
            return False
        if qos:
            data = _with_packet_id(data, packet_id, dup)
        if self.max_packet_out and len(data) > self.max_packet_out:
            # Never send a client more than it allows [MQTT-3.1.2-24]: drop and count.
            self.send_dropped_too_large += 1
            self.broker.drop(self.client_id, message, "too_large")
            return False
        self.write(data)
        self.send_msg += 1
        broker = self.broker
        counters = broker.counters
        counters["packets.publish.sent"] += 1
        counters["messages.sent"] += 1
        counters[QOS_SENT[qos]] += 1
        if broker.on_delivered:
            Hooks.notify(broker.on_delivered, self.client_id, message)
        return True

    def _encode_mounted(self, message: Message, qos: int, retain: bool, sub_ids: tuple[int, ...]) -> bytes:
        """A client behind a mountpoint sees topics without it: encoded for this client alone."""
        topic = message.topic[len(self.mountpoint) :]
        props = None
        if self.version == pk.MQTT_5:
            props = dict(message.properties) if message.properties else {}
            if message.expires_at:
                remaining = math.ceil(message.expires_at - self.broker.clock.time())
                props["message_expiry_interval"] = max(1, remaining)
            if sub_ids:
                props["subscription_identifier"] = list(sub_ids)
        return encode_publish(topic, message.payload, qos, retain, False, 1, props, self.version)

    def _encode_v5(self, message: Message, qos: int, retain: bool, sub_ids: tuple[int, ...]) -> bytes:
        props = message.properties
        expiry = 0
        if message.expires_at:
            # The interval counts down while the message waits [MQTT-3.3.2-6].
            expiry = max(1, math.ceil(message.expires_at - self.broker.clock.time()))
        topic = message.topic
        alias = 0
        if self.alias_max_out:
            aliases = self.aliases_out
            if aliases is None:
                aliases = self.aliases_out = {}
            alias = aliases.get(topic, 0)
            if alias:
                topic = ""
            elif len(aliases) < self.alias_max_out:
                alias = aliases[topic] = len(aliases) + 1
        if not (expiry or sub_ids or alias):
            key = 8 + qos * 2 + retain
            if message.wire_key == key:
                return message.wire_bytes
            data = encode_publish(topic, message.payload, qos, retain, False, 1, props, 5)
            message.wire_key = key
            message.wire_bytes = data
            return data
        out = dict(props) if props else {}
        if expiry:
            out["message_expiry_interval"] = expiry
        if sub_ids:
            out["subscription_identifier"] = list(sub_ids)
        if alias:
            out["topic_alias"] = alias
        return encode_publish(topic, message.payload, qos, retain, False, 1, out, 5)

    # ---------------------------------------------------------- small packet handlers

    def client_info(self) -> dict[str, Any]:
        """Per-client figures with EMQX's field names."""
        return {
            "clientid": self.client_id,
            "username": self.username,
            "node": self.broker.node_name,
            "ip_address": self.peerhost,
            "port": self.peerport,
            "listener": self.listener,
            "zone": self.context.zone,
            "proto_name": "MQIsdp" if self.version == pk.MQTT_3_1 else "MQTT",
            "proto_ver": self.version,
            "clean_start": self.clean_start,
            "keepalive": self.keepalive,
            "connected": self.state == CONNECTED,
            "connected_at": self.connected_at,
            "created_at": self.created_at,
            "recv_cnt": self.recv_cnt,
            "recv_oct": self.recv_oct,
            "recv_pkt": self.recv_pkt,
            "recv_msg": self.recv_msg,
            "send_cnt": self.send_cnt,
            "send_oct": self.send_oct,
            "send_pkt": self.send_pkt,
            "send_msg": self.send_msg,
            "send_msg.dropped.too_large": self.send_dropped_too_large,
        }


def _with_packet_id(template: bytes, packet_id: int, dup: bool) -> bytes:
    """The encoded QoS > 0 PUBLISH ``template`` with its packet id (and DUP flag) set."""
    offset = packet_id_offset(template)
    head = template[:offset]
    if dup:
        head = bytes((head[0] | 0x08,)) + head[1:]
    return head + packet_id.to_bytes(2, "big") + template[offset + 2 :]


def _pingreq(conn: Connection, packet: pk.Pingreq) -> None:
    conn.broker.counters["packets.pingreq.received"] += 1
    conn.write(b"\xd0\x00")
    conn.broker.counters["packets.pingresp.sent"] += 1


def _disconnect(conn: Connection, packet: pk.Disconnect) -> None:
    conn.broker.counters["packets.disconnect.received"] += 1
    session = conn.session
    expiry = packet.properties.get("session_expiry_interval")
    if expiry is not None and session is not None:
        if session.expiry_interval == 0 and expiry != 0:
            raise protocol_error("session expiry changed from 0 on DISCONNECT")  # [MQTT-3.14.2-2]
        session.expiry_interval = expiry
    # A normal DISCONNECT discards the will [MQTT-3.14.4-3]; 0x04 asks for it.
    conn.close("normal", publish_will=packet.reason_code == rc.DISCONNECT_WITH_WILL)


def _server_only(conn: Connection, packet: pk.Packet) -> None:
    raise protocol_error(f"{type(packet).__name__} may only be sent by a server")


HANDLERS: dict[type, Any] = {
    pk.Connect: connect_flow.handle_connect,
    pk.Publish: publish_flow.handle_publish,
    pk.Puback: publish_flow.handle_puback,
    pk.Pubrec: publish_flow.handle_pubrec,
    pk.Pubrel: publish_flow.handle_pubrel,
    pk.Pubcomp: publish_flow.handle_pubcomp,
    pk.Subscribe: subscribe_flow.handle_subscribe,
    pk.Unsubscribe: subscribe_flow.handle_unsubscribe,
    pk.Pingreq: _pingreq,
    pk.Disconnect: _disconnect,
    pk.Auth: connect_flow.handle_auth,
    pk.Connack: _server_only,
    pk.Suback: _server_only,
    pk.Unsuback: _server_only,
    pk.Pingresp: _server_only,
}


def _defer(conn: Connection, packet: pk.Packet) -> None:
    assert conn.backlog is not None  # suspend() made it
    conn.backlog.append(packet)


# While the connection waits (suspend), what comes in is kept for later.
DEFERRED_HANDLERS: dict[type, Any] = dict.fromkeys(HANDLERS, _defer)
LIMITED_HANDLERS: dict[type, Any] = {**HANDLERS, pk.Publish: limits.limited_publish}


def _not_while_authenticating(conn: Connection, packet: pk.Packet) -> None:
    raise protocol_error(f"{type(packet).__name__} before the authentication exchange finished")


AUTH_PHASE_HANDLERS: dict[type, Any] = {
    kind: (handler if kind in (pk.Auth, pk.Disconnect) else _not_while_authenticating)
    for kind, handler in HANDLERS.items()
}
