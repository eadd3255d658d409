"""The system monitor's alarms, from this machine's real /proc figures."""

from __future__ import annotations

import pytest

from brookmq.core.broker import Broker
from brookmq.extensions.sysmon import CPU_ALARM, MEMORY_ALARM, SystemMonitor, cpu_times, memory_usage

pytestmark = pytest.mark.skipif(memory_usage() is None or cpu_times() is None, reason="needs /proc")


def test_memory_alarm_follows_the_watermark() -> None:
    broker = Broker()
    monitor = SystemMonitor(broker, sysmem_high_watermark=0.0)
    monitor.check_memory()
    alarm = broker.alarms.active[MEMORY_ALARM]
    assert 0 < alarm.details["usage"] <= 100 and alarm.details["high_watermark"] == 0
    monitor.sysmem_high_watermark = 1.01
    monitor.check_memory()
    assert MEMORY_ALARM not in broker.alarms.active


def test_cpu_alarm_has_a_high_and_a_low_watermark() -> None:
    broker = Broker()
    monitor = SystemMonitor(broker, cpu_high_watermark=0.0, cpu_low_watermark=0.0)
    sum(i * i for i in range(300_000))  # let some jiffies pass
    monitor.check_cpu()
    assert CPU_ALARM in broker.alarms.active
    monitor.cpu_high_watermark = 2.0  # between the watermarks: the alarm stays
    sum(i * i for i in range(300_000))
    monitor.check_cpu()
    assert CPU_ALARM in broker.alarms.active
    monitor.cpu_low_watermark = 2.0
    sum(i * i for i in range(300_000))
    monitor.check_cpu()
    assert CPU_ALARM not in broker.alarms.active
