"""The ``/api/v5`` ASGI app: routes, error bodies, the OpenAPI document at
``/api-docs/swagger.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from brookmq.api.server import BodyLimit
from brookmq.api.v5 import (
    api_keys,
    authn,
    authz,
    banned,
    clients,
    configs,
    connectors,
    dashboard,
    error_codes,
    errors,
    listeners,
    mqtt,
    node,
    plugins,
    publish,
    rules,
    status,
    subscriptions,
)
from brookmq.api.v5.security import ENCODED_SEGMENTS, PREFIX
from brookmq.service.services import Services

_JSON_BODY_METHODS = ("POST", "PUT", "PATCH")


class _JsonOnly:
    """A body that is not JSON is refused with 415, before any route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in _JSON_BODY_METHODS
            and scope["path"].startswith(PREFIX)
        ):
            headers = Headers(scope=scope)
            has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            if (
                has_body
                and headers.get("content-type", "").split(";")[0].strip().lower() != "application/json"
            ):
                refusal = errors.error(
                    415, "UNSUPPORTED_MEDIA_TYPE", "content-type:application/json Required"
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _EncodedSlashes:
    """A path segment may carry an encoded ``/`` (``/clients/probe%2Fslash``): the segments are
    decoded after splitting, as EMQX does. Such a segment reaches routing with ``%2F`` (and
    ``%25``) still encoded; ``GuardedRoute`` decodes the path parameters."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") or b""
        if scope["type"] == "http" and b"%2f" in raw.lower():
            segments = raw.decode("ascii", "replace").split("/")
            scope = dict(scope)
            scope["path"] = "/".join(unquote(s).replace("%", "%25").replace("/", "%2F") for s in segments)
            scope[ENCODED_SEGMENTS] = True
        await self.app(scope, receive, send)


def create_app(services: Services, swagger: bool = True, max_body_size: int = 1024 * 1024) -> FastAPI:
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
    for routes in (
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
        authn.routes,
        authz.routes,
        listeners.routes,
        configs.routes,
        rules.routes,
        connectors.routes,
        plugins.routes,
        error_codes.routes,
        status.routes,
    ):
        app.include_router(routes, prefix=PREFIX)
    app.include_router(status.routes, include_in_schema=False)  # GET /status as well

    def openapi() -> dict[str, Any]:
        """The document with paths relative to its server, ``/api/v5``, as EMQX's is."""
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, routes=app.routes, servers=app.servers)
            doc["paths"] = {path.removeprefix(PREFIX): ops for path, ops in doc["paths"].items()}
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    if swagger:
        # Swagger UI 5 (it reads the OpenAPI 3.1 document FastAPI writes) from the files of the
        # swagger-ui-py package: no CDN.
        static = Path(swagger_ui.__file__).parent / "static"
        app.mount("/api-docs/static", StaticFiles(directory=str(static)), name="swagger-ui")

        @app.get("/api-docs", include_in_schema=False)
        async def docs_root() -> Response:
            return RedirectResponse("/api-docs/index.html", status_code=301)

        @app.get("/api-docs/index.html", include_in_schema=False)
        async def docs_ui() -> Response:
            return get_swagger_ui_html(
                openapi_url="/api-docs/swagger.json",
                title="BrookMQ API",
                swagger_js_url="/api-docs/static/swagger-ui-bundle.js",
                swagger_css_url="/api-docs/static/swagger-ui.css",
                swagger_favicon_url="/api-docs/static/favicon-32x32.png",
            )

    app.add_middleware(_JsonOnly)
    app.add_middleware(_EncodedSlashes)

    largest = services.publisher.largest_body
    uploads = {PREFIX + "/publish": largest, PREFIX + "/publish/bulk": largest}
    app.add_middleware(BodyLimit, max_size=max_body_size, larger=uploads)
    return app
