"""HOCON-style durations ("30s", "2h", "infinity") and byte sizes ("1MB", "64KB")."""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, None: 1}
_NEVER = {"infinity", "disabled", "never"}


def parse_duration(value: Any) -> Any:
    """Seconds from "500ms", "30s", "2h" ...; "infinity"/"disabled" become 0 (no limit).

    Anything that does not look like a duration is returned as is, for the
    model's own type check to report. HOCON's own durations arrive as timedelta.
    """
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        if value.strip().lower() in _NEVER:
            return 0
        match = _DURATION.match(value)
        if match:
            unit = match.group(2).lower() if match.group(2) else None
            return float(match.group(1)) * _DURATION_UNITS[unit]
    return value


def parse_bytesize(value: Any) -> Any:
    if isinstance(value, str):
        if value.strip().lower() in _NEVER:
            return 0
        match = _SIZE.match(value)
        if match:
            unit = match.group(2).lower() if match.group(2) else None
            return int(match.group(1)) * _SIZE_UNITS[unit]
    return value


def parse_percent(value: Any) -> Any:
    """A fraction 0..1 from "70%" (a bare number is taken as the fraction itself)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            return value
    return value


PARSERS = {"duration": parse_duration, "bytesize": parse_bytesize}


def apply_units(raw: Any, cls: type) -> Any:
    """Read the values of ``raw`` meant for dataclass ``cls`` by the ``unit`` each field declares
    in its metadata (``duration``, ``bytesize``), nested dataclasses included."""
    if not isinstance(raw, dict) or not dataclasses.is_dataclass(cls):
        return raw
    hints = typing.get_type_hints(cls)
    out = dict(raw)
    for f in dataclasses.fields(cls):
        if f.name not in out:
            continue
        unit = f.metadata.get("unit")
        if unit:
            out[f.name] = PARSERS[unit](out[f.name])
        elif dataclasses.is_dataclass(hints[f.name]):
            out[f.name] = apply_units(out[f.name], hints[f.name])
    return out
