"""The management listener's app (EMQX 4's port 8081): ``/api/v4`` and ``GET /status``; every
other path is minirest's 404 ``Not found.``"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from brookmq.api.server import BodyLimit
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
        routes=[Route("/status", status, methods=["GET"]), Mount(v4.PREFIX, v4.create_app(services))],
        exception_handlers={404: not_found, 405: not_found},
    )
    return BodyLimit(app, max_body_size)
