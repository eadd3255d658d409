"""Mathematical and bit functions."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from brookmq.extensions.rules.values import SqlRuntimeError, arith, integer, number


def _abs(x: Any) -> int | float:
    return abs(number(x))


def _unary(fn: Callable[[float], float]) -> Callable[[Any], float]:
    def apply(x: Any) -> float:
        try:
            return fn(number(x))
        except ValueError:
            raise SqlRuntimeError(f"{x!r} is outside the function's domain") from None

    return apply


def _round(x: Any) -> int:
    """Erlang's ``round``: halves away from zero (``round(4.5) = 5``)."""
    value = number(x)
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def _power(x: Any, y: Any) -> float:
    return math.pow(number(x), number(y))


def _fmod(x: Any, y: Any) -> float:
    return math.fmod(number(x), number(y))


def _log(x: Any) -> float:
    return _unary(math.log)(x)


def _bitsr(x: Any, shift: Any) -> int:
    return integer(x) >> integer(shift)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _abs,
    "acos": _unary(math.acos),
    "acosh": _unary(math.acosh),
    "asin": _unary(math.asin),
    "asinh": _unary(math.asinh),
    "atan": _unary(math.atan),
    "atanh": _unary(math.atanh),
    "ceil": lambda x: math.ceil(number(x)),
    "cos": _unary(math.cos),
    "cosh": _unary(math.cosh),
    "exp": _unary(math.exp),
    "floor": lambda x: math.floor(number(x)),
    "fmod": _fmod,
    "log": _log,
    "mod": lambda x, y: arith("mod", x, y),
    "log10": _unary(math.log10),
    "log2": _unary(math.log2),
    "power": _power,
    "random": random.random,
    "round": _round,
    "sin": _unary(math.sin),
    "sinh": _unary(math.sinh),
    "sqrt": _unary(math.sqrt),
    "tan": _unary(math.tan),
    "tanh": _unary(math.tanh),
    "bitnot": lambda x: ~integer(x),
    "bitand": lambda x, y: integer(x) & integer(y),
    "bitor": lambda x, y: integer(x) | integer(y),
    "bitxor": lambda x, y: integer(x) ^ integer(y),
    "bitsl": lambda x, shift: integer(x) << integer(shift),
    "bitsr": _bitsr,
}
