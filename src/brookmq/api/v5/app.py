"""The ``/api/v5`` ASGI app: routes, error bodies, the OpenAPI document at
``/api-docs/swagger.json``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from brookmq.api.v5 import (
    api_keys,
    authn,
    authz,
    banned,
    clients,
    configs,
    dashboard,
    error_codes,
    errors,
    listeners,
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
        authn.routes,
        authz.routes,
        listeners.routes,
        configs.routes,
        error_codes.routes,
        status.routes,
    ):
        app.include_router(router, prefix=PREFIX)
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
        # Swagger UI from the files of the swagger-ui-bundle package: no CDN.
        app.mount("/api-docs/static", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

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
