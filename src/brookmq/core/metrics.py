"""Broker-wide counters and gauges with EMQX v5 names (emqx-api.md section 1.4)."""

from __future__ import annotations

METRIC_NAMES = [
    "bytes.received",
    "bytes.sent",
    "packets.received",
    "packets.sent",
    "packets.connect.received",
    "packets.connack.sent",
    "packets.connack.error",
    "packets.connack.auth_error",
    "packets.publish.received",
    "packets.publish.sent",
    "packets.publish.inuse",
    "packets.publish.error",
    "packets.publish.auth_error",
    "packets.publish.dropped",
    "packets.publish.quota_exceeded",
    "packets.puback.received",
    "packets.puback.sent",
    "packets.puback.inuse",
    "packets.puback.missed",
    "packets.pubrec.received",
    "packets.pubrec.sent",
    "packets.pubrec.inuse",
    "packets.pubrec.missed",
    "packets.pubrel.received",
    "packets.pubrel.sent",
    "packets.pubrel.missed",
    "packets.pubcomp.received",
    "packets.pubcomp.sent",
    "packets.pubcomp.inuse",
    "packets.pubcomp.missed",
    "packets.subscribe.received",
    "packets.subscribe.error",
    "packets.subscribe.auth_error",
    "packets.suback.sent",
    "packets.unsubscribe.received",
    "packets.unsubscribe.error",
    "packets.unsuback.sent",
    "packets.pingreq.received",
    "packets.pingresp.sent",
    "packets.disconnect.received",
    "packets.disconnect.sent",
    "packets.auth.received",
    "packets.auth.sent",
    "messages.received",
    "messages.sent",
    "messages.qos0.received",
    "messages.qos0.sent",
    "messages.qos1.received",
    "messages.qos1.sent",
    "messages.qos2.received",
    "messages.qos2.sent",
    "messages.publish",
    "messages.dropped",
    "messages.validation_failed",
    "messages.validation_succeeded",
    "messages.transformation_failed",
    "messages.transformation_succeeded",
    "messages.dropped.await_pubrel_timeout",
    "messages.dropped.no_subscribers",
    "messages.forward",
    "messages.delayed",
    "messages.delivered",
    "messages.acked",
    "messages.persisted",
    "delivery.dropped",
    "delivery.dropped.no_local",
    "delivery.dropped.too_large",
    "delivery.dropped.qos0_msg",
    "delivery.dropped.queue_full",
    "delivery.dropped.expired",
    "delivery.dropped.bad_text",  # ours: text UTF-8 cannot encode (never from a checked edge)
    "client.connect",
    "client.connack",
    "client.connected",
    "client.authenticate",
    "client.auth.anonymous",
    "client.authorize",
    "client.subscribe",
    "client.unsubscribe",
    "client.disconnected",
    "session.created",
    "session.resumed",
    "session.takenover",
    "session.discarded",
    "session.terminated",
    "authorization.allow",
    "authorization.deny",
    "authorization.cache_hit",
    "authorization.cache_miss",
    "authorization.superuser",
    "authorization.nomatch",
    "authorization.matched.allow",
    "authorization.matched.deny",
    "authentication.success",
    "authentication.success.anonymous",
    "authentication.failure",
    "overload_protection.delay.ok",
    "overload_protection.delay.timeout",
    "overload_protection.hibernation",
    "overload_protection.gc",
    "overload_protection.new_conn",
]

STAT_NAMES = [
    "connections",
    "live_connections",
    "channels",
    "sessions",
    "cluster_sessions",
    "topics",
    "suboptions",
    "subscribers",
    "subscriptions",
    "subscriptions.shared",
    "retained",
    "delayed",
]


# The per-QoS message counters, indexed by QoS.
QOS_RECEIVED = ("messages.qos0.received", "messages.qos1.received", "messages.qos2.received")
QOS_SENT = ("messages.qos0.sent", "messages.qos1.sent", "messages.qos2.sent")


def new_counters() -> dict[str, int]:
    """A fresh counter dict holding every metric at 0; the hot path increments it directly."""
    return dict.fromkeys(METRIC_NAMES, 0)


class Stats:
    """Gauges with their high-water marks: ``<name>.count`` and ``<name>.max``."""

    def __init__(self) -> None:
        self._count = dict.fromkeys(STAT_NAMES, 0)
        self._max = dict.fromkeys(STAT_NAMES, 0)

    def set(self, name: str, value: int) -> None:
        self._count[name] = value
        if value > self._max[name]:
            self._max[name] = value

    def snapshot(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name in STAT_NAMES:
            out[f"{name}.count"] = self._count[name]
            out[f"{name}.max"] = self._max[name]
        return out
