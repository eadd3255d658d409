"""EMQX 5's error bodies ``{"code", "message"}`` and the statuses that go with them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from brookmq.service.errors import (
    AlreadyExists,
    BadCredentials,
    NotAllowed,
    NotFound,
    ServiceError,
    UpdateFailed,
)

REALM = {"WWW-Authenticate": 'Basic Realm="emqx-dashboard"'}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


_NOT_FOUND = {
    "client": "CLIENTID_NOT_FOUND",
    "topic": "TOPIC_NOT_FOUND",
    "user": "USER_NOT_FOUND",
    "message_id": "MESSAGE_ID_NOT_FOUND",
    "message": "MESSAGE_NOT_FOUND",
    "listener": "BAD_LISTENER_ID",
}


def service_error(exc: ServiceError) -> ApiError:
    """The usual mapping; a route that needs another code builds its ApiError itself."""
    if isinstance(exc, NotFound):
        return ApiError(404, _NOT_FOUND.get(exc.kind, "NOT_FOUND"), exc.message)
    if isinstance(exc, AlreadyExists):
        return ApiError(400, "ALREADY_EXISTS", exc.message)
    if isinstance(exc, NotAllowed):
        return ApiError(400, "NOT_ALLOWED", exc.message)
    if isinstance(exc, UpdateFailed):
        return ApiError(400, "UPDATE_FAILED", exc.message)
    if isinstance(exc, BadCredentials):
        return ApiError(401, "BAD_USERNAME_OR_PWD", exc.message, REALM)
    return ApiError(400, "BAD_REQUEST", exc.message)  # Invalid


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> Response:
        mapped = service_error(exc)
        return error(mapped.status, mapped.code, mapped.message, mapped.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return error(400, "BAD_REQUEST", "Invalid json message received")
        where = _field(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid request"))
        return error(400, "BAD_REQUEST", f"{where}: {message}" if where else message)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return error(404, "NOT_FOUND", "Request Path Not Found")
        if exc.status_code == 405:
            return Response(status_code=405, headers=exc.headers)
        if exc.status_code == 413:
            return error(413, "PAYLOAD_TOO_LARGE", str(exc.detail))
        return error(exc.status_code, "BAD_REQUEST", str(exc.detail))
