"""Flapping detection, like EMQX's ``flapping_detect``: a client id that disconnects
``max_count`` times within ``window_time`` is banned for ``ban_time``, recorded with
``by = flapping_detector``. Off by default."""

from __future__ import annotations

from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook
from brookmq.extensions.banned import BanError, Banned
from brookmq.extensions.recent import RecentEvents

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
        self._disconnects = RecentEvents(window_time)  # per client id

    def start(self) -> None:
        self.broker.hooks.add(self)

    def stop(self) -> None:
        self.broker.hooks.remove(self)

    def client_disconnected(self, client: Any, reason: str) -> None:
        client_id = client.client_id
        now = self.broker.clock.time()
        count = self._disconnects.reached(client_id, now, self.max_count)
        if not count:
            return
        reason_text = f"{count} disconnects within {self.window_time:g} s"
        try:
            self.banned.add("clientid", client_id, BY, reason_text, now, now + self.ban_time)
        except BanError:
            pass  # banned already
