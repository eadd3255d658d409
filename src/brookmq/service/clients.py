"""Clients: their sessions, connected or not, as the management API shows and changes them.

Clients are listed in the order their sessions were made (a stable order, so concatenated pages
equal the whole list; EMQX sorts by client id instead). The in-process clients (``$SYS``, the
HTTP publisher) are not listed. Times are epoch seconds here; each dialect formats them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from brookmq.core import authz_cache
from brookmq.core.broker import Broker
from brookmq.core.client import LocalClient
from brookmq.core.limits import Bucket, set_limits
from brookmq.core.session import Session, Subscription
from brookmq.core.states import CONNECTED
from brookmq.core.subscribe_flow import check_filter, mounted
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.packets import SubscriptionOptions
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.paging import Page, page_of

CONN_STATES = ("connected", "idle", "disconnected")


@dataclass(slots=True)
class ClientQuery:
    """Filters of a client listing: OR within a repeated key, AND between keys. ``like_*`` are
    substrings, ignored when the exact key of the same field is given."""

    clientid: list[str] = field(default_factory=list)
    username: list[str] = field(default_factory=list)
    ip_address: str | None = None
    conn_state: str | None = None
    clean_start: bool | None = None
    proto_ver: int | None = None
    like_clientid: str | None = None
    like_username: str | None = None
    gte_created_at: float | None = None
    lte_created_at: float | None = None
    gte_connected_at: float | None = None
    lte_connected_at: float | None = None
    proto_name: str | None = None  # "MQTT", or "MQIsdp" for 3.1
    zone: str | None = None  # the zone of the listener the client came in by
    gte_mqueue_len: int | None = None
    lte_mqueue_len: int | None = None
    gte_mqueue_dropped: int | None = None
    lte_mqueue_dropped: int | None = None

    @property
    def fuzzy(self) -> bool:
        return (self.like_clientid is not None and not self.clientid) or (
            self.like_username is not None and not self.username
        )

    def tests(self) -> list[Callable[[Client], bool]]:
        """One test per filter, on the attributes the client object is made from: a filter
        never builds the whole object of a client it then leaves out."""
        out: list[Callable[[Client], bool]] = []
        if self.username:
            names = set(self.username)
            out.append(lambda c: getattr(c.who, "username", None) in names)
        elif self.like_username is not None:
            part = self.like_username
            out.append(lambda c: part in (getattr(c.who, "username", None) or ""))
        if self.like_clientid is not None and not self.clientid:
            part_id = self.like_clientid
            out.append(lambda c: part_id in c.session.client_id)
        if self.ip_address is not None:
            ip = self.ip_address
            out.append(lambda c: getattr(c.who, "peerhost", None) == ip)
        if self.conn_state is not None:
            state = self.conn_state
            out.append(lambda c: c.conn_state == state)
        if self.clean_start is not None:
            clean = self.clean_start
            out.append(lambda c: getattr(c.who, "clean_start", False) == clean)
        if self.proto_ver is not None:
            ver = self.proto_ver
            out.append(lambda c: getattr(c.who, "version", None) == ver)
        if self.zone is not None:
            zone = self.zone
            out.append(lambda c: getattr(getattr(c.who, "context", None), "zone", "default") == zone)
        if self.proto_name is not None:
            name = self.proto_name
            out.append(lambda c: ("MQIsdp" if getattr(c.who, "version", None) == 3 else "MQTT") == name)
        if self.gte_mqueue_len is not None or self.lte_mqueue_len is not None:
            out.append(_in_range(lambda c: len(c.session.mqueue), self.gte_mqueue_len, self.lte_mqueue_len))
        if self.gte_mqueue_dropped is not None or self.lte_mqueue_dropped is not None:
            out.append(
                _in_range(
                    lambda c: c.session.mqueue_dropped, self.gte_mqueue_dropped, self.lte_mqueue_dropped
                )
            )
        if self.gte_created_at is not None or self.lte_created_at is not None:
            out.append(_in_range(lambda c: c.session.created_at, self.gte_created_at, self.lte_created_at))
        if self.gte_connected_at is not None or self.lte_connected_at is not None:
            out.append(
                _in_range(
                    lambda c: getattr(c.who, "connected_at", None),
                    self.gte_connected_at,
                    self.lte_connected_at,
                )
            )
        return out


def _in_range(
    value_of: Callable[[Client], float | None], low: float | None, high: float | None
) -> Callable[[Client], bool]:
    def test(c: Client) -> bool:
        value = value_of(c)
        return value is not None and (low is None or value >= low) and (high is None or value <= high)

    return test


class Client:
    """A session and whoever has, or last had, it: the connection, the closed connection, or
    after a restart the owner the store remembered (a WillOwner)."""

    __slots__ = ("_info", "session", "who")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.who: Any = session.connection or session.last_client
        self._info: dict[str, Any] | None = None

    @property
    def conn_state(self) -> str:
        conn = self.session.connection
        return (
            "connected" if conn is not None and getattr(conn, "state", None) == CONNECTED else "disconnected"
        )

    @property
    def info(self) -> dict[str, Any]:
        """EMQX 5's client object (times in epoch seconds, None when unknown)."""
        if self._info is None:
            self._info = self._make_info()
        return self._info

    def _make_info(self) -> dict[str, Any]:
        session = self.session
        who = self.who
        if hasattr(who, "client_info"):
            info = who.client_info()
        else:  # a session restored from the store: only its owner's name and address are known
            info = {
                "clientid": session.client_id,
                "username": getattr(who, "username", None),
                "node": session.broker.node_name,
                "ip_address": getattr(who, "peerhost", None) or None,
                "port": None,
                "listener": None,
                "zone": "default",
                "proto_name": "MQTT",
                "proto_ver": None,
                "clean_start": False,
                "keepalive": None,
                "connected": False,
                "connected_at": None,
            }
        connected = self.conn_state == "connected"
        info["connected"] = connected
        info["peerport"] = info["port"]
        if not connected:
            info["disconnected_at"] = getattr(who, "disconnected_at", None) or None
        info.update(session.info())
        info["is_persistent"] = bool(session.expiry_interval)
        info["is_bridge"] = False
        info["durable"] = False
        info["is_expired"] = False
        info["enable_authn"] = True
        info["mountpoint"] = getattr(who, "mountpoint", "") or None
        will = getattr(who, "will", None)
        info["will_topic"] = will.topic if will is not None else None  # EMQX 3's, as the rest below
        info["is_superuser"] = bool(getattr(who, "is_superuser", False))
        info["client_attrs"] = {}
        return info


class Clients:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    # ---------------------------------------------------------- reading

    def listed(self) -> Iterator[Session]:
        internal = self._internal()
        sessions = self.broker.sessions.values()
        if not internal:
            return iter(sessions)
        return (s for s in sessions if s not in internal)

    def _internal(self) -> set[Session]:
        sessions = self.broker.sessions
        found = (sessions.get(c.client_id) for c in self.broker.local_clients)
        return {s for s in found if s is not None and isinstance(s.connection, LocalClient)}

    def count(self) -> int:
        return len(self.broker.sessions) - len(self._internal())

    def count_since(self, since: float) -> int:
        """Sessions made at or after ``since`` (epoch seconds)."""
        return sum(1 for s in self.listed() if s.created_at >= since)

    def find(self, query: ClientQuery, page: int, limit: int) -> Page:
        """A page of client objects; ``count`` only without fuzzy filters."""
        sessions = self.broker.sessions
        internal = self._internal()
        tests = query.tests()
        if query.clientid:
            wanted = dict.fromkeys(query.clientid)
            candidates: Iterator[Session] = (
                sessions[c] for c in wanted if c in sessions and sessions[c] not in internal
            )
        elif not tests:
            return page_of((Client(s).info for s in self.listed()), page, limit, self.count())
        else:
            candidates = self.listed()
        matching = (c for c in map(Client, candidates) if all(test(c) for test in tests))
        if query.fuzzy:
            return page_of((c.info for c in matching), page, limit)
        rows = [c.info for c in matching]
        return page_of(iter(rows), page, limit, len(rows))

    def session(self, client_id: str) -> Session:
        session = self.broker.sessions.get(client_id)
        if session is None or isinstance(session.connection, LocalClient):
            raise NotFound("Client ID not found", "client")
        return session

    def get(self, client_id: str) -> dict[str, Any]:
        return Client(self.session(client_id)).info

    def subscriptions(self, client_id: str) -> list[dict[str, Any]]:
        session = self.session(client_id)
        return [subscription_info(self.broker, session, sub) for sub in session.subscriptions.values()]

    def authz_cache(self, client_id: str) -> list[dict[str, Any]]:
        conn = self._connection(client_id)
        broker = self.broker
        return authz_cache.entries(conn, broker.clock.time(), broker.authz_cache)

    def _connection(self, client_id: str) -> Any:
        session = self.session(client_id)
        if session.connection is None:
            raise NotFound("Client ID not found", "client")
        return session.connection

    # ---------------------------------------------------------- changing

    def kick(self, client_id: str) -> None:
        """Disconnect the client (v5: DISCONNECT 0x98) and discard its session."""
        session = self.session(client_id)
        if session.connection is not None:
            session.connection.evict("kicked")
        self.broker.terminate(session, "kicked")

    def kick_many(self, client_ids: list[str]) -> None:
        """Kick each; ids that are not (listed) clients are skipped."""
        for client_id in client_ids:
            with contextlib.suppress(NotFound):
                self.kick(client_id)

    def set_limits(self, client_id: str, **limits: tuple[float, float] | None) -> None:
        """EMQX 4's ratelimit and quota of a connected client: ``bytes_in``, ``messages_in``,
        ``messages_routing`` as ``(limit, period in seconds)``, or None to remove one."""
        conn = self._connection(client_id)
        now = conn.loop.time()
        try:
            buckets = {name: None if spec is None else Bucket(*spec, now) for name, spec in limits.items()}
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        set_limits(conn, **buckets)

    def clean_authz_cache(self, client_id: str, topic: str | None = None) -> None:
        """All the connected client's cached verdicts, or those for ``topic``."""
        conn = self._connection(client_id)
        if topic is None:
            conn.authz_cache = None
        else:
            authz_cache.forget(conn, topic)

    def set_keepalive(self, client_id: str, interval: int) -> dict[str, Any]:
        if not 0 <= interval <= 65535:
            raise Invalid("must be 0..65535", "interval")
        conn = self._connection(client_id)
        conn.keepalive = interval
        conn.start_keepalive(interval)
        return self.get(client_id)

    def subscribe(
        self, client_id: str, topic: str, qos: int = 0, nl: int = 0, rap: int = 0, rh: int = 0
    ) -> dict[str, Any]:
        """Subscribe on the client's behalf, as if it had sent SUBSCRIBE (mountpoint included)."""
        session = self.session(client_id)
        for name, value, top in (("qos", qos, 2), ("nl", nl, 1), ("rap", rap, 1), ("rh", rh, 2)):
            if not 0 <= value <= top:
                raise Invalid(f"must be 0..{top}", name)
        code, real, group = check_filter(session.options, topic)
        if code == rc.TOPIC_FILTER_INVALID:
            raise Invalid("not a valid topic filter", "topic")
        if code != rc.SUCCESS:
            raise Invalid("shared or wildcard subscriptions are disabled", "topic")
        if group is not None and nl:
            raise Invalid(
                "Invalid Subscribe options: `no_local` not allowed for shared-sub. See [MQTT-3.8.3-4]"
            )
        stored = topic
        mountpoint = getattr(session.connection or session.last_client, "mountpoint", "")
        if mountpoint:
            stored, real = mounted(mountpoint, real, group)
        existed = stored in session.subscriptions
        options = SubscriptionOptions(qos, bool(nl), bool(rap), rh)
        sub = self.broker.subscribe(session, stored, real, group, options)
        self.broker.deliver_retained(session, sub, existed)
        return {
            "clientid": client_id,
            "topic": topic,
            "qos": qos,
            "nl": nl,
            "rap": rap,
            "rh": rh,
            "node": self.broker.node_name,
        }

    def unsubscribe(self, client_id: str, topic: str) -> None:
        session = self.session(client_id)
        code, real, group = check_filter(session.options, topic)
        mountpoint = getattr(session.connection or session.last_client, "mountpoint", "")
        if code == rc.SUCCESS and mountpoint:
            topic = mounted(mountpoint, real, group)[0]
        self.broker.unsubscribe(session, topic)

    # ---------------------------------------------------------- queues

    def queued(self, client_id: str, which: str, position: str | None, limit: int) -> Chunk:
        """A chunk of the client's ``mqueue`` or ``inflight`` messages after ``position``."""
        session = self.session(client_id)
        deliveries = list(session.mqueue) if which == "mqueue" else list(session.inflight.values())
        return _chunk(deliveries, which == "mqueue", position, limit)


@dataclass(frozen=True, slots=True)
class Queued:
    message: Any
    qos: int
    position: str
    inserted_ns: int


@dataclass(frozen=True, slots=True)
class Chunk:
    items: list[Queued]
    start: str
    position: str


def _positions(deliveries: list[Any], mqueue: bool) -> list[Queued]:
    """Each delivery's position: when its message was published in ns, made strictly increasing
    along the queue (messages of the same instant get the next ns); the mqueue's adds its
    priority (0: BrookMQ's queues have none)."""
    out: list[Queued] = []
    last = 0
    for delivery in deliveries:
        ns = max(int(delivery.message.timestamp * 1e9), last + 1)
        last = ns
        out.append(Queued(delivery.message, delivery.qos, f"{ns}_0" if mqueue else str(ns), ns))
    return out


def _position_ns(position: str, mqueue: bool) -> int:
    text = position.split("_", 1)[0] if mqueue else position
    if mqueue and "_" not in position:
        raise Invalid("position_limit_invalid")
    try:
        return int(text)
    except ValueError:
        raise Invalid("position_limit_invalid") from None


def _chunk(deliveries: list[Any], mqueue: bool, position: str | None, limit: int) -> Chunk:
    items = _positions(deliveries, mqueue)
    start = items[0].position if items else "none"
    after = 0 if position is None or position == "none" else _position_ns(position, mqueue)
    rest = [q for q in items if q.inserted_ns > after][:limit]
    return Chunk(rest, start, rest[-1].position if rest else (position or "none"))


def subscription_info(broker: Broker, session: Session, sub: Subscription) -> dict[str, Any]:
    return {
        "topic": sub.topic_filter,
        "clientid": session.client_id,
        "node": broker.node_name,
        "qos": sub.qos,
        "nl": int(sub.no_local),
        "rap": int(sub.rap),
        "rh": sub.rh,
        "durable": False,
    }
