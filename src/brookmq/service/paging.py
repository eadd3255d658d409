"""Page paging over a list in a stable order: page >= 1, limit 1..10000 (EMQX's rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Any]
    page: int
    limit: int
    count: int | None  # None when counting is not cheap (fuzzy filters)
    hasnext: bool

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"page": self.page, "limit": self.limit}
        if self.count is not None:
            meta["count"] = self.count
        meta["hasnext"] = self.hasnext
        return meta


def page_of(rows: Sequence[Any], page: int, limit: int, counted: bool = True) -> Page:
    start = (page - 1) * limit
    data = list(rows[start : start + limit])
    return Page(data, page, limit, len(rows) if counted else None, start + limit < len(rows))
