"""Times as EMQX 5 writes and reads them: RFC 3339 with the server's offset, ``infinity``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brookmq.service.errors import Invalid


def rfc3339(epoch: float | None) -> str:
    """Second precision, as EMQX writes API key and ban times."""
    if epoch is None:
        return "infinity"
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def rfc3339_ms(epoch: float | None) -> str | None:
    """Millisecond precision, as EMQX writes client, alarm and rule times; None stays None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


LATEST = 253402300799.0  # 9999-12-31T23:59:59Z: what a datetime can still write


def parse_time(value: Any, field: str) -> float | None:
    """RFC 3339, epoch seconds (0 up to the year 9999), or ``infinity`` (None)."""
    if value is None or value == "infinity":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= LATEST:
            raise Invalid("epoch seconds must be from 0 to 253402300799 (the year 9999)", field)
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.astimezone()
            return parsed.timestamp()
    raise Invalid("must be an RFC 3339 time, epoch seconds or infinity", field)
