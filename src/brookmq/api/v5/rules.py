"""``/rules``, ``/rule_test``, ``/rule_events`` and ``/rule_engine`` in EMQX 5.8's shapes."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import Body, Request, Response
from fastapi.responses import JSONResponse

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import rfc3339_ms
from brookmq.service.rules import NotMatched, Rules

routes = router()
TAGS: list[str | Enum] = ["Rules"]
JsonBody = Annotated[Any, Body()]


def _rule(info: dict[str, Any]) -> dict[str, Any]:
    return {
        **info,
        "created_at": rfc3339_ms(info["created_at"]),
        "last_modified_at": rfc3339_ms(info["last_modified_at"]),
    }


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BAD_REQUEST", "the body must be a rule object")
    return body


@routes.get("/rules", responses=PAGED, tags=TAGS)
async def list_rules(
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    enable: bool | None = None,
    from_: str | None = None,
    like_id: str | None = None,
    like_from: str | None = None,
    match_from: str | None = None,
    action: str | None = None,
    like_description: str | None = None,
) -> dict[str, Any]:
    """Newest first; ``from`` is the exact source, ``like_*`` substrings, ``match_from`` a filter
    the sources match."""
    filters = {
        "enable": enable,
        "from": request.query_params.get("from", from_),
        "like_id": like_id,
        "like_from": like_from,
        "match_from": match_from,
        "action": action,
        "like_description": like_description,
    }
    page = services(request).rules.find(filters, paging.page, paging.limit)
    return envelope(page, [_rule(row) for row in page.data])


@routes.post("/rules", status_code=201, tags=TAGS)
async def create_rule(request: Request, caller: Authenticated, body: JsonBody) -> dict[str, Any]:
    """``{id?, name, sql, actions, enable, description, metadata}``; a bad SQL answers 400 with
    where it went wrong."""
    return _rule(services(request).rules.create(_body(body)))


@routes.get("/rules/{rule_id}", tags=TAGS)
async def get_rule(rule_id: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return _rule(services(request).rules.get(rule_id))


@routes.put("/rules/{rule_id}", tags=TAGS)
async def update_rule(
    rule_id: str, request: Request, caller: Authenticated, body: JsonBody
) -> dict[str, Any]:
    """The fields given replace the rule's; the metrics stay."""
    return _rule(services(request).rules.update(rule_id, _body(body)))


@routes.delete("/rules/{rule_id}", status_code=204, tags=TAGS)
async def delete_rule(rule_id: str, request: Request, caller: Authenticated) -> Response:
    services(request).rules.delete(rule_id)
    return Response(status_code=204)


@routes.get("/rules/{rule_id}/metrics", tags=TAGS)
async def rule_metrics(rule_id: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).rules.metrics(rule_id)


@routes.put("/rules/{rule_id}/metrics/reset", status_code=204, tags=TAGS)
async def reset_rule_metrics(rule_id: str, request: Request, caller: Authenticated) -> Response:
    services(request).rules.reset_metrics(rule_id)
    return Response(status_code=204)


def _tested(rules: Rules, sql: Any, context: Any) -> Any:
    try:
        return rules.test(sql, context)
    except NotMatched:
        raise ApiError(412, "NOT_MATCH", "SQL Not Match") from None


@routes.post("/rule_test", tags=TAGS)
async def rule_test(request: Request, caller: Authenticated, body: JsonBody) -> Any:
    """``{sql, context: {event_type, clientid, topic, payload, ...}}``: what the SQL selects;
    412 ``NOT_MATCH`` when nothing."""
    body = _body(body)
    return JSONResponse(_tested(services(request).rules, body.get("sql"), body.get("context")))


@routes.post("/rules/{rule_id}/test", tags=TAGS)
async def test_rule(rule_id: str, request: Request, caller: Authenticated, body: JsonBody) -> Any:
    """This rule's SQL on ``{context}``."""
    rule = services(request).rules.get(rule_id)
    return JSONResponse(_tested(services(request).rules, rule["sql"], _body(body).get("context")))


@routes.get("/rule_events", tags=TAGS)
async def rule_events(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return services(request).rules.events()


@routes.get("/rule_engine", tags=TAGS)
async def get_rule_engine(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).configs.get("rule_engine")


@routes.put("/rule_engine", tags=TAGS)
async def put_rule_engine(request: Request, caller: Authenticated, body: JsonBody) -> dict[str, Any]:
    """``{ignore_sys_message, max_pending}``: live, and kept across restarts."""
    return await services(request).configs.update("rule_engine", _body(body))
