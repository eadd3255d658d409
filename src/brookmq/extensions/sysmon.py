"""System monitoring alarms, like EMQX's ``sysmon.os``: ``high_system_memory_usage`` while the
machine's used memory is at or above ``sysmem_high_watermark``, and ``high_cpu_usage`` from when
CPU use reaches ``cpu_high_watermark`` until it falls below ``cpu_low_watermark``.

Figures come from ``/proc/meminfo`` and ``/proc/stat``; where those do not exist the checks do
not run (logged once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from brookmq.core.broker import Broker

log = logging.getLogger("brookmq.sysmon")
MEMORY_ALARM = "high_system_memory_usage"
CPU_ALARM = "high_cpu_usage"


def memory_usage(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """Used / total memory, 0..1 (MemAvailable counts as free)."""
    try:
        fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
        total = int(fields["MemTotal"].split()[0])
        available = int(fields["MemAvailable"].split()[0])
    except (OSError, KeyError, ValueError):
        return None
    return (total - available) / total if total else None


def cpu_times(stat: Path = Path("/proc/stat")) -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot."""
    try:
        values = [int(v) for v in stat.read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


class SystemMonitor:
    def __init__(
        self,
        broker: Broker,
        mem_check_interval: float = 60.0,
        sysmem_high_watermark: float = 0.7,
        cpu_check_interval: float = 60.0,
        cpu_high_watermark: float = 0.8,
        cpu_low_watermark: float = 0.6,
    ) -> None:
        self.broker = broker
        self.mem_check_interval = mem_check_interval
        self.sysmem_high_watermark = sysmem_high_watermark
        self.cpu_check_interval = cpu_check_interval
        self.cpu_high_watermark = cpu_high_watermark
        self.cpu_low_watermark = cpu_low_watermark
        self._last_cpu = cpu_times()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for interval, check, readable in (
            (self.mem_check_interval, self.check_memory, memory_usage() is not None),
            (self.cpu_check_interval, self.check_cpu, self._last_cpu is not None),
        ):
            if interval and readable:
                self._tasks.append(loop.create_task(self._every(interval, check)))
            elif interval:
                log.info("no /proc here: %s alarms are off", check.__name__.removeprefix("check_"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _every(self, interval: float, check: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(interval)
            check()

    def check_memory(self) -> None:
        usage = memory_usage()
        if usage is None:
            return
        alarms = self.broker.alarms
        if usage >= self.sysmem_high_watermark:
            alarms.activate(
                MEMORY_ALARM,
                f"System memory usage is higher than {self.sysmem_high_watermark:.0%}",
                {
                    "high_watermark": round(self.sysmem_high_watermark * 100, 2),
                    "usage": round(usage * 100, 2),
                },
            )
        else:
            alarms.deactivate(MEMORY_ALARM)

    def check_cpu(self) -> None:
        now = cpu_times()
        if now is None or self._last_cpu is None:
            return
        busy = now[0] - self._last_cpu[0]
        total = now[1] - self._last_cpu[1]
        self._last_cpu = now
        if total <= 0:
            return
        usage = busy / total
        alarms = self.broker.alarms
        if usage >= self.cpu_high_watermark:
            alarms.activate(
                CPU_ALARM,
                f"{usage:.2%} cpu usage",
                {
                    "high_watermark": round(self.cpu_high_watermark * 100, 2),
                    "low_watermark": round(self.cpu_low_watermark * 100, 2),
                    "usage": f"{usage:.2%}",
                },
            )
        elif usage < self.cpu_low_watermark:
            alarms.deactivate(CPU_ALARM)
