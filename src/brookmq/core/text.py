"""Text that cannot leave the broker: strings that are not encodable as UTF-8 (lone surrogates,
which JSON's ``\\ud800`` escapes can carry), found where they come in and refused there."""

from __future__ import annotations

from typing import Any


def unencodable(value: Any, where: str = "") -> str | None:
    """Where (``a.b.0``; ``""`` for ``value`` itself) the first string in JSON-like ``value``
    that UTF-8 cannot encode is, or None when every string can be encoded."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if unencodable(key) is not None:
                return inner.encode("utf-8", "replace").decode()
            found = unencodable(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unencodable(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None
