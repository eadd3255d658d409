"""String functions. Positions are 0-based as in EMQX 5 (``substr('hello world', 6)`` is
``'world'``); a non-string argument is a bad argument."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from brookmq.extensions.rules.values import SqlRuntimeError, integer, string, text

_WHERE = ("leading", "trailing")


def _direction(value: Any, allowed: tuple[str, ...]) -> str:
    where = string(value)
    if where not in allowed:
        raise SqlRuntimeError(f"{where!r} is not one of {', '.join(allowed)}")
    return where


def substr(s: Any, start: Any, length: Any = None) -> str:
    value, begin = string(s), max(integer(start), 0)
    if length is None:
        return value[begin:]
    return value[begin : begin + max(integer(length), 0)]


def split(s: Any, separator: Any, option: Any = None) -> list[str]:
    value, sep = string(s), string(separator)
    if not sep:
        raise SqlRuntimeError("the separator is empty")
    mode = (
        "all"
        if option is None
        else _direction(option, ("notrim", *_WHERE, "leading_notrim", "trailing_notrim"))
    )
    if mode in ("all", "notrim"):
        parts = value.split(sep)
    elif mode.startswith("leading"):
        parts = value.split(sep, 1)
    else:
        parts = value.rsplit(sep, 1)
    return parts if mode.endswith("notrim") else [part for part in parts if part]


def tokens(s: Any, separators: Any, nocrlf: Any = None) -> list[str]:
    chars = string(separators)
    if nocrlf is not None:
        if string(nocrlf) != "nocrlf":
            raise SqlRuntimeError("the third argument of tokens can only be 'nocrlf'")
        chars += "\r\n"
    if not chars:
        return [string(s)] if string(s) else []
    return [token for token in re.split("[" + re.escape(chars) + "]", string(s)) if token]


def concat(*parts: Any) -> str:
    if len(parts) == 1 and isinstance(parts[0], list):
        parts = tuple(parts[0])
    return "".join(text(part) for part in parts)


def pad(s: Any, length: Any, where: Any = "trailing", char: Any = " ") -> str:
    value, width = string(s), integer(length)
    side = _direction(where, ("trailing", "leading", "both"))
    missing = max(width - len(value), 0)
    filler = string(char)
    if side == "trailing":
        return value + filler * missing
    if side == "leading":
        return filler * missing + value
    return filler * (missing // 2) + value + filler * (missing - missing // 2)


def replace(s: Any, pattern: Any, replacement: Any, where: Any = "all") -> str:
    value, old, new = string(s), string(pattern), string(replacement)
    side = _direction(where, ("all", *_WHERE))
    if side == "all":
        return value.replace(old, new)
    at = value.find(old) if side == "leading" else value.rfind(old)
    return value if at < 0 or not old else value[:at] + new + value[at + len(old) :]


def find(s: Any, pattern: Any, where: Any = "leading") -> str:
    value, sub = string(s), string(pattern)
    side = _direction(where, _WHERE)
    at = value.find(sub) if side == "leading" else value.rfind(sub)
    return "" if at < 0 else value[at:]


@lru_cache(maxsize=256)
def _regex(expression: str) -> re.Pattern[str]:
    try:
        return re.compile(expression)
    except re.error as exc:
        raise SqlRuntimeError(f"bad regular expression {expression!r}: {exc}") from None


def regex_match(s: Any, expression: Any) -> bool:
    return _regex(string(expression)).search(string(s)) is not None


def regex_replace(s: Any, expression: Any, replacement: Any) -> str:
    # PCRE's back-references are \1 and & in Erlang's re:replace; Python's are \1 and \g<0>.
    template = string(replacement).replace("\\&", "\0").replace("&", "\\g<0>").replace("\0", "&")
    return _regex(string(expression)).sub(template, string(s))


def regex_extract(s: Any, expression: Any) -> list[str]:
    found = _regex(string(expression)).search(string(s))
    if found is None:
        return []
    return [group or "" for group in found.groups()] if found.groups() else [found.group(0)]


def ascii_code(s: Any) -> int:
    value = string(s)
    if not value:
        raise SqlRuntimeError("ascii of an empty string")
    return ord(value[0])


def join_to_string(separator: Any, items: Any = None) -> str:
    if items is None:
        separator, items = ", ", separator
    if not isinstance(items, list):
        raise SqlRuntimeError(f"{items!r} is not an array")
    return string(separator).join(text(item) for item in items)


_ESCAPES = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPES.update({"'": "'", '"': '"', "?": "?", "a": "\a"})


def unescape(s: Any) -> str:
    """``\\n``, ``\\t``, ``\\xHH...`` and the other C escapes made into the characters."""
    value, out, i = string(s), [], 0
    while i < len(value):
        char = value[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        code = value[i + 1 : i + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
        elif code == "x":
            digits = re.match(r"[0-9a-fA-F]+", value[i + 2 :])
            if digits is None:
                raise SqlRuntimeError("\\x without hexadecimal digits")
            out.append(chr(int(digits.group(0), 16)))
            i += 2 + len(digits.group(0))
        else:
            raise SqlRuntimeError(f"unrecognized escape sequence \\{code}")
    return "".join(out)


_DIRECTIVE = re.compile(r"~(-?\d*)(?:\.(\d*))?([spwnfecdbx~i])")


def sprintf(format_string: Any, *args: Any) -> str:
    """Erlang's ``io_lib:format`` for the directives a rule uses: ``~s`` (a string), ``~p`` and
    ``~w`` (any term), ``~n`` (newline), ``~f`` / ``~e`` / ``~g`` (floats), ``~b`` / ``~d``
    (integers), ``~c`` (a character), ``~i`` (skip), ``~~``."""
    pending = list(args)

    def take() -> Any:
        if not pending:
            raise SqlRuntimeError("sprintf has fewer arguments than directives")
        return pending.pop(0)

    def directive(found: re.Match[str]) -> str:
        width, precision, code = found.group(1), found.group(2), found.group(3)
        if code == "n":
            return "\n"
        if code == "~":
            return "~"
        value = take()
        if code == "i":
            return ""
        if code == "s":
            out = text(value) if isinstance(value, str | bytes | int | float | bool) else _term(value)
        elif code in "pw":
            out = _term(value)
        elif code in "fe":
            out = f"{float(value):.{int(precision or 6)}{code}}"
        elif code == "g":
            out = f"{float(value):g}"
        elif code in "db":
            out = str(integer(value))
        elif code == "x":
            out = format(integer(value), "x")
        else:
            out = chr(integer(value))
        return out.rjust(int(width)) if width and not width.startswith("-") else out

    out = _DIRECTIVE.sub(directive, string(format_string))
    if pending:
        raise SqlRuntimeError("sprintf has more arguments than directives")
    return out


def _term(value: Any) -> str:
    """How ``~p`` prints a value: strings as Erlang binaries."""
    if isinstance(value, str):
        return f'<<"{value}">>'
    if isinstance(value, bytes):
        return "<<" + ",".join(str(b) for b in value) + ">>"
    if isinstance(value, list):
        return "[" + ",".join(_term(item) for item in value) + "]"
    if isinstance(value, dict):
        return "#{" + ",".join(f"{_term(k)} => {_term(v)}" for k, v in value.items()) + "}"
    return text(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "lower": lambda s: string(s).lower(),
    "upper": lambda s: string(s).upper(),
    "trim": lambda s, chars=None: string(s).strip(None if chars is None else string(chars)),
    "ltrim": lambda s, chars=None: string(s).lstrip(None if chars is None else string(chars)),
    "rtrim": lambda s, chars=None: string(s).rstrip(None if chars is None else string(chars)),
    "reverse": lambda s: string(s)[::-1],
    "strlen": lambda s: len(string(s)),
    "substr": substr,
    "substring": substr,
    "split": split,
    "tokens": tokens,
    "concat": concat,
    "sprintf": sprintf,
    "sprintf_s": lambda fmt, args: sprintf(fmt, *(args if isinstance(args, list) else [args])),
    "pad": pad,
    "replace": replace,
    "regex_match": regex_match,
    "regex_replace": regex_replace,
    "regex_extract": regex_extract,
    "ascii": ascii_code,
    "find": find,
    "join_to_string": join_to_string,
    "rm_prefix": lambda s, prefix: string(s).removeprefix(string(prefix)),
    "unescape": unescape,
}
