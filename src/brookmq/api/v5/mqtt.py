"""``/mqtt/retainer`` and ``/mqtt/delayed``: retained and delayed messages."""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import rfc3339_ms
from brookmq.service.errors import Invalid

routes = router()
MAX_SHOWN_PAYLOAD = 1024 * 1024  # a larger payload is left out, as EMQX does
_DELAYED_CODES = {"msgid": "MESSAGE_ID_SCHEMA_ERROR", "node": "INVALID_NODE", "topic": "INVALID_TOPIC_NAME"}


def _message(info: dict[str, Any], payload: bytes | None = None) -> dict[str, Any]:
    out = {**info, "publish_at": rfc3339_ms(info["publish_at"])}
    if "expected_at" in info:
        out["expected_at"] = rfc3339_ms(info["expected_at"])
    if payload is not None:
        if len(payload) > MAX_SHOWN_PAYLOAD:
            out["payload"] = "PAYLOAD_TOO_LARGE"
        else:
            out["payload"] = base64.b64encode(payload).decode()
    return out


@routes.get("/mqtt/retainer", tags=["Retainer"])
async def retainer_config(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).retainer.config()


class RetainerBackend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["built_in_database"] = "built_in_database"
    max_retained_messages: int | None = Field(default=None, ge=0, description="0: no limit")


class RetainerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enable: bool | None = None
    max_payload_size: int | str | None = Field(
        default=None, description='Larger messages are not kept: bytes or "1MB"; 0: no limit'
    )
    backend: RetainerBackend | None = None


@routes.put("/mqtt/retainer", tags=["Retainer"])
async def configure_retainer(body: RetainerConfig, request: Request, caller: Authenticated) -> dict[str, Any]:
    """Change the keys given; the change is kept across restarts. ``enable: false`` keeps and
    sends no retained messages (those kept stay for when it is on again)."""
    return await services(request).retainer.configure(body.model_dump(exclude_none=True))


@routes.get("/mqtt/retainer/messages", responses=PAGED, tags=["Retainer"])
async def retained_messages(
    request: Request, caller: Authenticated, paging: PageParams, topic: str | None = None
) -> dict[str, Any]:
    """Every retained message, or those the ``topic`` filter matches (then no ``count``)."""
    try:
        page = services(request).retainer.find(topic, paging.page, paging.limit)
    except Invalid as exc:
        raise ApiError(400, "BAD_REQUEST", exc.message) from None
    return envelope(page, [_message(m) for m in page.data])


@routes.delete("/mqtt/retainer/messages", status_code=204, tags=["Retainer"])
async def clear_retained(request: Request, caller: Authenticated) -> Response:
    services(request).retainer.clear()
    return Response(status_code=204)


@routes.get("/mqtt/retainer/message/{topic:path}", tags=["Retainer"])
async def retained_message(topic: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    """The first retained message the URL-encoded topic filter matches, with its payload (base64)."""
    try:
        info, payload = services(request).retainer.get(topic)
    except Invalid as exc:
        raise ApiError(400, "BAD_REQUEST", exc.message) from None
    return _message(info, payload)


@routes.delete("/mqtt/retainer/message/{topic:path}", status_code=204, tags=["Retainer"])
async def delete_retained(topic: str, request: Request, caller: Authenticated) -> Response:
    try:
        services(request).retainer.delete(topic)
    except Invalid as exc:
        raise ApiError(400, "BAD_REQUEST", exc.message) from None
    return Response(status_code=204)


class DelayedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enable: bool | None = None
    max_delayed_messages: int | None = None


@routes.get("/mqtt/delayed", tags=["Delayed"])
async def delayed_config(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).delayed.config()


@routes.put("/mqtt/delayed", tags=["Delayed"])
async def configure_delayed(body: DelayedConfig, request: Request, caller: Authenticated) -> dict[str, Any]:
    """Turn delayed publish on or off, and bound how many messages may wait (0: no bound)."""
    return await services(request).delayed.configure(body.enable, body.max_delayed_messages)


@routes.get("/mqtt/delayed/messages", responses=PAGED, tags=["Delayed"])
async def delayed_messages(request: Request, caller: Authenticated, paging: PageParams) -> dict[str, Any]:
    page = services(request).delayed.find(paging.page, paging.limit)
    return envelope(page, [_message(m) for m in page.data])


def _delayed_error(exc: Invalid) -> ApiError:
    return ApiError(400, _DELAYED_CODES.get(exc.field, "BAD_REQUEST"), exc.message)


@routes.get("/mqtt/delayed/messages/{node}/{msgid}", tags=["Delayed"])
async def delayed_message(node: str, msgid: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    try:
        info, payload = services(request).delayed.get(node, msgid)
    except Invalid as exc:
        raise _delayed_error(exc) from None
    return _message(info, payload)


@routes.delete("/mqtt/delayed/messages/{target:path}", status_code=204, tags=["Delayed"])
async def delete_delayed(target: str, request: Request, caller: Authenticated) -> Response:
    """``{node}/{msgid}``: withdraw that message; otherwise ``target`` is a (URL-encoded) topic
    name and every delayed message to it is withdrawn. (Node names have an ``@``.)"""
    node, sep, msgid = target.partition("/")
    try:
        if sep and "@" in node and "/" not in msgid:
            services(request).delayed.delete(node, msgid)
        else:
            services(request).delayed.delete_topic(target)
    except Invalid as exc:
        raise _delayed_error(exc) from None
    return Response(status_code=204)
