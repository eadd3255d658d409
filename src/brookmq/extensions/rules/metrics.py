"""A rule's counters under EMQX 5.8's names, and its matching rate: per second now (over the
last 5 s), the highest seen, and the average of the last 5 minutes."""

from __future__ import annotations

import time

from brookmq.extensions.rates import Rate

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


class RuleMetrics:
    __slots__ = ("counts", "rate")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.rate = Rate()

    def count(self, *names: str) -> None:
        for name in names:
            self.counts[name] += 1

    def matched(self, now: float) -> None:
        self.counts["matched"] += 1
        self.rate.tick(now)

    def overloaded(self) -> None:
        """Matched, but not run: the engine's queue was full."""
        self.matched(time.monotonic())
        self.count("failed", "failed.unknown")

    def snapshot(self, now: float | None = None) -> dict[str, float | int]:
        rate, highest, last5m = self.rate.figures(now)
        return {
            **self.counts,
            "matched.rate": rate,
            "matched.rate.max": highest,
            "matched.rate.last5m": last5m,
        }

    def reset(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.rate.reset()
