"""EMQ 2.x's side of the legacy framework (reference 2.4): ``{"code": 0, "result": ...}``, a
body that is not JSON answered ``{"code": 109}`` with HTTP 200, the realm ``emqx control
center``, and ``curr_page`` / ``page_size`` paging into ``{current_page, page_size, total_num,
total_page, objects}``."""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse

from brookmq.api.legacy.framework import PARAM_TYPE, Call, Dialect, LegacyError, Ok, integer
from brookmq.service.paging import MAX_LIMIT, Page

NOT_JSON = 109


def _envelope(result: Ok) -> dict[str, Any]:
    return {"code": 0, "result": [] if result.data is None else result.data}


# EMQ 2.x took its dashboard users on its API listener: here they log in on every listener.
EMQ2 = Dialect(
    "emqx control center",
    _envelope,
    lambda: JSONResponse({"code": NOT_JSON, "message": "Body not json"}),
    users_everywhere=True,
)


def paging(call: Call) -> tuple[int, int]:
    """``curr_page`` (1) and ``page_size`` (20)."""
    page, size = integer(call, "curr_page", 1), integer(call, "page_size", 20)
    assert page is not None and size is not None
    if page < 1 or not 1 <= size <= MAX_LIMIT:
        raise LegacyError(PARAM_TYPE, f"curr_page must be 1 or more and page_size 1..{MAX_LIMIT}")
    return page, size


def paged(page: Page, rows: list[Any]) -> Ok:
    total = page.count if page.count is not None else len(rows)
    return Ok(
        {
            "current_page": page.page,
            "page_size": page.limit,
            "total_num": total,
            "total_page": math.ceil(total / page.limit) if total else 0,
            "objects": rows,
        }
    )


def objects(rows: list[Any]) -> Ok:
    """A lookup: ``{"objects": [...]}``."""
    return Ok({"objects": rows})
