"""Date and time functions. Units are ``second`` (the default), ``millisecond``,
``microsecond`` and ``nanosecond``; an offset is ``Z``, ``local``, ``+08:00`` (or ``+0800``,
``+08:20:30``) or seconds; formats take ``%Y %m %d %H %M %S``, ``%N`` (nanoseconds),
``%3N`` / ``%6N`` and ``%z`` / ``%:z`` / ``%::z`` as EMQX's do."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from brookmq.extensions.rules.values import SqlRuntimeError, integer, string

_UNITS = {"second": 1, "millisecond": 1_000, "microsecond": 1_000_000, "nanosecond": 1_000_000_000}


def _per_second(unit: Any) -> int:
    name = string(unit)
    if name not in _UNITS:
        raise SqlRuntimeError(f"{name!r} is not one of {', '.join(_UNITS)}")
    return _UNITS[name]


def offset_seconds(offset: Any) -> int:
    if isinstance(offset, int) and not isinstance(offset, bool):
        return offset
    value = string(offset)
    if value in ("Z", "z"):
        return 0
    if value == "local":
        return time.localtime().tm_gmtoff
    found = re.fullmatch(r"([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?", value)
    if found is None:
        raise SqlRuntimeError(f"{value!r} is not a time offset")
    sign, hours, minutes, seconds = found.groups()
    total = int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)
    return -total if sign == "-" else total


def _offset_text(seconds: int, style: str) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if style == "%z":
        return f"{sign}{hours:02d}{minutes:02d}"
    if style == "%:z":
        return f"{sign}{hours:02d}:{minutes:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"


_DIRECTIVES = re.compile(r"%(?:Y|m|d|H|M|S|N|3N|6N|z|:z|::z)")


def format_date(unit: Any, offset: Any, fmt: Any, timestamp: Any) -> str:
    per_second, shift = _per_second(unit), offset_seconds(offset)
    whole, part = divmod(integer(timestamp), per_second)
    nanos = part * (1_000_000_000 // per_second)
    moment = datetime.fromtimestamp(whole, UTC) + timedelta(seconds=shift)

    def field(found: re.Match[str]) -> str:
        code = found.group(0)[1:]
        simple = {"Y": f"{moment.year:04d}", "m": f"{moment.month:02d}", "d": f"{moment.day:02d}"}
        simple |= {"H": f"{moment.hour:02d}", "M": f"{moment.minute:02d}", "S": f"{moment.second:02d}"}
        if code in simple:
            return simple[code]
        if code.endswith("N"):
            digits = int(code[:-1] or 9)
            return f"{nanos:09d}"[:digits]
        return _offset_text(shift, "%" + code)

    return _DIRECTIVES.sub(field, string(fmt))


_SIZES = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2, "%N": 9, "%3N": 3, "%6N": 6}


def date_to_unix_ts(unit: Any, *args: Any) -> int:
    """``(unit, [offset,] format, date)``: the zone in the date, else the offset, else UTC."""
    if len(args) == 2:
        offset, (fmt, date) = 0, args
    elif len(args) == 3:
        offset, fmt, date = offset_seconds(args[0]), args[1], args[2]
    else:
        raise SqlRuntimeError("date_to_unix_ts takes 3 or 4 arguments")
    text, pattern = string(date), string(fmt)
    parts: dict[str, int] = {}
    at = 0
    for piece in re.split(f"({_DIRECTIVES.pattern})", pattern):
        if at >= len(text):
            break
        if piece in _SIZES:
            digits = text[at : at + _SIZES[piece]]
            if not digits.isdigit():
                raise SqlRuntimeError(f"{text!r} does not match {pattern!r}")
            parts[piece] = int(digits.ljust(_SIZES[piece], "0") if piece.endswith("N") else digits)
            at += len(digits)
        elif piece in ("%z", "%:z", "%::z"):
            zone = re.match(r"[+-]\d{2}:?\d{2}(?::?\d{2})?|[Zz]", text[at:])
            if zone is None:
                raise SqlRuntimeError(f"no time zone in {text!r} where {pattern!r} has one")
            offset = offset_seconds(zone.group(0))
            at += len(zone.group(0))
        elif piece:
            if text[at : at + len(piece)] != piece:
                raise SqlRuntimeError(f"{text!r} does not match {pattern!r}")
            at += len(piece)
    try:
        moment = datetime(
            parts.get("%Y", 1970),
            parts.get("%m", 1),
            parts.get("%d", 1),
            parts.get("%H", 0),
            parts.get("%M", 0),
            parts.get("%S", 0),
            tzinfo=timezone(timedelta(seconds=offset)),
        )
    except ValueError as exc:
        raise SqlRuntimeError(f"{text!r}: {exc}") from None
    nanos = parts.get("%N", 0) or parts.get("%6N", 0) * 1000 or parts.get("%3N", 0) * 1_000_000
    per_second = _per_second(unit)
    return int(moment.timestamp()) * per_second + nanos // (1_000_000_000 // per_second)


def now_timestamp(unit: Any = "second") -> int:
    return time.time_ns() // (1_000_000_000 // _per_second(unit))


def unix_ts_to_rfc3339(timestamp: Any, unit: Any = "second") -> str:
    per_second = _per_second(unit)
    whole, part = divmod(integer(timestamp), per_second)
    shift = time.localtime(whole).tm_gmtoff
    moment = datetime.fromtimestamp(whole, timezone(timedelta(seconds=shift)))
    fraction = "" if per_second == 1 else "." + str(part).rjust(len(str(per_second)) - 1, "0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + _offset_text(shift, "%:z")


def rfc3339_to_unix_ts(value: Any, unit: Any = "second") -> int:
    found = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})", string(value)
    )
    if found is None:
        raise SqlRuntimeError(f"{value!r} is not an RFC 3339 time")
    day, clock, fraction, zone = found.groups()
    moment = datetime.fromisoformat(f"{day}T{clock}").replace(
        tzinfo=timezone(timedelta(seconds=offset_seconds(zone)))
    )
    per_second = _per_second(unit)
    nanos = int((fraction or "").ljust(9, "0"))
    return int(moment.timestamp()) * per_second + nanos // (1_000_000_000 // per_second)


def mongo_date(timestamp: Any = None, unit: Any = "millisecond") -> str:
    millis = (
        now_timestamp("millisecond") if timestamp is None else integer(timestamp) * 1000 // _per_second(unit)
    )
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return f"ISODate({moment.strftime('%Y-%m-%dT%H:%M:%S')}.{millis % 1000:03d}Z)"


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now_rfc3339": lambda unit="second": unix_ts_to_rfc3339(now_timestamp(unit), unit),
    "now_timestamp": now_timestamp,
    "unix_ts_to_rfc3339": unix_ts_to_rfc3339,
    "rfc3339_to_unix_ts": rfc3339_to_unix_ts,
    "format_date": format_date,
    "date_to_unix_ts": date_to_unix_ts,
    "timezone_to_second": offset_seconds,
    "timezone_to_offset_seconds": offset_seconds,
    "mongo_date": mongo_date,
}
