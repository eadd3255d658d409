"""A connector's password is never shown, and sending the hidden value back keeps it."""

from __future__ import annotations

from brookmq.core.broker import Broker
from brookmq.extensions.connectors.registry import Connectors
from brookmq.service.connectors import HIDDEN, ConnectorsService
from brookmq.storage.memory import MemoryStore


async def test_the_hidden_password_sent_back_keeps_the_password() -> None:
    registry = Connectors(Broker().alarms)
    store = MemoryStore()
    service = ConnectorsService(registry, store.collection("resources"), store.collection("actions"), "n")
    body = {"type": "redis", "name": "r", "server": "127.0.0.1:1", "password": "s3cret", "enable": False}
    shown = await service.create("connector", body)
    assert shown["password"] == HIDDEN and "s3cret" not in str(shown)
    await service.update("connector", "redis:r", {"password": HIDDEN, "database": 3})
    assert store.collection("resources").get("redis:r")["conf"]["password"] == "s3cret"
    await service.update("connector", "redis:r", {"password": "other"})
    assert store.collection("resources").get("redis:r")["conf"]["password"] == "other"
    await registry.stop()
