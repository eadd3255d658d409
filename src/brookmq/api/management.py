"""The management listener's app (EMQX 4's port 8081): ``/api/v4``, ``/api/v3``, ``/api/v2``
and ``GET /status``; every other path is minirest's 404 ``Not found.`` And the dashboard listener's:
``/api/v5`` with the legacy dialects beside it, where dashboard users log in with Basic too (as
EMQX 4's dashboard)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from brookmq.api.server import BodyLimit
from brookmq.api.v2 import app as v2
from brookmq.api.v3 import app as v3
from brookmq.api.v4 import app as v4
from brookmq.service.services import Services


def create_management_app(services: Services, max_body_size: int) -> ASGIApp:
    async def status(request: Request) -> Response:
        """No credentials; 503 while the broker stops."""
        running = not services.broker.closing
        text = f"Node {services.broker.node_name} is {'started' if running else 'stopped'}\n"
        text += f"brookmq is {'running' if running else 'not_running'}"
        return PlainTextResponse(text, 200 if running else 503)

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Not found.", 404)

    app = Starlette(
        routes=[Route("/status", status, methods=["GET"]), *_dialects(services, users=False)],
        exception_handlers={404: not_found, 405: not_found},
    )
    return BodyLimit(app, max_body_size, _uploads(services))


_DIALECTS = (v4, v3, v2)


def _dialects(services: Services, users: bool) -> list[Mount]:
    return [Mount(dialect.PREFIX, dialect.create_app(services, users=users)) for dialect in _DIALECTS]


def _uploads(services: Services) -> dict[str, Callable[[], int]]:
    """The publish routes take a message of the largest packet."""
    largest = services.publisher.largest_body
    paths = ("/mqtt/publish", "/mqtt/publish_batch")
    return {dialect.PREFIX + path: largest for dialect in _DIALECTS for path in paths}


def with_legacy(v5_app: ASGIApp, services: Services, max_body_size: int) -> ASGIApp:
    """The dashboard listener's app: the legacy dialects' paths to them, the rest to ``v5_app``."""
    legacy = BodyLimit(Starlette(routes=_dialects(services, users=True)), max_body_size, _uploads(services))
    prefixes = tuple(dialect.PREFIX for dialect in _DIALECTS)
    below = tuple(prefix + "/" for prefix in prefixes)

    async def dashboard(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path in prefixes or path.startswith(below):
            await legacy(scope, receive, send)
        else:
            await v5_app(scope, receive, send)

    return dashboard
