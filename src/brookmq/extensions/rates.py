"""A per-second rate as EMQX's metrics show one: now (the average of the last 5 s), the highest
seen, and the average of the last 5 minutes. Kept as one counter per second of a 5-minute
window, so one tick costs a comparison and an addition."""

from __future__ import annotations

import time
from collections import deque

_WINDOW = 300  # seconds kept for the 5-minute average
_NOW = 5  # seconds averaged for the current rate


class Rate:
    __slots__ = ("_seconds", "highest")

    def __init__(self) -> None:
        self._seconds: deque[list[int]] = deque()  # [second, ticks in it], oldest first
        self.highest = 0.0

    def tick(self, now: float) -> None:
        second = int(now)
        seconds = self._seconds
        if seconds and seconds[-1][0] == second:
            seconds[-1][1] += 1
        else:
            seconds.append([second, 1])
            while seconds[0][0] <= second - _WINDOW:
                seconds.popleft()

    def _over(self, now: float, span: int) -> float:
        """Ticks per second over the ``span`` whole seconds before this one."""
        since = int(now) - span
        return sum(count for second, count in self._seconds if since <= second < int(now)) / span

    def figures(self, now: float | None = None) -> tuple[float, float, float]:
        """(now, highest, last 5 minutes), per second."""
        now = time.monotonic() if now is None else now
        current = round(self._over(now, _NOW), 2)
        self.highest = max(self.highest, current)
        return current, self.highest, round(self._over(now, _WINDOW), 2)

    def reset(self) -> None:
        self._seconds.clear()
        self.highest = 0.0
