"""Events per key within a sliding window (disconnects per client id, failed logins per
address), in a table that stays small: what flapping detection and the failure bans count."""

from __future__ import annotations

from collections import deque


class RecentEvents:
    def __init__(self, window: float) -> None:
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._tidy_at = 1024  # table size at which quiet keys are dropped

    def add(self, key: str, now: float) -> int:
        """Record one event of ``key``; how many it has within the window, this one included."""
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
        events.append(now)
        while events and events[0] <= now - self.window:
            events.popleft()
        self._forget_quiet(now)
        return len(events)

    def reached(self, key: str, now: float, limit: int) -> int:
        """Record one event of ``key``; when that makes ``limit`` within the window, forget the
        key and return the count (the caller bans it), else 0."""
        count = self.add(key, now)
        if count < limit:
            return 0
        self._events.pop(key, None)
        return count

    def _forget_quiet(self, now: float) -> None:
        """Drop the keys with nothing in the window (each time the table has doubled: constant
        work per event on average)."""
        if len(self._events) < self._tidy_at:
            return
        horizon = now - self.window
        for key in [k for k, e in self._events.items() if not e or e[-1] <= horizon]:
            del self._events[key]
        self._tidy_at = max(1024, 2 * len(self._events))
