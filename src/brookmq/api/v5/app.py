"""The ``/api/v5`` ASGI app: routes, error bodies, the OpenAPI document at
``/api-docs/swagger.json``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from brookmq.api.v5 import (
    api_keys,
    banned,
    clients,
    dashboard,
    error_codes,
    errors,
    mqtt,
    node,
    publish,
    status,
    subscriptions,
)
from brookmq.api.v5.security import PREFIX
from brookmq.service.services import Services

_JSON_BODY_METHODS = ("POST", "PUT", "PATCH")


def create_app(services: Services, swagger: bool = True) -> FastAPI:
    app = FastAPI(
        title="BrookMQ API",
        version=services.version,
        openapi_url="/api-docs/swagger.json" if swagger else None,
        docs_url=None,
        redoc_url=None,
        servers=[{"url": PREFIX}],
    )
    app.state.services = services
    errors.install(app)
    for router in (
        dashboard.open_routes,
        dashboard.routes,
        api_keys.routes,
        clients.routes,
        subscriptions.routes,
        publish.routes,
        node.routes,
        node.open_routes,
        banned.routes,
        mqtt.routes,
        error_codes.routes,
        status.routes,
    ):
        app.include_router(router, prefix=PREFIX)
    app.include_router(status.routes, include_in_schema=False)  # GET /status as well

    if swagger:

        @app.get("/api-docs", include_in_schema=False)
        async def docs_root() -> Response:
            return RedirectResponse("/api-docs/index.html", status_code=301)

    @app.middleware("http")
    async def json_only(request: Request, call_next: Any) -> Response:
        """A body that is not JSON is refused with 415, before any route sees it."""
        if request.method in _JSON_BODY_METHODS and request.url.path.startswith(PREFIX):
            kind = request.headers.get("content-type", "")
            has_body = (
                request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
            )
            if has_body and kind.split(";")[0].strip().lower() != "application/json":
                return errors.error(415, "UNSUPPORTED_MEDIA_TYPE", "content-type:application/json Required")
        response: Response = await call_next(request)
        return response

    return app
