"""Query parameters shared by the listings: page paging, and EMQX's typed filter values."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.times import parse_time
from brookmq.service.errors import Invalid
from brookmq.service.paging import MAX_LIMIT, Page


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    limit: int


def _paging(
    page: Annotated[int, Query(ge=1, description="Page number, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = 100,
) -> Paging:
    return Paging(page, limit)


PageParams = Annotated[Paging, Depends(_paging)]


class Meta(BaseModel):
    page: int
    limit: int
    count: int | None = None
    hasnext: bool


class PageOf(BaseModel):
    """``{data, meta}``; ``meta.count`` is left out when a fuzzy filter makes it costly."""

    data: list[dict[str, Any]]
    meta: Meta


# For the OpenAPI document: the routes return plain dicts, so that null fields of the rows stay
# and ``meta.count`` can be left out.
PAGED: dict[int | str, dict[str, Any]] = {200: {"model": PageOf}}


def envelope(page: Page, data: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"data": page.data if data is None else data, "meta": page.meta()}


def invalid(key: str, kind: str, value: str) -> ApiError:
    message = f"the {key} parameter expected type is {kind}, but the value is {value}"
    return ApiError(400, "INVALID_PARAMETER", message)


def as_int(key: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(key, "integer", value) from None


def as_ip(key: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise invalid(key, "ip", value) from None


def as_epoch(key: str, value: str | None) -> float | None:
    """Epoch milliseconds or RFC 3339, as EMQX's time filters take them; epoch seconds out."""
    if value is None:
        return None
    try:
        return int(value) / 1000
    except ValueError:
        pass
    try:
        parsed = parse_time(value, key)
    except Invalid:
        raise invalid(key, "integer", value) from None
    if parsed is None:
        raise invalid(key, "integer", value)
    return parsed
