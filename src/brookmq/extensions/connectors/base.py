"""What every connector type shares: the settings' building blocks, the status a connector
shows (with its alarm while it is down), and the action that sends rule outputs off the
routing path.

An action never blocks the rule that uses it: an output is prepared at once and queued,
bounded by ``resource_opts.max_buffer_bytes`` (past it ``dropped.queue_full``);
``worker_pool_size`` workers deliver what is queued; one older than ``request_ttl`` is
``dropped.expired``. ``done(ok)`` tells the rule engine how each output ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from brookmq.core.alarms import Alarms
from brookmq.core.units import parse_bytesize, parse_duration
from brookmq.extensions.rates import Rate

log = logging.getLogger("brookmq.connectors")

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Bytes = Annotated[int, BeforeValidator(parse_bytesize), Field(ge=0)]
Done = Callable[[bool], None]


def _host_port(server: str) -> str:
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port")
    return server


HostPort = Annotated[str, AfterValidator(_host_port)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorResourceOpts(Model):
    health_check_interval: Seconds = 15.0
    start_timeout: Seconds = 5.0


class ActionResourceOpts(Model):
    worker_pool_size: int = Field(default=16, ge=1, le=1024)
    max_buffer_bytes: Bytes = 256 * 1024 * 1024
    request_ttl: Seconds = 45.0
    inflight_window: int = Field(default=100, ge=1)
    health_check_interval: Seconds = 15.0
    query_mode: Literal["async", "sync"] = "async"


class Status:
    """``connecting`` until known, then ``connected`` or ``disconnected`` (with the reason);
    while not connected the alarm ``connector:<type>:<name>`` is raised."""

    kind = ""

    def __init__(self, name: str, alarms: Alarms, enable: bool) -> None:
        self.name = name
        self.alarms = alarms
        self.status = "connecting" if enable else "disconnected"
        self.status_reason: str | None = None if enable else "disabled"

    @property
    def alarm(self) -> str:
        return f"connector:{self.kind}:{self.name}"

    def set_status(self, status: str, reason: str | None) -> None:
        if status != self.status:
            log.warning(
                "connector %s:%s is %s%s", self.kind, self.name, status, f": {reason}" if reason else ""
            )
        self.status, self.status_reason = status, reason
        if status == "connected":
            self.alarms.deactivate(self.alarm)
        else:
            self.alarms.activate(
                self.alarm, f"connector {self.kind}:{self.name} is {status}", {"reason": reason}
            )

    def stopped(self) -> None:
        self.alarms.deactivate(self.alarm)
        self.status, self.status_reason = "disconnected", "stopped"


class PolledConnector(Status):
    """A connector with a client (``make_client``, ``close_client``) whose health is
    checked every ``resource_opts.health_check_interval``."""

    def __init__(self, name: str, conf: Any, alarms: Alarms) -> None:
        super().__init__(name, alarms, conf.enable)
        self.conf = conf
        self.client: Any = None
        self._checks: asyncio.Task[None] | None = None

    def make_client(self) -> Any:
        raise NotImplementedError

    async def check(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if not self.conf.enable or self.client is not None:
            return
        self.client = self.make_client()
        self.status, self.status_reason = "connecting", None
        self._checks = asyncio.get_running_loop().create_task(self._check_forever())

    async def close_client(self) -> None:
        await self.client.aclose()

    async def stop(self) -> None:
        await stop_task(self._checks)
        self._checks = None
        if self.client is not None:
            await self.close_client()
            self.client = None
        self.stopped()

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


@dataclass(slots=True)
class Outgoing:
    item: Any  # what the action's deliver() takes
    size: int
    expires_at: float
    done: Done | None


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Channel:
    """An action or a source: it uses a connector by name, and is as up as that connector. Its
    counters start from ``counters`` (``matched`` first), with the rate of ``matched``."""

    kind = ""

    def __init__(
        self, name: str, enable: bool, connector_name: str, connector: Any, counters: tuple[str, ...]
    ) -> None:
        self.name = name
        self.enable = enable
        self.connector_name = connector_name
        self.connector = connector
        self.counts = dict.fromkeys(counters, 0)
        self.rate = Rate()

    def matched(self) -> None:
        self.counts["matched"] += 1
        self.rate.tick(time.monotonic())

    def metrics(self) -> dict[str, Any]:
        """EMQX's figures of an action or a source: counters, gauges and the rate of matches."""
        rate, highest, last5m = self.rate.figures()
        return {**self.counts, **self.gauges(), "rate": rate, "rate_max": highest, "rate_last5m": last5m}

    def reset_metrics(self) -> None:
        self.counts = dict.fromkeys(self.counts, 0)
        self.rate.reset()

    def gauges(self) -> dict[str, int]:
        return {"queuing": 0, "queuing_bytes": 0, "inflight": 0}

    @property
    def status(self) -> str:
        if not self.enable or self.connector is None:
            return "disconnected"
        return str(self.connector.status)


class BufferedAction(Channel):
    """An action: ``prepare`` turns an output into what ``deliver`` sends (and its size)."""

    def __init__(
        self, name: str, enable: bool, connector_name: str, opts: ActionResourceOpts, connector: Any
    ) -> None:
        super().__init__(name, enable, connector_name, connector, METRICS)
        self.opts = opts
        self._queue: deque[Outgoing] = deque()
        self._queued_bytes = 0
        self._inflight = 0
        self._workers: list[asyncio.Task[None]] = []
        self._wake: asyncio.Event | None = None

    # what a type provides
    def prepare(self, output: dict[str, Any]) -> tuple[Any, int]:
        raise NotImplementedError

    async def deliver(self, item: Any) -> bool:
        raise NotImplementedError

    def gauges(self) -> dict[str, int]:
        return {"queuing": len(self._queue), "queuing_bytes": self._queued_bytes, "inflight": self._inflight}

    def start(self) -> None:
        if self._workers or not self.enable:
            return
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._work()) for _ in range(self.opts.worker_pool_size)]

    async def stop(self) -> None:
        for worker in self._workers:
            await stop_task(worker)
        self._workers = []
        while self._queue:
            self._drop(self._queue.popleft(), "dropped.resource_stopped")

    def send(self, output: dict[str, Any], done: Done | None = None) -> None:
        """Queue ``output``; ``done(ok)`` is called once it is delivered or given up."""
        self.matched()
        if not self._workers or self.connector is None:
            reason = (
                "dropped.resource_stopped" if self.connector is not None else "dropped.resource_not_found"
            )
            self._drop(Outgoing(None, 0, 0.0, done), reason)
            return
        try:
            item, size = self.prepare(output)
        except ValueError as exc:
            log.info("action %s:%s cannot send %r: %s", self.kind, self.name, output, exc)
            self._drop(Outgoing(None, 0, 0.0, done), "dropped.other")
            return
        if self._queued_bytes + size > self.opts.max_buffer_bytes:
            self._drop(Outgoing(None, 0, 0.0, done), "dropped.queue_full")
            return
        ttl = self.opts.request_ttl
        self._queue.append(Outgoing(item, size, time.monotonic() + ttl if ttl else 0.0, done))
        self._queued_bytes += size
        assert self._wake is not None
        self._wake.set()

    def _drop(self, outgoing: Outgoing, reason: str) -> None:
        self.counts["dropped"] += 1
        self.counts[reason] += 1
        if outgoing.done is not None:
            outgoing.done(False)

    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            outgoing = self._queue.popleft()
            self._queued_bytes -= outgoing.size
            if outgoing.expires_at and time.monotonic() > outgoing.expires_at:
                self._drop(outgoing, "dropped.expired")
                continue
            self._inflight += 1
            try:
                ok = await self.deliver(outgoing.item)
            except Exception:
                log.exception("action %s:%s failed", self.kind, self.name)
                ok = False
            finally:
                self._inflight -= 1
            self.counts["success" if ok else "failed"] += 1
            if outgoing.done is not None:
                outgoing.done(ok)
