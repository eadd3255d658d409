"""Alarms as the management API lists and clears them (raised by :mod:`brookmq.core.alarms`)."""

from __future__ import annotations

from typing import Any

from brookmq.core.alarms import Alarm
from brookmq.core.broker import Broker
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.paging import Page, page_of


class Alarms:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def info(self, alarm: Alarm) -> dict[str, Any]:
        """EMQX's alarm object; times in epoch seconds, ``duration`` in ms."""
        active = not alarm.deactivate_at
        end = self.broker.clock.time() if active else alarm.deactivate_at
        out: dict[str, Any] = {
            "node": self.broker.node_name,
            "name": alarm.name,
            "message": alarm.message,
            "details": alarm.details,
            "duration": int((end - alarm.activate_at) * 1000),
            "activate_at": alarm.activate_at,
        }
        if not active:
            out["deactivate_at"] = alarm.deactivate_at
        return out

    def find(self, activated: bool, page: int, limit: int) -> Page:
        alarms = self.broker.alarms
        rows = list(alarms.active.values()) if activated else alarms.history
        return page_of((self.info(a) for a in rows), page, limit, len(rows))

    def clear_history(self) -> None:
        self.broker.alarms.clear_history()

    def force_deactivate(self, name: str) -> None:
        if not name:
            raise Invalid("name is required")
        if not self.broker.alarms.deactivate(name):
            raise NotFound("Alarm not found or already deactivated")
