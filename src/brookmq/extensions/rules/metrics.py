"""A rule's counters under EMQX 5.8's names, and its matching rate: per second now (over the
last 5 s), the highest seen, and the average of the last 5 minutes."""

from __future__ import annotations

import time
from collections import deque

COUNTERS = (
    "matched",
    "passed",
    "failed",
    "failed.exception",
    "failed.no_result",
    "failed.unknown",
    "actions.total",
    "actions.success",
    "actions.failed",
    "actions.failed.out_of_service",
    "actions.failed.unknown",
    "actions.discarded",
)
_WINDOW = 300  # seconds kept for the 5-minute average


class RuleMetrics:
    __slots__ = ("_seconds", "counts", "rate_max")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self._seconds: deque[list[int]] = deque()  # [second, matches in it], oldest first
        self.rate_max = 0.0

    def count(self, *names: str) -> None:
        for name in names:
            self.counts[name] += 1

    def matched(self, now: float) -> None:
        self.counts["matched"] += 1
        second = int(now)
        seconds = self._seconds
        if seconds and seconds[-1][0] == second:
            seconds[-1][1] += 1
        else:
            seconds.append([second, 1])
            while seconds[0][0] <= second - _WINDOW:
                seconds.popleft()

    def overloaded(self) -> None:
        """Matched, but not run: the engine's queue was full."""
        self.matched(time.monotonic())
        self.count("failed", "failed.unknown")

    def _rate(self, now: float, span: int) -> float:
        since = int(now) - span
        return sum(count for second, count in self._seconds if since <= second < int(now)) / span

    def snapshot(self, now: float | None = None) -> dict[str, float | int]:
        now = time.monotonic() if now is None else now
        rate = round(self._rate(now, 5), 2)
        self.rate_max = max(self.rate_max, rate)
        return {
            **self.counts,
            "matched.rate": rate,
            "matched.rate.max": self.rate_max,
            "matched.rate.last5m": round(self._rate(now, _WINDOW), 2),
        }

    def reset(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self._seconds.clear()
        self.rate_max = 0.0
