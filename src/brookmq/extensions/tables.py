"""Where extensions keep their records."""

from __future__ import annotations

from brookmq.core.broker import Broker
from brookmq.core.store import Collection
from brookmq.storage.memory import MemoryStore


def collection(broker: Broker, name: str) -> Collection:
    """The broker store's collection ``name``; in memory when the broker has no store."""
    return (broker.store or MemoryStore()).collection(name)
