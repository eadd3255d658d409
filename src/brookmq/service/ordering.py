"""Moving one entry of an ordered list of settings (authenticators, authorization sources), as
EMQX's ``position`` and ``order`` operations do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brookmq.service.errors import Invalid, NotFound

Entry = dict[str, Any]


def moved(entries: list[Entry], key: Callable[[Entry], str], which: str, position: str) -> list[Entry]:
    """``which`` moved to ``front``, ``rear``, ``before:<id>`` or ``after:<id>``."""
    found = [e for e in entries if key(e) == which]
    if not found:
        raise NotFound(f"{which} not found")
    rest = [e for e in entries if key(e) != which]
    where, _, other = position.partition(":")
    if position == "front":
        return found + rest
    if position == "rear":
        return rest + found
    if where not in ("before", "after") or not other:
        raise Invalid(f"{position!r} is not front, rear, before:<id> or after:<id>", "position")
    index = next((i for i, e in enumerate(rest) if key(e) == other), None)
    if index is None:
        raise NotFound(f"{other} not found")
    index += where == "after"
    return rest[:index] + found + rest[index:]


def reordered(entries: list[Entry], key: Callable[[Entry], str], order: list[str]) -> list[Entry]:
    """The entries in ``order``, which must name each of them once."""
    by_id = {key(e): e for e in entries}
    if sorted(order) != sorted(by_id):
        raise Invalid(f"must name each of {', '.join(by_id)} once", "order")
    return [by_id[i] for i in order]
