"""``/publish`` and ``/publish/bulk``: messages from ``http_api``.

200 ``{id}`` when a subscriber got it, 202 ``{reason_code: 16}`` when nobody did, 400
``{reason_code, message}`` when the message is refused. A batch is checked whole first.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from brookmq.api.v5.security import Authenticated, Caller, router, services
from brookmq.core.message import Message
from brookmq.service.publish import Outcome, Refused

routes = router(tags=["Publish"])


class Properties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload_format_indicator: int | None = Field(None, ge=0, le=1)
    message_expiry_interval: int | None = Field(None, ge=0, le=0xFFFFFFFF)
    response_topic: str | None = None
    correlation_data: str | None = None
    user_properties: dict[str, str] | None = None
    content_type: str | None = None


class PublishBody(BaseModel):
    topic: str
    payload: str
    payload_encoding: Literal["plain", "base64"] = "plain"
    qos: int = Field(0, ge=0, le=2)
    retain: bool = False
    properties: Properties | None = None
    clientid: str | None = Field(None, description="Deprecated; ignored")


class Published(BaseModel):
    id: str | None = None
    reason_code: int | None = None
    message: str | None = None


def _prepare(request: Request, caller: Caller, body: PublishBody) -> Message:
    props = body.properties.model_dump(exclude_none=True) if body.properties else None
    return services(request).publisher.prepare(
        body.topic,
        body.payload,
        body.payload_encoding,
        body.qos,
        body.retain,
        props,
        system=caller.role == "administrator",  # publisher keys may not pose as the broker
    )


def _refused(exc: Refused) -> JSONResponse:
    return JSONResponse({"reason_code": exc.reason_code, "message": exc.message}, status_code=400)


def _reply(outcome: Outcome) -> dict[str, Any]:
    if outcome.id is not None:
        return {"id": outcome.id}
    return {"reason_code": outcome.reason_code, "message": outcome.message}


@routes.post(
    "/publish",
    response_model=Published,
    response_model_exclude_none=True,
    responses={202: {"model": Published}, 400: {"model": Published}},
)
async def publish(body: PublishBody, request: Request, caller: Authenticated) -> Any:
    try:
        message = _prepare(request, caller, body)
    except Refused as exc:
        return _refused(exc)
    outcome = services(request).publisher.publish(message)
    return JSONResponse(_reply(outcome), status_code=200 if outcome.id else 202)


@routes.post(
    "/publish/bulk",
    response_model=list[Published],
    response_model_exclude_none=True,
    responses={202: {"model": list[Published]}, 400: {"model": Published}},
)
async def publish_bulk(body: list[PublishBody], request: Request, caller: Authenticated) -> Any:
    """All or nothing: one refused message refuses the batch and nothing is published."""
    if not body:
        return JSONResponse({"code": "BAD_REQUEST", "message": "body: at least one message"}, 400)
    try:
        messages = [_prepare(request, caller, item) for item in body]
    except Refused as exc:
        return _refused(exc)
    outcomes = [services(request).publisher.publish(m) for m in messages]
    status = 200 if all(o.id for o in outcomes) else 202
    return JSONResponse([_reply(o) for o in outcomes], status_code=status)
