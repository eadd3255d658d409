"""``/authorization``: the sources and their order, the settings, the built-in database's rules
and the cached verdicts. Source and settings changes are kept across restarts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Path, Query, Request, Response
from pydantic import BaseModel

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.errors import AlreadyExists

routes = router(tags=["Authorization"])
Type = Annotated[str, Path(description="built_in_database or file")]
Kind = Literal["users", "clients"]
_WHO: dict[str, Literal["username", "clientid"]] = {"users": "username", "clients": "clientid"}
Json = Annotated[dict[str, Any], Body()]


class SourceRef(BaseModel):
    type: str


class Position(BaseModel):
    position: str  # front, rear, before:<type>, after:<type>


def _conflict(exc: AlreadyExists) -> ApiError:
    return ApiError(409, "ALREADY_EXISTS", exc.message)


@routes.get("/authorization/settings")
async def get_settings(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authz.settings()


@routes.put("/authorization/settings")
async def update_settings(body: Json, request: Request, caller: Authenticated) -> dict[str, Any]:
    """``no_match``, ``deny_action``, ``cache {enable, max_size, ttl}``: the keys given change."""
    return await services(request).authz.update_settings(body)


@routes.delete("/authorization/cache", status_code=204)
async def clean_cache(request: Request, caller: Authenticated) -> Response:
    """Forget every client's cached verdicts."""
    services(request).authz.clean_cache()
    return Response(status_code=204)


@routes.get("/authorization/sources")
async def list_sources(request: Request, caller: Authenticated) -> dict[str, Any]:
    return {"sources": services(request).authz.sources()}


@routes.post("/authorization/sources", status_code=204)
async def create_source(body: Json, request: Request, caller: Authenticated) -> Response:
    """Append a source; 409 ``ALREADY_EXISTS`` when one of its type is there."""
    try:
        await services(request).authz.create_source(body)
    except AlreadyExists as exc:
        raise _conflict(exc) from None
    return Response(status_code=204)


@routes.put("/authorization/sources/order", status_code=204)
async def order_sources(
    request: Request,
    caller: Authenticated,
    body: Annotated[list[SourceRef], Body(description="Every source, in the new order")],
) -> Response:
    await services(request).authz.order_sources([ref.type for ref in body])
    return Response(status_code=204)


# ---------------------------------------------------------------- built-in database rules
# (before /authorization/sources/{type}, whose path would otherwise take them)

RULES = "/authorization/sources/built_in_database/rules"


@routes.delete(RULES, status_code=204)
async def delete_all_rules(request: Request, caller: Authenticated) -> Response:
    services(request).authz.delete_all_rules()
    return Response(status_code=204)


@routes.get(RULES + "/all")
async def rules_for_all(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authz.rules_for_all()


@routes.post(RULES + "/all", status_code=204)
async def set_rules_for_all(body: Json, request: Request, caller: Authenticated) -> Response:
    """``{rules: [{topic, permission, action, qos?, retain?}]}`` replaces the rules for all."""
    services(request).authz.set_rules_for_all(body)
    return Response(status_code=204)


@routes.delete(RULES + "/all", status_code=204)
async def delete_rules_for_all(request: Request, caller: Authenticated) -> Response:
    services(request).authz.delete_rules_for_all()
    return Response(status_code=204)


@routes.get(RULES + "/{kind}", responses=PAGED)
async def list_rules(
    kind: Kind,
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    like_username: Annotated[str | None, Query(description="Substring (users)")] = None,
    like_clientid: Annotated[str | None, Query(description="Substring (clients)")] = None,
) -> dict[str, Any]:
    like = like_username if kind == "users" else like_clientid
    return envelope(services(request).authz.rule_entries(_WHO[kind], like, paging.page, paging.limit))


@routes.post(RULES + "/{kind}", status_code=204)
async def add_rules(
    kind: Kind,
    request: Request,
    caller: Authenticated,
    body: Annotated[list[dict[str, Any]], Body(description="[{username|clientid, rules}]")],
) -> Response:
    """409 ``ALREADY_EXISTS`` when one of them has rules already; 400 past ``max_rules``."""
    try:
        services(request).authz.add_rules(_WHO[kind], body)
    except AlreadyExists as exc:
        raise _conflict(exc) from None
    return Response(status_code=204)


@routes.get(RULES + "/{kind}/{who}")
async def rules_of(kind: Kind, who: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authz.rules_of(_WHO[kind], who)


@routes.put(RULES + "/{kind}/{who}", status_code=204)
async def set_rules_of(kind: Kind, who: str, body: Json, request: Request, caller: Authenticated) -> Response:
    services(request).authz.set_rules_of(_WHO[kind], who, body)
    return Response(status_code=204)


@routes.delete(RULES + "/{kind}/{who}", status_code=204)
async def delete_rules_of(kind: Kind, who: str, request: Request, caller: Authenticated) -> Response:
    services(request).authz.delete_rules_of(_WHO[kind], who)
    return Response(status_code=204)


# ---------------------------------------------------------------- one source


@routes.get("/authorization/sources/{type}")
async def get_source(type: Type, request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authz.source(type)


@routes.put("/authorization/sources/{type}", status_code=204)
async def update_source(type: Type, body: Json, request: Request, caller: Authenticated) -> Response:
    """Replace the source's settings."""
    await services(request).authz.update_source(type, body)
    return Response(status_code=204)


@routes.delete("/authorization/sources/{type}", status_code=204)
async def delete_source(type: Type, request: Request, caller: Authenticated) -> Response:
    await services(request).authz.delete_source(type)
    return Response(status_code=204)


@routes.get("/authorization/sources/{type}/status")
async def source_status(type: Type, request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authz.status(type)


@routes.post("/authorization/sources/{type}/move", status_code=204)
async def move_source(type: Type, body: Position, request: Request, caller: Authenticated) -> Response:
    await services(request).authz.move_source(type, body.position)
    return Response(status_code=204)
