"""``$SYS/brokers/<node>/...`` topics, published like EMQX's emqx_sys.

Every ``sys_msg_interval``: version, sysdescr, ``stats/<name>`` and
``metrics/<name>``; every ``sys_heartbeat_interval``: uptime and datetime; on
client events: ``clients/<clientid>/connected`` and ``/disconnected`` (JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from brookmq import __version__
from brookmq.core.alarms import Alarm
from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook

log = logging.getLogger("brookmq.sys_topics")
SYSDESCR = "BrookMQ"


class SysTopics(Hook):
    def __init__(
        self,
        broker: Broker,
        msg_interval: float = 60.0,
        heartbeat_interval: float = 30.0,
        client_connected: bool = True,
        client_disconnected: bool = True,
    ) -> None:
        self.broker = broker
        self.msg_interval = msg_interval
        self.heartbeat_interval = heartbeat_interval
        self.event_connected = client_connected
        self.event_disconnected = client_disconnected
        self.prefix = f"$SYS/brokers/{broker.node_name}/"
        self.client = broker.client("$SYS")
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.broker.hooks.add(self)
        self.broker.alarms.watchers.append(self.publish_alarm)
        self._tasks = [
            asyncio.create_task(self._every(self.msg_interval, self.publish_info)),
            asyncio.create_task(self._every(self.heartbeat_interval, self.publish_heartbeat)),
        ]

    async def stop(self) -> None:
        self.broker.hooks.remove(self)
        if self.publish_alarm in self.broker.alarms.watchers:
            self.broker.alarms.watchers.remove(self.publish_alarm)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _every(self, interval: float, publish: Any) -> None:
        if not interval:
            return
        while True:
            try:
                publish()
            except Exception:  # one bad round must not end the publishing for good
                log.exception("publishing $SYS topics failed")
            await asyncio.sleep(interval)

    def _publish(self, suffix: str, payload: str) -> None:
        self.client.publish(self.prefix + suffix, payload)

    def publish_info(self) -> None:
        self.client.publish("$SYS/brokers", self.broker.node_name)
        self._publish("version", __version__)
        self._publish("sysdescr", SYSDESCR)
        for name, value in self.broker.stats.snapshot().items():
            self._publish(f"stats/{name}", str(value))
        for name, value in self.broker.counters.items():
            self._publish(f"metrics/{name}", str(value))

    def publish_heartbeat(self) -> None:
        self._publish("uptime", str(int(self.broker.uptime())))
        self._publish("datetime", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def publish_alarm(self, alarm: Alarm) -> None:
        """``alarms/activate`` or ``alarms/deactivate`` with EMQX's JSON (times in microseconds)."""
        body: dict[str, Any] = {
            "name": alarm.name,
            "message": alarm.message,
            "details": alarm.details,
            "activate_at": int(alarm.activate_at * 1_000_000),
        }
        if alarm.deactivate_at:
            body["deactivate_at"] = int(alarm.deactivate_at * 1_000_000)
        self._publish("alarms/deactivate" if alarm.deactivate_at else "alarms/activate", json.dumps(body))

    # ---------------------------------------------------------- hooks

    def client_connected(self, client: Any) -> None:
        if not self.event_connected:
            return
        self._publish(
            f"clients/{topic_level(client.client_id)}/connected",
            json.dumps(
                {
                    "clientid": client.client_id,
                    "username": client.username,
                    "ipaddress": client.peerhost,
                    "proto_name": client.client_info()["proto_name"],
                    "proto_ver": client.version,
                    "keepalive": client.keepalive,
                    "clean_start": client.clean_start,
                    "connected_at": int(client.connected_at * 1000),
                    "ts": int(time.time() * 1000),
                }
            ),
        )

    def client_disconnected(self, client: Any, reason: str) -> None:
        if not self.event_disconnected:
            return
        self._publish(
            f"clients/{topic_level(client.client_id)}/disconnected",
            json.dumps(
                {
                    "clientid": client.client_id,
                    "username": client.username,
                    "reason": reason,
                    "disconnected_at": int(client.disconnected_at * 1000),
                    "ts": int(time.time() * 1000),
                }
            ),
        )


_LEVEL_ESCAPES = str.maketrans({"%": "%25", "+": "%2B", "#": "%23", "/": "%2F"})


def topic_level(client_id: str) -> str:
    """A client id as one topic level: ``%``, ``+``, ``#`` and ``/`` percent-encoded, so any id
    makes a valid topic (``a+b`` -> ``a%2Bb``) with exactly one level."""
    return client_id.translate(_LEVEL_ESCAPES)
