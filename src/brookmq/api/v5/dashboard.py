"""``/login``, ``/logout`` and ``/users`` (dashboard users)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict

from brookmq.api.v5.errors import REALM, ApiError
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.errors import BadCredentials, NotAllowed

open_routes = router(tags=["dashboard"])
routes = router(tags=["dashboard"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(_Strict):
    username: str
    password: str


class LoginReply(BaseModel):
    token: str
    version: str
    license: dict[str, str]
    role: str


class NewUser(_Strict):
    username: Any = None
    password: Any = None
    role: Any = "administrator"
    description: Any = ""


class UserUpdate(_Strict):
    role: Any = None
    description: Any = None


class PasswordChange(_Strict):
    old_pwd: Any = None
    new_pwd: Any = None


class Logout(_Strict):
    username: str


class User(BaseModel):
    username: str
    role: str
    description: str
    backend: str = "local"


def _user(doc: dict[str, Any]) -> User:
    return User(**doc)


def _source(request: Request) -> str:
    return request.client.host if request.client is not None else ""


@open_routes.post("/login", response_model=LoginReply, openapi_extra={"security": []})
async def login(body: Login, request: Request) -> LoginReply:
    """Dashboard login: a bearer token for the other routes."""
    svc = services(request)
    try:
        token, role = await svc.users.login(body.username, body.password, _source(request))
    except BadCredentials as exc:
        raise ApiError(401, "BAD_USERNAME_OR_PWD", exc.message) from None
    return LoginReply(token=token, version=svc.version, license={"edition": "opensource"}, role=role)


@routes.post("/logout", status_code=204)
async def logout(body: Logout, request: Request, caller: Authenticated) -> Response:
    """Revoke the token this request carries."""
    if body.username != caller.name:
        raise ApiError(401, "WRONG_TOKEN_OR_USERNAME", "Token and username do not match", REALM)
    services(request).users.logout(caller.token_id)
    return Response(status_code=204)


@routes.get("/users", response_model=list[User])
async def list_users(request: Request, caller: Authenticated) -> list[User]:
    return [_user(doc) for doc in services(request).users.list()]


@routes.post("/users", response_model=User)
async def create_user(body: NewUser, request: Request, caller: Authenticated) -> User:
    users = services(request).users
    return _user(await users.create(body.username, body.password, body.role, body.description))


@routes.put("/users/{username}", response_model=User)
async def update_user(username: str, body: UserUpdate, request: Request, caller: Authenticated) -> User:
    return _user(services(request).users.update(username, body.role, body.description))


@routes.delete("/users/{username}", status_code=204)
async def delete_user(username: str, request: Request, caller: Authenticated) -> Response:
    services(request).users.delete(username, by=caller.name)
    return Response(status_code=204)


@routes.post("/users/{username}/change_pwd", status_code=204)
async def change_password(
    username: str, body: PasswordChange, request: Request, caller: Authenticated
) -> Response:
    try:
        await services(request).users.change_password(username, body.old_pwd, body.new_pwd)
    except NotAllowed as exc:
        raise ApiError(400, "ERROR_PWD_NOT_MATCH", exc.message) from None
    return Response(status_code=204)
