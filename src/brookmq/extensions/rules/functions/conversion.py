"""Type tests and conversions (``str``, ``int``, ``float``, ``bool``, ``map``), as EMQX's
``emqx_utils_conv``: ``int`` of a float is its floor, ``bool`` takes only ``true``,
``false``, 1 and 0, ``str`` of a float has at most ten decimals."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from brookmq.extensions.rules.values import (
    SqlRuntimeError,
    float_text,
    integer,
    is_number,
    loads,
    number,
    string,
    text,
)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", b"true") or (is_number(value) and value == 1):
        return True
    if value in ("false", b"false") or (is_number(value) and value == 0):
        return False
    raise SqlRuntimeError(f"{value!r} is not a boolean")


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return math.floor(value)
    if isinstance(value, str | bytes):
        raw = string(value).strip()
        try:
            return int(raw)
        except ValueError:
            return math.floor(_float(raw))
    raise SqlRuntimeError(f"{value!r} is not a number")


def _float(raw: str) -> float:
    try:
        parsed = float(raw)
    except ValueError:
        raise SqlRuntimeError(f"{raw!r} is not a number") from None
    if not math.isfinite(parsed):
        raise SqlRuntimeError(f"{raw!r} is not a finite number")
    return parsed


def to_float(value: Any, decimals: Any = None) -> float:
    if is_number(value):
        out = float(value)
    elif isinstance(value, str | bytes):
        out = _float(string(value).strip())
    else:
        raise SqlRuntimeError(f"{value!r} is not a number")
    if decimals is None:
        return out
    places = integer(decimals)
    if places <= 0:
        raise SqlRuntimeError("the number of decimals must be positive")
    return float(float_text(out, places))


def to_map(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes):
        try:
            decoded = loads(value)
        except ValueError:
            raise SqlRuntimeError("not a JSON object") from None
        if isinstance(decoded, dict):
            return decoded
    raise SqlRuntimeError(f"{value!r} is not a map")


def is_empty(value: Any) -> bool:
    if isinstance(value, list | str | bytes):
        return not value
    return not to_map(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "is_null": lambda x: x is None,
    "is_null_var": lambda x: x is None,
    "is_not_null": lambda x: x is not None,
    "is_not_null_var": lambda x: x is not None,
    "is_str": lambda x: isinstance(x, str | bytes),
    "is_bool": lambda x: isinstance(x, bool),
    "is_int": lambda x: isinstance(x, int) and not isinstance(x, bool),
    "is_float": lambda x: isinstance(x, float),
    "is_num": is_number,
    "is_map": lambda x: isinstance(x, dict),
    "is_array": lambda x: isinstance(x, list),
    "is_empty": is_empty,
    "str": text,
    "str_utf8": text,
    "str_utf16_le": lambda x: text(x).encode("utf-16-le"),
    "bool": to_bool,
    "int": to_int,
    "float": to_float,
    "float2str": lambda x, decimals: float_text(float(number(x)), integer(decimals)),
    "map": to_map,
}
