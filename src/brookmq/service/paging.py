"""Page paging (``page``, ``limit``) over a listing in a stable order.

A page is cut from an iterator, so a request costs what it skips and returns, never a sort of
the whole set. ``count`` is given only when the caller knows it cheaply (EMQX leaves it out
for fuzzy filters); then ``hasnext`` comes from it, otherwise from one row read past the page.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from brookmq.service.errors import Invalid

MAX_LIMIT = 10000


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Any]
    page: int
    limit: int
    count: int | None
    hasnext: bool

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"page": self.page, "limit": self.limit}
        if self.count is not None:
            meta["count"] = self.count
        meta["hasnext"] = self.hasnext
        return meta


def check(page: int, limit: int) -> None:
    if page < 1:
        raise Invalid("must be 1 or more", "page")
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"must be 1..{MAX_LIMIT}", "limit")


def page_of(rows: Iterable[Any], page: int, limit: int, count: int | None = None) -> Page:
    """Rows ``(page - 1) * limit`` onwards, at most ``limit`` of them."""
    check(page, limit)
    start = (page - 1) * limit
    if start + limit >= sys.maxsize:  # past the end of any list there can be
        return Page([], page, limit, count, False)
    if count is not None:
        data = list(islice(rows, start, start + limit))
        return Page(data, page, limit, count, start + len(data) < count)
    data = list(islice(rows, start, start + limit + 1))
    return Page(data[:limit], page, limit, None, len(data) > limit)
