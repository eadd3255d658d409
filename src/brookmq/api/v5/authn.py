"""``/authentication``: the authenticators of the chain (created, changed, moved and removed at
run time, kept across restarts), their status, and built-in database users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.errors import AlreadyExists

routes = router(tags=["Authentication"])


class AuthenticatorRef(BaseModel):
    id: str


Id = Annotated[str, Path(description="e.g. password_based:built_in_database")]


@routes.get("/authentication")
async def list_authenticators(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return services(request).authn.authenticators()


Config = Annotated[dict[str, Any], Body(description="An authenticator's settings (docs/access-control.md)")]


@routes.post("/authentication")
async def create_authenticator(body: Config, request: Request, caller: Authenticated) -> dict[str, Any]:
    """Append it to the chain; 409 ``ALREADY_EXISTS`` when one of its kind is there."""
    try:
        return await services(request).authn.create(body)
    except AlreadyExists as exc:
        raise ApiError(409, "ALREADY_EXISTS", exc.message) from None


@routes.put("/authentication/order", status_code=204)
async def order_authenticators(
    request: Request,
    caller: Authenticated,
    body: Annotated[list[AuthenticatorRef], Body(description="Every authenticator, in the new order")],
) -> Response:
    await services(request).authn.order([ref.id for ref in body])
    return Response(status_code=204)


@routes.get("/authentication/{id}")
async def get_authenticator(id: Id, request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authn.get(id)


@routes.put("/authentication/{id}")
async def update_authenticator(
    id: Id, body: Config, request: Request, caller: Authenticated
) -> dict[str, Any]:
    """Replace its settings; a secret sent back as ``******`` is kept."""
    return await services(request).authn.update(id, body)


@routes.delete("/authentication/{id}", status_code=204)
async def delete_authenticator(id: Id, request: Request, caller: Authenticated) -> Response:
    """Out of the chain; a built-in database's users stay in the store for when it comes back."""
    await services(request).authn.delete(id)
    return Response(status_code=204)


@routes.put("/authentication/{id}/position/{position}", status_code=204)
async def move_authenticator(
    id: Id,
    position: Annotated[str, Path(description="front, rear, before:<id> or after:<id>")],
    request: Request,
    caller: Authenticated,
) -> Response:
    await services(request).authn.move(id, position)
    return Response(status_code=204)


@routes.get("/authentication/{id}/status")
async def authenticator_status(id: Id, request: Request, caller: Authenticated) -> dict[str, Any]:
    """``{metrics: {total, success, failed, nomatch}, status}``."""
    return services(request).authn.status(id)


@routes.get("/authentication/{id}/users", responses=PAGED)
async def list_users(
    id: Id,
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    like_user_id: Annotated[str | None, Query(description="Substring")] = None,
    is_superuser: bool | None = None,
) -> dict[str, Any]:
    return envelope(services(request).authn.users(id, like_user_id, is_superuser, paging.page, paging.limit))


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1)
    password: str
    is_superuser: bool = False


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str | None = None
    is_superuser: bool | None = None


class User(BaseModel):
    user_id: str
    is_superuser: bool


@routes.post("/authentication/{id}/users", status_code=201, response_model=User)
async def add_user(id: Id, body: NewUser, request: Request, caller: Authenticated) -> dict[str, Any]:
    """201; 409 ``ALREADY_EXISTS`` for a user that exists."""
    try:
        return await services(request).authn.add_user(id, body.user_id, body.password, body.is_superuser)
    except AlreadyExists as exc:
        raise ApiError(409, "ALREADY_EXISTS", exc.message) from None


@routes.get("/authentication/{id}/users/{user_id}", response_model=User)
async def get_user(id: Id, user_id: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).authn.user(id, user_id)


@routes.put("/authentication/{id}/users/{user_id}", response_model=User)
async def update_user(
    id: Id, user_id: str, body: UserUpdate, request: Request, caller: Authenticated
) -> dict[str, Any]:
    return await services(request).authn.update_user(id, user_id, body.password, body.is_superuser)


@routes.delete("/authentication/{id}/users/{user_id}", status_code=204)
async def delete_user(id: Id, user_id: str, request: Request, caller: Authenticated) -> Response:
    services(request).authn.delete_user(id, user_id)
    return Response(status_code=204)
