"""This node: its description, metrics, stats, the monitor's samples and Prometheus names.

BrookMQ is one node; the API's cluster views are built from it alone.

The monitor samples every ``sample_interval`` seconds (10 by default, as EMQX's
``dashboard.sample_interval``) and keeps a day of samples. A
sample holds gauges (connections, subscriptions, topics) and the counters' growth since the
sample before (messages received, sent, dropped, persisted).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import resource
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from brookmq.core.broker import Broker
from brookmq.service.errors import NotFound

DAY = 24 * 3600
_COUNTED = {
    "received": "messages.received",
    "sent": "messages.sent",
    "dropped": "messages.dropped",
    "persisted": "messages.persisted",
}

_RATES = {
    "received": "received_msg_rate",
    "sent": "sent_msg_rate",
    "dropped": "dropped_msg_rate",
    "persisted": "persisted_rate",
}


def _size(n: int) -> str:
    """EMQX's memory strings: ``512.00M``."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def memory_used() -> int:
    """The resident size of this process, in bytes."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def memory_total() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


class Node:
    def __init__(
        self, broker: Broker, version: str, data_dir: str = "", sample_interval: float = 10.0
    ) -> None:
        self.broker = broker
        self.version = version
        self.data_dir = data_dir
        self.sample_interval = sample_interval
        self.samples: deque[dict[str, int]] = deque(maxlen=int(DAY // sample_interval))
        self._last = self._counters()
        self._last_at = time.time()
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.broker.node_name

    def check(self, node: str) -> None:
        if node != self.name:
            raise NotFound(f"Node not found: {node}")

    # ---------------------------------------------------------- description

    def info(self) -> dict[str, Any]:
        broker = self.broker
        load1, load5, load15 = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
        stats = broker.stats.snapshot()
        return {
            "node": self.name,
            "version": self.version,
            "edition": "Opensource",
            "uptime": int(broker.uptime() * 1000),
            "node_status": "stopped" if broker.closing else "running",
            "role": "core",
            "otp_release": f"Python {platform.python_version()}",
            "connections": stats["sessions.count"],
            "live_connections": stats["live_connections.count"],
            "cluster_sessions": stats["cluster_sessions.count"],
            "load1": round(load1, 2),
            "load5": round(load5, 2),
            "load15": round(load15, 2),
            "max_fds": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "memory_total": _size(memory_total()),
            "memory_used": _size(memory_used()),
            "sys_path": self.data_dir,
        }

    def metrics(self) -> dict[str, int]:
        return dict(self.broker.counters)

    def stats(self) -> dict[str, int]:
        return self.broker.stats.snapshot()

    def cluster(self) -> dict[str, Any]:
        return {"name": "brookmq", "nodes": [self.name], "self": self.name}

    # ---------------------------------------------------------- monitor

    def _counters(self) -> dict[str, int]:
        counters = self.broker.counters
        return {key: counters[name] for key, name in _COUNTED.items()}

    def _gauges(self) -> dict[str, int]:
        stats = self.broker.stats.snapshot()
        return {
            "connections": stats["sessions.count"],
            "live_connections": stats["live_connections.count"],
            "subscriptions": stats["subscriptions.count"],
            "topics": stats["topics.count"],
        }

    def sample(self) -> dict[str, int]:
        """Take a sample now: the gauges, and each counter's growth since the last sample."""
        now = time.time()
        counters = self._counters()
        row = {"time_stamp": int(now * 1000), **self._gauges()}
        for key, value in counters.items():
            row[key] = value - self._last[key]
        self._last, self._last_at = counters, now
        self.samples.append(row)
        return row

    def series(self, latest: int | None = None) -> list[dict[str, int]]:
        """The samples, oldest first; with ``latest``, those of the last ``latest`` seconds."""
        if latest is None:
            return list(self.samples)
        since = (time.time() - latest) * 1000
        return [s for s in self.samples if s["time_stamp"] >= since]

    def clear_samples(self) -> None:
        self.samples.clear()

    def current(self) -> dict[str, Any]:
        """Gauges now, and message rates per second since the last sample."""
        elapsed = max(time.time() - self._last_at, 1e-3)
        counters = self._counters()
        stats = self.broker.stats.snapshot()
        row: dict[str, Any] = self._gauges()
        for key, rate in _RATES.items():
            row[rate] = round((counters[key] - self._last[key]) / elapsed, 2)
        row["retained_msg_count"] = stats["retained.count"]
        row["shared_subscriptions"] = stats["subscriptions.shared.count"]
        return row

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sample_every(self.sample_interval))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _sample_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.sample()

    # ---------------------------------------------------------- prometheus

    def prometheus(self) -> dict[str, tuple[str, int | float]]:
        """``{emqx_name: (type, value)}``: stats as gauges, metrics as counters, and the node's."""
        out: dict[str, tuple[str, int | float]] = {}
        for name, value in self.stats().items():
            out["emqx_" + name.replace(".", "_")] = ("gauge", value)
        for name, value in self.metrics().items():
            out["emqx_" + name.replace(".", "_")] = ("counter", value)
        out["emqx_vm_total_memory"] = ("gauge", memory_total())
        out["emqx_vm_used_memory"] = ("gauge", memory_used())
        out["emqx_cluster_nodes_running"] = ("gauge", 0 if self.broker.closing else 1)
        out["emqx_cluster_nodes_stopped"] = ("gauge", 1 if self.broker.closing else 0)
        return out

    def prometheus_text(self) -> str:
        """The Prometheus text exposition (format 0.0.4) of ``prometheus()``."""
        lines = []
        for name, (kind, value) in self.prometheus().items():
            lines.append(f"# TYPE {name} {kind}")
            lines.append(f"{name} {value}")
        return "\n".join(lines) + "\n"
