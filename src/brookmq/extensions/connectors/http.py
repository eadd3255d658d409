"""The HTTP connector and its action (EMQX 5.8's ``http`` connector and webhook action).

A connector is a pool of HTTP connections to one server (``url``), with a health check: a TCP
connection to the server's host and port every ``resource_opts.health_check_interval``; its
``status`` is ``connecting`` until the first check, then ``connected`` or ``disconnected``
(with ``status_reason``), and a disconnected connector raises the alarm
``connector:http:<name>``.

An action sends each rule output as one request (``parameters``: ``path`` appended to the
connector's URL, ``method``, ``headers`` and ``body`` as ``${...}`` templates, ``body`` by
default the whole output as JSON). Sending never blocks the rule: an output is queued, bounded
by ``resource_opts.max_buffer_bytes`` (past it: ``dropped.queue_full``); ``worker_pool_size``
workers send them, each failed request retried up to ``max_retries`` times with a growing
pause, a request older than ``request_ttl`` dropped (``dropped.expired``). A 2xx answer is a
success; anything else after the retries a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from brookmq.core.alarms import Alarms
from brookmq.core.units import parse_bytesize, parse_duration
from brookmq.extensions.rules.actions import Template

log = logging.getLogger("brookmq.connectors")

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Bytes = Annotated[int, BeforeValidator(parse_bytesize), Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorResourceOpts(_Model):
    health_check_interval: Seconds = 15.0
    start_timeout: Seconds = 5.0


class HttpConnectorConf(_Model):
    """EMQX 5.8's ``connectors.http.<name>`` (TLS options are taken and passed to the client)."""

    enable: bool = True
    description: str = ""
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout: Seconds = 15.0
    pool_size: int = Field(default=8, ge=1, le=1024)
    enable_pipelining: int = Field(default=100, ge=1)
    ssl: dict[str, Any] = Field(default_factory=lambda: {"enable": False})
    resource_opts: ConnectorResourceOpts = Field(default_factory=ConnectorResourceOpts)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url


class HttpParameters(_Model):
    path: str = ""
    method: Literal["post", "put", "get", "delete"] = "post"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None  # None: the whole output as JSON
    max_retries: int = Field(default=2, ge=0, le=100)
    request_timeout: Seconds = 15.0


class ActionResourceOpts(_Model):
    worker_pool_size: int = Field(default=16, ge=1, le=1024)
    max_buffer_bytes: Bytes = 256 * 1024 * 1024
    request_ttl: Seconds = 45.0
    inflight_window: int = Field(default=100, ge=1)
    health_check_interval: Seconds = 15.0
    query_mode: Literal["async", "sync"] = "async"


class HttpActionConf(_Model):
    """EMQX 5.8's ``actions.http.<name>``."""

    enable: bool = True
    description: str = ""
    connector: str = Field(min_length=1)
    parameters: HttpParameters = Field(default_factory=HttpParameters)
    resource_opts: ActionResourceOpts = Field(default_factory=ActionResourceOpts)


class HttpConnector:
    def __init__(self, name: str, conf: HttpConnectorConf, alarms: Alarms) -> None:
        self.name = name
        self.conf = conf
        self.alarms = alarms
        self.status = "connecting" if conf.enable else "disconnected"
        self.status_reason: str | None = None if conf.enable else "disabled"
        self.client: httpx.AsyncClient | None = None
        self._checks: asyncio.Task[None] | None = None

    @property
    def alarm(self) -> str:
        return f"connector:http:{self.name}"

    def start(self) -> None:
        if not self.conf.enable or self.client is not None:
            return
        conf = self.conf
        tls = conf.ssl if conf.ssl.get("enable") else {}
        self.client = httpx.AsyncClient(
            headers=conf.headers,
            timeout=httpx.Timeout(15.0, connect=conf.connect_timeout or None),
            limits=httpx.Limits(max_connections=conf.pool_size, max_keepalive_connections=conf.pool_size),
            verify=tls.get("verify", "verify_peer") != "verify_none" if tls else True,
        )
        self.status, self.status_reason = "connecting", None
        self._checks = asyncio.get_running_loop().create_task(self._check_forever())

    async def stop(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
            self._checks = None
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        self.alarms.deactivate(self.alarm)
        self.status, self.status_reason = "disconnected", "stopped"

    async def check(self) -> None:
        """One health check: can a TCP connection to the server be made?"""
        parts = urlsplit(self.conf.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, port), self.conf.connect_timeout or None
            )
        except (OSError, TimeoutError) as exc:
            self._set("disconnected", f"{parts.hostname}:{port}: {exc.__class__.__name__} {exc}".strip())
            return
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        self._set("connected", None)

    def _set(self, status: str, reason: str | None) -> None:
        if status != self.status:
            log.warning("connector http:%s is %s%s", self.name, status, f": {reason}" if reason else "")
        self.status, self.status_reason = status, reason
        if status == "connected":
            self.alarms.deactivate(self.alarm)
        else:
            self.alarms.activate(self.alarm, f"connector http:{self.name} is {status}", {"reason": reason})

    async def _check_forever(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.conf.resource_opts.health_check_interval or 15.0)


METRICS = (
    "matched",
    "success",
    "failed",
    "dropped",
    "dropped.queue_full",
    "dropped.expired",
    "dropped.resource_not_found",
    "dropped.resource_stopped",
    "dropped.other",
    "retried",
    "late_reply",
    "received",
)

Done = Callable[[bool], None]


@dataclass(slots=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    expires_at: float
    done: Done | None


@dataclass(eq=False)
class HttpAction:
    name: str
    conf: HttpActionConf
    connector: HttpConnector | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))
    _queue: deque[_Request] = field(default_factory=deque)
    _queued_bytes: int = 0
    _inflight: int = 0
    _workers: list[asyncio.Task[None]] = field(default_factory=list)
    _wake: asyncio.Event | None = None

    def __post_init__(self) -> None:
        params = self.conf.parameters
        self._path = Template.parse(params.path)
        self._headers = {name: Template.parse(value) for name, value in params.headers.items()}
        self._body = Template.parse(params.body if params.body else "${.}")

    @property
    def status(self) -> str:
        if not self.conf.enable:
            return "disconnected"
        return self.connector.status if self.connector is not None else "disconnected"

    def gauges(self) -> dict[str, int]:
        return {"queuing": len(self._queue), "queuing_bytes": self._queued_bytes, "inflight": self._inflight}

    def start(self) -> None:
        if self._workers or not self.conf.enable:
            return
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._workers = [
            loop.create_task(self._work()) for _ in range(self.conf.resource_opts.worker_pool_size)
        ]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        while self._queue:
            self._drop(self._queue.popleft(), "dropped.resource_stopped")

    def send(self, output: dict[str, Any], done: Done | None = None) -> None:
        """Queue ``output`` as a request; ``done(ok)`` is called once it is answered or given up."""
        counts = self.counts
        counts["matched"] += 1
        if not self._workers or self.connector is None:
            counts["dropped"] += 1
            counts[
                "dropped.resource_stopped" if self.connector is not None else "dropped.resource_not_found"
            ] += 1
            if done is not None:
                done(False)
            return
        body = self._body.render(output).encode()
        if self._queued_bytes + len(body) > self.conf.resource_opts.max_buffer_bytes:
            counts["dropped"] += 1
            counts["dropped.queue_full"] += 1
            if done is not None:
                done(False)
            return
        headers = {name: template.render(output) for name, template in self._headers.items()}
        if "content-type" not in {name.lower() for name in headers}:
            headers["content-type"] = "application/json"
        ttl = self.conf.resource_opts.request_ttl
        request = _Request(
            self.conf.parameters.method.upper(),
            self._path.render(output),
            headers,
            body,
            time.monotonic() + ttl if ttl else 0.0,
            done,
        )
        self._queue.append(request)
        self._queued_bytes += len(body)
        assert self._wake is not None
        self._wake.set()

    def _drop(self, request: _Request, reason: str) -> None:
        self.counts["dropped"] += 1
        self.counts[reason] += 1
        if request.done is not None:
            request.done(False)

    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            request = self._queue.popleft()
            self._queued_bytes -= len(request.body)
            if request.expires_at and time.monotonic() > request.expires_at:
                self._drop(request, "dropped.expired")
                continue
            self._inflight += 1
            try:
                ok = await self._deliver(request)
            finally:
                self._inflight -= 1
            self.counts["success" if ok else "failed"] += 1
            if request.done is not None:
                request.done(ok)

    async def _deliver(self, request: _Request) -> bool:
        connector = self.connector
        if connector is None:
            return False
        params = self.conf.parameters
        url = connector.conf.url.rstrip("/") + ("/" + request.path.lstrip("/") if request.path else "")
        for attempt in range(params.max_retries + 1):
            client = connector.client
            if client is None:
                return False
            if attempt:
                self.counts["retried"] += 1
                await asyncio.sleep(min(0.1 * 2**attempt, 5.0))
            try:
                answer = await client.request(
                    request.method,
                    url,
                    headers=request.headers,
                    content=request.body if request.method not in ("GET", "DELETE") else None,
                    timeout=params.request_timeout or None,
                )
            except httpx.HTTPError as exc:
                log.debug("action http:%s: %s", self.name, exc)
                continue
            self.counts["received"] += 1
            if 200 <= answer.status_code < 300:
                return True
            log.debug("action http:%s: HTTP %d", self.name, answer.status_code)
        return False
