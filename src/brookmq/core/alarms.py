"""Alarms: conditions an operator must see (a corrupt database, a full disk, ...).

An alarm is active until the condition clears; then it moves to the history.
Names and fields follow EMQX's (``name``, ``message``, ``details``,
``activate_at``, ``deactivate_at``)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from brookmq.core.clock import Clock

log = logging.getLogger("brookmq.alarms")


@dataclass(slots=True)
class Alarm:
    name: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    activate_at: float = 0.0
    deactivate_at: float = 0.0  # 0 while active


class Alarms:
    def __init__(self, clock: Clock, history_size: int = 1000) -> None:
        self.clock = clock
        self.active: dict[str, Alarm] = {}
        self.history: deque[Alarm] = deque(maxlen=history_size)

    def activate(self, name: str, message: str, details: dict[str, Any] | None = None) -> bool:
        """Raise ``name``; False when it is already active."""
        if name in self.active:
            return False
        self.active[name] = Alarm(name, message, details or {}, self.clock.time())
        log.warning("alarm %s raised: %s", name, message)
        return True

    def deactivate(self, name: str) -> bool:
        alarm = self.active.pop(name, None)
        if alarm is None:
            return False
        alarm.deactivate_at = self.clock.time()
        self.history.append(alarm)
        log.warning("alarm %s cleared", name)
        return True
