"""The values of rule SQL and how they behave, as in EMQX.

A value is ``None`` (EMQX's ``undefined`` and JSON's ``null``: a field that is not there), a
bool, an int, a float, a str, ``bytes`` (a payload that is not UTF-8 text, or what ``zip`` and
friends produce), a list or a dict. A bool is never a number here (Erlang's booleans are atoms).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any

import orjson

from brookmq.mqtt.topics import matches


class SqlRuntimeError(Exception):
    """A rule failed on this input (a bad argument, a payload that is not JSON): the rule's
    ``failed.exception`` metric, never an error of the broker."""


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def text(value: Any) -> str:
    """EMQX's ``str()``: a float with at most 10 decimals and no trailing zeros, ``true``,
    ``undefined``, JSON for maps and arrays."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value, 10)
    if isinstance(value, dict | list):
        return json_text(value)
    raise SqlRuntimeError(f"cannot turn {value!r} into a string")


def float_text(value: float, decimals: int) -> str:
    """Erlang's ``float_to_binary(F, [{decimals, D}, compact])``."""
    if not math.isfinite(value):
        raise SqlRuntimeError(f"{value} is not a finite number")
    out = f"{value:.{decimals}f}"
    if "." in out:
        out = out.rstrip("0")
        if out.endswith("."):
            out += "0"
    return out


def json_text(value: Any) -> str:
    """Compact JSON, as EMQX encodes (undefined is null, bytes are text). orjson, and the
    standard library for what orjson does not take (integers past 64 bits)."""
    try:
        return orjson.dumps(value, default=_json_default).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON")


def binary(value: Any) -> bytes:
    """The bytes of a value (a string's UTF-8)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise SqlRuntimeError(f"{value!r} is not a string or binary")


def string(value: Any) -> str:
    """A string argument (bytes that are UTF-8 count as one)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise SqlRuntimeError("the binary is not UTF-8 text") from None
    raise SqlRuntimeError(f"{value!r} is not a string")


def integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise SqlRuntimeError(f"{value!r} is not an integer")


def number(value: Any) -> int | float:
    if is_number(value):
        return value
    raise SqlRuntimeError(f"{value!r} is not a number")


def parse_number(value: str | bytes) -> int | float:
    """A string compared with a number is read as one: an integer, else a float."""
    raw = value.decode() if isinstance(value, bytes) else value
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        raise SqlRuntimeError(f"{raw!r} is not a number") from None


def same(left: Any, right: Any) -> bool:
    """Erlang's ``==``: ``1 == 1.0``, but ``true`` is not ``1``."""
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


_NUMBERS = (int, float)
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def compare(op: str, left: Any, right: Any) -> bool:
    """``= <> != > < >= <= =~`` with EMQX's conversions: an undefined side is false (both
    undefined are equal), a string beside a number is read as a number, a boolean beside a
    string as ``true`` / ``false``."""
    if type(left) in _NUMBERS and type(right) in _NUMBERS and op != "=~":
        return _ORDER[op](left, right)  # two numbers (not booleans): the common case, first
    if left is None or right is None:
        if left is None and right is None:
            return op in ("=", ">=", "<=")
        return False
    if op == "=~":
        return matches(string(right), string(left))
    if is_number(left) and isinstance(right, str | bytes):
        right = parse_number(right)
    elif isinstance(left, str | bytes) and is_number(right):
        left = parse_number(left)
    elif isinstance(left, bool) and isinstance(right, str):
        left = "true" if left else "false"
    elif isinstance(left, str) and isinstance(right, bool):
        right = "true" if right else "false"
    if isinstance(left, bytes) and isinstance(right, str):
        right = right.encode()
    elif isinstance(left, str) and isinstance(right, bytes):
        left = left.encode()
    if op == "=":
        return same(left, right)
    if op in ("<>", "!="):
        return not same(left, right)
    try:
        if op == ">":
            return bool(left > right)
        if op == "<":
            return bool(left < right)
        if op == ">=":
            return bool(left >= right)
        return bool(left <= right)
    except TypeError:
        raise SqlRuntimeError(f"cannot compare {left!r} {op} {right!r}") from None


def arith(op: str, left: Any, right: Any) -> Any:
    """``+ - * / div mod``: ``+`` of two numbers adds, of a string and anything concatenates;
    ``/`` is always a float division; ``div`` and ``mod`` are Erlang's (toward zero)."""
    if op == "+":
        if is_number(left) and is_number(right):
            return left + right
        if isinstance(left, str | bytes) or isinstance(right, str | bytes):
            return text(left) + text(right)
        raise SqlRuntimeError(f"cannot add {left!r} and {right!r}")
    if op in ("div", "mod"):
        dividend, divisor = integer(left), integer(right)
        if divisor == 0:
            raise SqlRuntimeError("division by zero")
        quotient = abs(dividend) // abs(divisor) * (1 if (dividend >= 0) == (divisor >= 0) else -1)
        return quotient if op == "div" else dividend - divisor * quotient
    a, b = number(left), number(right)
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise SqlRuntimeError("division by zero")
    return a / b


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """JSON to values, strictly (no NaN); ``ValueError`` when it is not JSON. orjson, and the
    standard library for what orjson does not take (integers past 64 bits)."""
    try:
        return orjson.loads(text)
    except ValueError:
        return json.loads(text, parse_constant=_no_constant)


def decode_json(value: Any) -> Any:
    """A JSON document in a string or binary (a payload), else the value itself."""
    if isinstance(value, str | bytes):
        try:
            return loads(value)
        except ValueError:
            raise SqlRuntimeError("the payload is not JSON") from None
    return value
