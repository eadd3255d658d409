"""Flapping detection, like EMQX's ``flapping_detect``: a client id that disconnects
``max_count`` times within ``window_time`` is banned for ``ban_time``, recorded with
``by = flapping_detector``. Off by default."""

from __future__ import annotations

from collections import deque
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook
from brookmq.extensions.banned import BanError, Banned

BY = "flapping_detector"


class FlappingDetector(Hook):
    def __init__(
        self,
        broker: Broker,
        banned: Banned,
        max_count: int = 15,
        window_time: float = 60.0,
        ban_time: float = 300.0,
    ) -> None:
        self.broker = broker
        self.banned = banned
        self.max_count = max_count
        self.window_time = window_time
        self.ban_time = ban_time
        self._events: dict[str, deque[float]] = {}  # client id -> its recent disconnects
        self._tidy_at = 1024  # table size at which quiet clients are dropped

    def start(self) -> None:
        self.broker.hooks.add(self)

    def stop(self) -> None:
        self.broker.hooks.remove(self)

    def client_disconnected(self, client: Any, reason: str) -> None:
        client_id = client.client_id
        now = self.broker.clock.time()
        events = self._events.get(client_id)
        if events is None:
            events = self._events[client_id] = deque()
        events.append(now)
        while events and events[0] <= now - self.window_time:
            events.popleft()
        self._forget_quiet(now)
        if len(events) < self.max_count:
            return
        del self._events[client_id]
        reason_text = f"{len(events)} disconnects within {self.window_time:g} s"
        try:
            self.banned.add("clientid", client_id, BY, reason_text, now, now + self.ban_time)
        except BanError:
            pass  # banned already

    def _forget_quiet(self, now: float) -> None:
        """Drop the counts of clients with nothing in the window, so the table stays small
        (each time it has doubled: constant work per disconnect on average)."""
        if len(self._events) < self._tidy_at:
            return
        horizon = now - self.window_time
        for client_id in [c for c, e in self._events.items() if not e or e[-1] <= horizon]:
            del self._events[client_id]
        self._tidy_at = max(1024, 2 * len(self._events))
