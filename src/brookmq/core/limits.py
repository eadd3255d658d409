"""EMQX 4's per-connection limits, set at run time through the management API: a rate limit on
bytes and messages in (``conn_bytes_in``, ``conn_messages_in``) and a quota on messages routed
(``conn_messages_routing``: deliveries to subscribers), each ``limit`` per ``period`` seconds.

A connection past a limit stops being read until it is back under (EMQX pauses its socket the
same way): TCP back-pressure slows the client and nobody else. The accounting runs only for a
connection that has limits: its PUBLISH handler is swapped for ``limited_publish`` (the bytes
read since the last PUBLISH are counted then), so a broker where nobody has limits pays
nothing on the PUBLISH path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brookmq.core import publish_flow
from brookmq.mqtt import packets as pk

if TYPE_CHECKING:
    from brookmq.core.connection import Connection


class Bucket:
    """``limit`` per ``period`` seconds as a token bucket, full at the start."""

    __slots__ = ("capacity", "limit", "period", "rate", "stamp", "tokens")

    def __init__(self, limit: float, period: float, now: float) -> None:
        if limit <= 0 or period <= 0:
            raise ValueError("a limit and its period must be positive")
        self.limit, self.period = limit, period
        self.capacity = self.tokens = float(limit)
        self.rate = limit / period
        self.stamp = now

    def take(self, amount: float, now: float) -> float:
        """Use ``amount``; how long to wait before more may come (0: none)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate) - amount
        self.stamp = now
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass(slots=True)
class ConnLimits:
    bytes_in: Bucket | None = None
    messages_in: Bucket | None = None
    messages_routing: Bucket | None = None
    counted_oct: int = 0  # recv_oct when the bytes were last counted

    def __bool__(self) -> bool:
        return any((self.bytes_in, self.messages_in, self.messages_routing))


def limited_publish(conn: Connection, packet: pk.Publish) -> None:
    """``handle_publish``, then the limits: past one, the connection pauses."""
    limits = conn.limits
    counters = conn.broker.counters
    before = counters["messages.delivered"]
    publish_flow.handle_publish(conn, packet)
    if limits is None:
        return
    now = conn.loop.time()
    wait = 0.0
    if limits.bytes_in is not None:
        wait = max(wait, limits.bytes_in.take(conn.recv_oct - limits.counted_oct, now))
        limits.counted_oct = conn.recv_oct
    if limits.messages_in is not None:
        wait = max(wait, limits.messages_in.take(1, now))
    if limits.messages_routing is not None:
        wait = max(wait, limits.messages_routing.take(counters["messages.delivered"] - before, now))
    if wait > 0:
        conn.throttle(wait)


def set_limits(conn: Connection, **buckets: Any) -> None:
    """Replace the named buckets (``bytes_in``, ``messages_in``, ``messages_routing``; None
    removes one); with none left the connection is unlimited again."""
    limits = conn.limits or ConnLimits(counted_oct=conn.recv_oct)
    for name, bucket in buckets.items():
        setattr(limits, name, bucket)
    conn.limit_with(limits if limits else None)
