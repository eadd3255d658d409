from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from brookmq.core.broker import Broker
from brookmq.core.clock import ManualClock
from brookmq.core.options import MqttOptions
from brookmq.mqtt import packets as pk
from tests.memory import MemoryClient

VERSIONS = [pytest.param(pk.MQTT_3_1_1, id="v311"), pytest.param(pk.MQTT_5, id="v5")]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_broker(clock: ManualClock) -> Callable[..., Broker]:
    def make(**options: Any) -> Broker:
        return Broker(MqttOptions(**options), clock=clock)

    return make


@pytest.fixture
async def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker()


@pytest.fixture
def client(broker: Broker) -> Callable[..., MemoryClient]:
    """A factory of connected in-memory clients: client("id", version=5, **connect_kwargs)."""

    def make(client_id: str = "c", version: int = pk.MQTT_5, **kwargs: Any) -> MemoryClient:
        c = MemoryClient(broker, version)
        ack = c.connect(client_id, **kwargs)
        assert ack.reason_code == 0, ack
        return c

    return make
