"""``/status`` (also at the root): is the broker running. No authentication."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from brookmq.api.v5.security import router, services

routes = router(tags=["Status"])


@routes.get("/status", openapi_extra={"security": []})
async def status(request: Request, format: str = "text") -> Response:
    """200 while the broker runs, 503 when it is stopping; ``format=json`` for JSON."""
    broker = services(request).broker
    running = not broker.closing
    code = 200 if running else 503
    headers = {"retry-after": "15"}
    if format == "json":
        body = {
            "node_name": broker.node_name,
            "broker_status": "started" if running else "stopped",
            "app_status": "running" if running else "not_running",
        }
        return JSONResponse(body, status_code=code, headers=headers)
    text = f"Node {broker.node_name} is {'started' if running else 'stopped'}\n"
    text += f"brookmq is {'running' if running else 'not_running'}"
    return PlainTextResponse(text, status_code=code, headers=headers)
