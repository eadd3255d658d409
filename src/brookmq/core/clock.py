"""Time, in one place, so that tests can move it."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds for timestamps and message expiry."""

    time = staticmethod(time.time)  # looked up on the hot path: no Python-level call


class ManualClock(Clock):
    """A clock tests advance by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
