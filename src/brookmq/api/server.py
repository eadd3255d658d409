"""The dashboard listener: the API's ASGI app served by uvicorn inside the broker's own event
loop (one process, one loop; the broker handles the signals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("brookmq.api")


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # SIGTERM and SIGINT belong to the broker, which stops this server itself


class DashboardListener:
    """``bind`` is ``host:port``; with ``ssl_context`` it serves HTTPS."""

    def __init__(self, app: FastAPI, bind: str, ssl_context: ssl.SSLContext | None = None) -> None:
        host, _, port = bind.rpartition(":")
        self.host, self.wanted_port = host or "0.0.0.0", int(port)
        self.app = app
        self.ssl_context = ssl_context
        self.port = 0
        self._server: _InLoopServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.create_server((self.host, self.wanted_port), reuse_port=False)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning", access_log=False)
        config.load()
        config.ssl = self.ssl_context  # uvicorn builds its own only from file names; ours has the options
        self._server = _InLoopServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        scheme = "https" if self.ssl_context is not None else "http"
        log.info("dashboard listener (%s) on %s:%d", scheme, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
