"""``/api_key``: API keys; the secret is in the create reply only."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict

from brookmq.api.v5.errors import ApiError, service_error
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import parse_time, rfc3339
from brookmq.service.api_keys import UNSET
from brookmq.service.errors import AlreadyExists, ServiceError

routes = router(tags=["API Keys"])


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    desc: Any = ""
    enable: Any = True
    expired_at: Any = "infinity"
    role: Any = "administrator"


class KeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    desc: Any = None
    enable: Any = None
    expired_at: Any = "infinity"
    role: Any = None


class Key(BaseModel):
    name: str
    api_key: str
    enable: bool
    expired: bool
    expired_at: str
    created_at: str
    desc: str
    role: str
    api_secret: str | None = None


def _key(doc: dict[str, Any]) -> Key:
    return Key(**{**doc, "expired_at": rfc3339(doc["expired_at"]), "created_at": rfc3339(doc["created_at"])})


@routes.get("/api_key", response_model=list[Key], response_model_exclude_none=True)
async def list_keys(request: Request, caller: Authenticated) -> list[Key]:
    return [_key(doc) for doc in services(request).api_keys.list()]


@routes.post("/api_key", response_model=Key, response_model_exclude_none=True)
async def create_key(body: NewKey, request: Request, caller: Authenticated) -> Key:
    """A new key; its ``api_secret`` is shown this once."""
    try:
        doc = services(request).api_keys.create(
            body.name, body.desc, body.enable, parse_time(body.expired_at, "expired_at"), body.role
        )
    except AlreadyExists as exc:
        raise ApiError(400, "BAD_REQUEST", exc.message) from None
    return _key(doc)


@routes.get("/api_key/{name}", response_model=Key, response_model_exclude_none=True)
async def get_key(name: str, request: Request, caller: Authenticated) -> Key:
    try:
        return _key(services(request).api_keys.get(name))
    except ServiceError as exc:
        raise service_error(exc) from None


@routes.put("/api_key/{name}", response_model=Key, response_model_exclude_none=True)
async def update_key(name: str, body: KeyUpdate, request: Request, caller: Authenticated) -> Key:
    """Omitted ``desc``/``enable``/``role`` stay as they are; an omitted ``expired_at`` is infinity."""
    try:
        doc = services(request).api_keys.update(
            name,
            UNSET if body.desc is None else body.desc,
            UNSET if body.enable is None else body.enable,
            parse_time(body.expired_at, "expired_at"),
            UNSET if body.role is None else body.role,
        )
    except ServiceError as exc:
        raise service_error(exc) from None
    return _key(doc)


@routes.delete("/api_key/{name}", status_code=204)
async def delete_key(name: str, request: Request, caller: Authenticated) -> Response:
    try:
        services(request).api_keys.delete(name)
    except ServiceError as exc:
        raise service_error(exc) from None
    return Response(status_code=204)
