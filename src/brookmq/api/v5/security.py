"""Who calls (``Basic`` = API key, ``Bearer`` = login token) and what their role allows.

Roles (EMQX's RBAC, relative to ``/api/v5``): ``administrator`` everything; ``viewer`` any GET,
``POST /logout`` and its own ``POST /users/<name>/change_pwd``; ``publisher`` (API keys only)
``POST /publish`` and ``/publish/bulk``. API keys never reach ``/api_key``, ``/users`` or
``/logout``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from fastapi.security.http import HTTPBase

from brookmq.api.v5.errors import REALM, ApiError
from brookmq.core.text import unencodable
from brookmq.service.errors import BadCredentials
from brookmq.service.services import Services

PREFIX = "/api/v5"
ENCODED_SEGMENTS = "brookmq.encoded_segments"  # set on a request whose path segments carry %2F
# For the OpenAPI document only: _credentials reads the header itself. (HTTPBasic would answer
# an undecodable header with its own 401 before EMQX's code could be given.)
_basic = HTTPBase(
    scheme="basic", auto_error=False, scheme_name="basicAuth", description="Authorize with API Keys"
)
_bearer = HTTPBearer(auto_error=False, scheme_name="bearerAuth", description="Authorize with a login token")
_KEYS_NOT_ALLOWED = ("/api_key", "/users", "/logout")


@dataclass(frozen=True, slots=True)
class Caller:
    kind: str  # api_key | user
    name: str
    role: str
    token_id: str = ""


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _header_error() -> ApiError:
    return ApiError(401, "AUTHORIZATION_HEADER_ERROR", "Support authorization: basic/bearer ", REALM)


def _credentials(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    path = request.url.path.removeprefix(PREFIX)
    svc = services(request)
    if scheme.lower() == "basic":
        section = next((s for s in _KEYS_NOT_ALLOWED if path == s or path.startswith(s + "/")), None)
        if section is not None:
            message = (
                "Please use bearer Token instead, using API key/secret in "
                f"{section.lstrip('/')} path is not permitted"
            )
            raise ApiError(401, "API_KEY_NOT_ALLOW", message, REALM)
        try:
            key, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _header_error() from None
        if not sep:
            raise _header_error()
        try:
            record = svc.api_keys.verify(key, secret)
        except BadCredentials as exc:
            raise ApiError(401, "BAD_API_KEY_OR_SECRET", exc.message, REALM) from None
        return Caller("api_key", record["name"], record["role"])
    if scheme.lower() == "bearer" and value.strip():
        try:
            user = svc.users.verify(value.strip())
        except BadCredentials as exc:
            code = "TOKEN_TIME_OUT" if exc.kind == "token_expired" else "BAD_TOKEN"
            raise ApiError(401, code, exc.message, REALM) from None
        return Caller("user", user["username"], user["role"], user["token_id"])
    raise _header_error()


def _allowed(caller: Caller, method: str, path: str) -> bool:
    if caller.role == "administrator":
        return True
    if caller.role == "viewer":
        return (
            method in ("GET", "HEAD")
            or (method == "POST" and path == "/logout")
            or (caller.kind == "user" and method == "POST" and path == f"/users/{caller.name}/change_pwd")
        )
    if caller.role == "publisher":
        return caller.kind == "api_key" and method == "POST" and path in ("/publish", "/publish/bulk")
    return False


def _caller(request: Request) -> Caller:
    caller = _credentials(request)
    if not _allowed(caller, request.method, request.url.path.removeprefix(PREFIX)):
        who = "This API Key don't" if caller.kind == "api_key" else "You don't"
        raise ApiError(403, "UNAUTHORIZED_ROLE", f"{who} have permission to access this resource")
    return caller


async def authenticated(
    request: Request,
    _basic_doc: Annotated[object, Depends(_basic)],
    _bearer_doc: Annotated[object, Depends(_bearer)],
) -> Caller:
    """The dependency of every route that needs a caller (the two schemes show in OpenAPI);
    ``GuardedRoute`` found the caller before the body was read."""
    caller: Caller = request.state.caller
    return caller


Authenticated = Annotated[Caller, Depends(authenticated)]


def _needs_caller(dependant: Dependant) -> bool:
    return any(d.call is authenticated or _needs_caller(d) for d in dependant.dependencies)


async def _check_text(request: Request) -> None:
    """Every string in a JSON body must be encodable as UTF-8: a lone surrogate (``"\\ud800"``)
    is refused here, naming the field, before anything stores or publishes it."""
    try:
        body = await request.json()  # cached on the request: FastAPI reads it from there
    except ValueError:
        return  # not JSON: FastAPI answers that itself
    where = unencodable(body)
    if where is not None:
        raise ApiError(400, "BAD_REQUEST", f"{where or 'body'}: is not valid UTF-8 text (a lone surrogate)")


class GuardedRoute(APIRoute):
    """A route whose caller is checked (credentials, then role) before FastAPI reads the
    request body, so an unauthenticated request costs no body parsing; then its body's text.
    Path parameters that arrived with an encoded ``/`` are decoded here."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needs_caller = _needs_caller(self.dependant)
        has_body = self.body_field is not None

        async def guarded(request: Request) -> Response:
            if ENCODED_SEGMENTS in request.scope:
                params = request.scope["path_params"]
                request.scope["path_params"] = {name: unquote(value) for name, value in params.items()}
            if needs_caller:
                request.state.caller = _caller(request)
            if has_body:
                await _check_text(request)
            return await handler(request)

        return guarded


def router(**kwargs: Any) -> APIRouter:
    """The APIRouter of every ``/api/v5`` module."""
    return APIRouter(route_class=GuardedRoute, **kwargs)
