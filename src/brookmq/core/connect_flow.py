"""CONNECT: client identity, will, limits, session start or resume, CONNACK."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, NamedTuple

from brookmq.core.hooks import Hooks
from brookmq.core.listener import mount
from brookmq.core.states import AUTHENTICATING, CONNECTED, NEW
from brookmq.mqtt import packets as pk
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.errors import ProtocolError, protocol_error
from brookmq.mqtt.topics import has_wildcard, topic_name_problem

if TYPE_CHECKING:
    from brookmq.core.connection import Connection


def handle_connect(conn: Connection, packet: pk.Connect) -> None:
    if conn.state != NEW:
        raise protocol_error("second CONNECT on a connection")  # [MQTT-3.1.0-2]
    broker = conn.broker
    opts = conn.options
    counters = broker.counters
    hooks = broker.hooks
    counters["packets.connect.received"] += 1
    counters["client.connect"] += 1
    version = conn.version = packet.protocol_level
    props = packet.properties
    fns = hooks.listeners("client.connect")
    if fns:
        props = Hooks.fold(fns, props, conn)
    conn.username = conn.cert_username or packet.username  # peer_cert_as_username wins
    conn.clean_start = packet.clean_start

    client_id = conn.cert_client_id or packet.client_id
    assigned = False
    if not client_id:
        # v5 always, v3.1.1 only with clean session, may leave the id to the server [MQTT-3.1.3-6/8].
        if version == pk.MQTT_5 or (version == pk.MQTT_3_1_1 and packet.clean_start):
            client_id = broker.new_client_id()
            assigned = True
        else:
            _refuse(conn, rc.CLIENT_IDENTIFIER_NOT_VALID, "empty client id needs clean start")
            return
    if len(client_id) > opts.max_clientid_len:
        _refuse(conn, rc.CLIENT_IDENTIFIER_NOT_VALID, "client id is too long")
        return
    conn.client_id = client_id
    if broker.is_banned is not None and broker.is_banned(conn):
        _refuse(conn, rc.BANNED, "banned")  # before authentication, like EMQX
        return

    will = packet.will
    if will is not None:
        problem = topic_name_problem(will.topic, opts.max_topic_levels)
        if problem:
            _refuse(conn, rc.TOPIC_NAME_INVALID, f"will topic: {problem}")
            return
        if will.qos > opts.max_qos_allowed:
            _refuse(conn, rc.QOS_NOT_SUPPORTED, "will QoS is above the maximum")  # [MQTT-3.2.2-12]
            return
        if will.retain and not opts.retain_available:
            _refuse(conn, rc.RETAIN_NOT_SUPPORTED, "retain is not available")  # [MQTT-3.2.2-13]
            return
        if has_wildcard(will.properties.get("response_topic", "")):
            _refuse(conn, rc.PROTOCOL_ERROR, "will response topic contains a wildcard")  # [MQTT-3.3.2-14]
            return
    if conn.context.mountpoint:
        conn.mountpoint = mount(conn.context.mountpoint, client_id, conn.username)
        if will is not None:
            will.topic = conn.mountpoint + will.topic

    if version == pk.MQTT_5:
        conn.inflight_limit = min(opts.max_inflight, props.get("receive_maximum", 65535))
        conn.max_packet_out = props.get("maximum_packet_size", 0)
        conn.alias_max_out = props.get("topic_alias_maximum", 0)
        conn.problem_information = props.get("request_problem_information", 1) == 1
        expiry = props.get("session_expiry_interval", 0)
    else:
        expiry = 0 if packet.clean_start else opts.session_expiry_interval
    pending = _PendingConnect(packet, client_id, assigned, expiry, will)

    counters["client.authenticate"] += 1
    if version == pk.MQTT_5 and "authentication_method" in props:
        # Enhanced authentication [MQTT-4.12]: the exchange decides instead of the password check.
        conn.auth_method = props["authentication_method"]
        conn.pending_connect = pending
        _enhanced_step(conn, props.get("authentication_data"))
        return
    verdict = Hooks.decide(hooks.listeners("client.authenticate"), conn, packet.password)
    if inspect.isawaitable(verdict):  # e.g. an HTTP authenticator: read nothing more until it answers
        # What it answers, or None when it failed: only a definite True lets the client in.
        conn.suspend(verdict, lambda result: _authenticated(conn, pending, result or False))
        return
    _authenticated(conn, pending, verdict)


def _authenticated(conn: Connection, pending: _PendingConnect, verdict: object) -> None:
    """The password check's verdict: True accepts; None (no authenticator had one) is an
    anonymous login; False refuses as bad credentials (0x86, v3 0x04); a reason code refuses
    with it (e.g. 0x87 not authorized, v3 0x05)."""
    counters = conn.broker.counters
    completed = conn.broker.hooks.listeners("client.check_authn_complete")
    if verdict is not True and verdict is not None:
        counters["authentication.failure"] += 1
        counters["packets.connack.auth_error"] += 1
        code = (
            verdict
            if isinstance(verdict, int) and not isinstance(verdict, bool)
            else rc.BAD_USERNAME_OR_PASSWORD
        )
        if completed:
            Hooks.notify(completed, conn, {"reason_code": code, "is_superuser": False, "is_anonymous": False})
        _refuse(conn, code, "not authenticated" if code == rc.BAD_USERNAME_OR_PASSWORD else "not authorized")
        return
    if completed:
        result = {
            "reason_code": rc.SUCCESS,
            "is_superuser": conn.is_superuser,
            "is_anonymous": verdict is None,
        }
        Hooks.notify(completed, conn, result)
    if verdict is None:
        counters["client.auth.anonymous"] += 1
        counters["authentication.success.anonymous"] += 1
    counters["authentication.success"] += 1
    _accept(conn, pending, {})


class _PendingConnect(NamedTuple):
    packet: pk.Connect
    client_id: str
    assigned: bool
    expiry: float
    will: pk.Will | None


def _accept(conn: Connection, pending: _PendingConnect, auth_props: dict[str, object]) -> None:
    """CONNECT is accepted: open or resume the session, CONNACK, start keepalive, resend."""
    broker = conn.broker
    counters = broker.counters
    hooks = broker.hooks
    packet, version = pending.packet, conn.version
    keepalive = packet.keepalive
    opts = conn.options
    if version == pk.MQTT_5 and opts.server_keepalive:
        keepalive = opts.server_keepalive  # [MQTT-3.2.2-21]
    elif opts.max_keepalive and not 0 < keepalive <= opts.max_keepalive:
        keepalive = opts.max_keepalive  # Mosquitto's max_keepalive: v5 clients are told, below
    conn.keepalive = keepalive

    session, present = broker.open_session(
        conn, pending.client_id, packet.clean_start, pending.expiry, pending.will
    )
    conn.session = session
    conn.will = pending.will
    conn.pending_connect = None
    conn.leave_auth_phase()
    conn.state = CONNECTED
    conn.connected_at = broker.clock.time()

    ack_props: dict[str, object] = {}
    if version == pk.MQTT_5:
        ack_props = {
            **_connack_properties(conn, pending.assigned, keepalive != packet.keepalive),
            **auth_props,
        }
    # Session Present is 0 on a clean start and for MQTT 3.1, which has no such flag [MQTT-3.2.2-1/2].
    conn.send(pk.Connack(present and version >= pk.MQTT_3_1_1, rc.SUCCESS, ack_props))
    counters["client.connack"] += 1
    Hooks.notify(hooks.listeners("client.connack"), conn, rc.SUCCESS)
    broker.client_connected()
    counters["client.connected"] += 1
    Hooks.notify(hooks.listeners("client.connected"), conn)
    conn.start_keepalive(keepalive)
    session.resume(conn)


def handle_auth(conn: Connection, packet: pk.Auth) -> None:
    """AUTH: the next step of an enhanced authentication, or a re-authentication [MQTT-4.12]."""
    conn.broker.counters["packets.auth.received"] += 1
    if conn.auth_method is None:
        raise ProtocolError(rc.BAD_AUTHENTICATION_METHOD, "enhanced authentication is not in use")
    props = packet.properties
    if props.get("authentication_method") != conn.auth_method:
        raise protocol_error("AUTH with another authentication method")  # [MQTT-4.12.0-5]
    allowed = (
        (rc.CONTINUE_AUTHENTICATION,)
        if conn.state == AUTHENTICATING
        else (rc.CONTINUE_AUTHENTICATION, rc.RE_AUTHENTICATE)
    )
    if packet.reason_code not in allowed:
        raise protocol_error(f"AUTH with reason code {packet.reason_code:#x} here")
    _enhanced_step(conn, props.get("authentication_data"))


def _enhanced_step(conn: Connection, data: bytes | None) -> None:
    """Ask the enhanced-authentication hooks; continue, accept or refuse."""
    broker = conn.broker
    counters = broker.counters
    method = conn.auth_method
    verdict = Hooks.decide(broker.hooks.listeners("client.enhanced_authenticate"), conn, method, data)
    connecting = conn.state != CONNECTED
    if verdict is None:
        if connecting:
            _refuse(conn, rc.BAD_AUTHENTICATION_METHOD, f"no authenticator for {method!r}")
        else:
            conn.close_with(rc.BAD_AUTHENTICATION_METHOD, "not_authorized")
        return
    code, reply = verdict
    auth_props: dict[str, object] = {"authentication_method": method}
    if reply:
        auth_props["authentication_data"] = reply
    if code == rc.CONTINUE_AUTHENTICATION:
        if connecting:
            conn.enter_auth_phase()
        conn.send(pk.Auth(rc.CONTINUE_AUTHENTICATION, auth_props))
    elif code == rc.SUCCESS:
        counters["authentication.success"] += 1
        if connecting:
            assert conn.pending_connect is not None
            _accept(conn, conn.pending_connect, auth_props)
        else:
            conn.send(pk.Auth(rc.SUCCESS, auth_props))
    else:
        counters["authentication.failure"] += 1
        if connecting:
            counters["packets.connack.auth_error"] += 1
            _refuse(conn, code, "authentication failed")
        else:
            conn.close_with(code, "not_authorized")


def _connack_properties(conn: Connection, assigned: bool, server_keepalive: bool) -> dict[str, object]:
    opts = conn.options
    props: dict[str, object] = {
        "receive_maximum": opts.max_awaiting_rel,
        "maximum_packet_size": opts.max_packet_size,
        "topic_alias_maximum": opts.max_topic_alias,
    }
    if opts.max_qos_allowed < 2:
        props["maximum_qos"] = opts.max_qos_allowed
    if not opts.retain_available:
        props["retain_available"] = 0
    if not opts.wildcard_subscription:
        props["wildcard_subscription_available"] = 0
    if not opts.shared_subscription:
        props["shared_subscription_available"] = 0
    if assigned:
        props["assigned_client_identifier"] = conn.client_id  # [MQTT-3.2.2-16]
    if server_keepalive:
        props["server_keep_alive"] = conn.keepalive
    if not opts.max_topic_alias:
        del props["topic_alias_maximum"]
    return props


def _refuse(conn: Connection, reason_code: int, reason: str) -> None:
    """CONNACK with an error code, then close; no session, so no will [MQTT-3.2.2-6]."""
    version = conn.version
    props = {"reason_string": reason} if version == pk.MQTT_5 else {}
    conn.send(pk.Connack(False, rc.connack_code(reason_code, version), props))
    counters = conn.broker.counters
    counters["packets.connack.error"] += 1
    Hooks.notify(conn.broker.hooks.listeners("client.connack"), conn, reason_code)
    conn.close("refused")
