"""Alarms: conditions an operator must see (a corrupt database, a full disk, ...).

An alarm is active until the condition clears; then it moves to the history.
Names and fields follow EMQX's (``name``, ``message``, ``details``,
``activate_at``, ``deactivate_at``)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
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
    """The active alarms and the history of cleared ones: at most ``size_limit`` of them, none
    older than ``validity_period`` seconds. ``actions``: ``log`` writes a warning on each change,
    ``publish`` tells the ``watchers`` (the ``$SYS`` topics)."""

    def __init__(self, clock: Clock, size_limit: int = 1000, validity_period: float = 86400.0) -> None:
        self.clock = clock
        self.active: dict[str, Alarm] = {}
        self._history: deque[Alarm] = deque(maxlen=size_limit)
        self.validity_period = validity_period
        self.actions: frozenset[str] = frozenset(("log", "publish"))
        self.watchers: list[Callable[[Alarm], None]] = []
        self.listeners: list[Callable[[Alarm], None]] = []  # told of every change, whatever the actions

    def configure(self, actions: Iterable[str], size_limit: int, validity_period: float) -> None:
        self.actions = frozenset(actions)
        self.validity_period = validity_period
        if size_limit != self._history.maxlen:
            self._history = deque(self._history, maxlen=size_limit)

    @property
    def history(self) -> list[Alarm]:
        """Cleared alarms still within ``validity_period``, oldest first."""
        history, oldest = self._history, self.clock.time() - self.validity_period
        while history and history[0].deactivate_at < oldest:
            history.popleft()
        return list(history)

    def clear_history(self) -> None:
        self._history.clear()

    def activate(self, name: str, message: str, details: dict[str, Any] | None = None) -> bool:
        """Raise ``name``; False when it is already active."""
        if name in self.active:
            return False
        alarm = self.active[name] = Alarm(name, message, details or {}, self.clock.time())
        self._changed(alarm)
        return True

    def deactivate(self, name: str) -> bool:
        alarm = self.active.pop(name, None)
        if alarm is None:
            return False
        alarm.deactivate_at = self.clock.time()
        self._history.append(alarm)
        self._changed(alarm)
        return True

    def _changed(self, alarm: Alarm) -> None:
        for listener in self.listeners:
            listener(alarm)
        if "log" in self.actions:
            if alarm.deactivate_at:
                log.warning("alarm %s cleared", alarm.name)
            else:
                log.warning("alarm %s raised: %s", alarm.name, alarm.message)
        if "publish" in self.actions:
            for watcher in self.watchers:
                watcher(alarm)
