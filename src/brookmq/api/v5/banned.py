"""``/banned`` (EMQX 5's shape) and ``/alarms``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import parse_time, rfc3339, rfc3339_ms
from brookmq.extensions.banned import KINDS
from brookmq.service.errors import AlreadyExists, Invalid, NotFound

routes = router()
Kind = Literal["clientid", "username", "peerhost", "clientid_re", "username_re", "peerhost_net"]
assert set(Kind.__args__) == set(KINDS)  # type: ignore[attr-defined]


def _ban(info: dict[str, Any]) -> dict[str, Any]:
    return {**info, "at": rfc3339(info["at"]), "until": rfc3339(info["until"])}


@routes.get("/banned", responses=PAGED, tags=["Banned"])
async def list_banned(
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    clientid: str | None = None,
    username: str | None = None,
    peerhost: str | None = None,
    like_clientid: Annotated[str | None, Query(description="A regular expression")] = None,
    like_username: Annotated[str | None, Query(description="A regular expression")] = None,
    like_peerhost: Annotated[str | None, Query(description="A regular expression")] = None,
    like_peerhost_net: Annotated[str | None, Query(description="A regular expression")] = None,
) -> dict[str, Any]:
    """Bans that have not expired; at most one filter."""
    filters = {
        "clientid": clientid,
        "username": username,
        "peerhost": peerhost,
        "like_clientid": like_clientid,
        "like_username": like_username,
        "like_peerhost": like_peerhost,
        "like_peerhost_net": like_peerhost_net,
    }
    page = services(request).bans.find(filters, paging.page, paging.limit)
    return envelope(page, [_ban(row) for row in page.data])


class NewBan(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    as_: Kind = Field(alias="as")
    who: str = Field(min_length=1)
    by: str = "mgmt_api"
    reason: str = ""
    at: str | int | float | None = None
    until: str | int | float | None = "infinity"  # null, as EMQX's dashboard sends: forever


@routes.post("/banned", tags=["Banned"])
async def create_ban(body: NewBan, request: Request, caller: Authenticated) -> dict[str, Any]:
    """Ban, and disconnect the connected clients it matches. 400 ``ALREADY_EXISTS`` (the message
    is the existing ban) while the same ban is in force."""
    at = parse_time(body.at, "at") if body.at is not None else None
    try:
        info = services(request).bans.create(
            body.as_, body.who, body.by, body.reason, at, parse_time(body.until, "until")
        )
    except AlreadyExists as exc:
        raise ApiError(400, "ALREADY_EXISTS", exc.message) from None
    return _ban(info)


@routes.delete("/banned/{as_}/{who:path}", status_code=204, tags=["Banned"])
async def delete_ban(as_: Kind, who: str, request: Request, caller: Authenticated) -> Response:
    services(request).bans.delete(as_, who)
    return Response(status_code=204)


@routes.delete("/banned", status_code=204, tags=["Banned"])
async def clear_banned(request: Request, caller: Authenticated) -> Response:
    services(request).bans.clear()
    return Response(status_code=204)


def _alarm(info: dict[str, Any]) -> dict[str, Any]:
    out = {**info, "activate_at": rfc3339_ms(info["activate_at"])}
    if "deactivate_at" in info:
        out["deactivate_at"] = rfc3339_ms(info["deactivate_at"])
    return out


@routes.get("/alarms", responses=PAGED, tags=["Alarms"])
async def list_alarms(
    request: Request, caller: Authenticated, paging: PageParams, activated: bool = True
) -> dict[str, Any]:
    """Active alarms, or (``activated=false``) the history of cleared ones."""
    page = services(request).alarms.find(activated, paging.page, paging.limit)
    return envelope(page, [_alarm(row) for row in page.data])


@routes.delete("/alarms", status_code=204, tags=["Alarms"])
async def clear_alarms(request: Request, caller: Authenticated) -> Response:
    """Forget the cleared alarms; active ones stay."""
    services(request).alarms.clear_history()
    return Response(status_code=204)


class AlarmName(BaseModel):
    name: str | None = None


@routes.post("/alarms/force_deactivate", status_code=204, tags=["Alarms"])
async def force_deactivate(body: AlarmName, request: Request, caller: Authenticated) -> Response:
    try:
        services(request).alarms.force_deactivate(body.name or "")
    except Invalid as exc:
        raise ApiError(400, "INVALID_PARAMETER", exc.message) from None
    except NotFound as exc:
        raise ApiError(400, "NOT_FOUND", exc.message) from None
    return Response(status_code=204)
