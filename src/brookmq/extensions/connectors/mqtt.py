"""The MQTT connector (EMQX 5.8's ``mqtt`` bridge): a client of another broker, with
actions that publish rule outputs there (egress) and sources that subscribe there and feed the
rules ``FROM "$bridges/mqtt:<source>"`` (ingress).

The client is BrookMQ's own (the sans-IO codec over an asyncio stream): MQTT 3.1.1 or 5
(``proto_ver`` ``v4`` / ``v5``), QoS 0 and 1 both ways (QoS 2 is taken as 1), keep-alive
pings, and reconnection with a growing pause (1 s to 30 s) whenever the connection fails; its
status is ``connected`` once the other broker accepted the CONNECT. Every source's filters are
subscribed again on each connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator

from brookmq.core.alarms import Alarms
from brookmq.extensions.connectors.base import (
    ActionResourceOpts,
    BufferedAction,
    Channel,
    ConnectorResourceOpts,
    HostPort,
    Model,
    Seconds,
    Status,
    log,
    stop_task,
)
from brookmq.extensions.rules.actions import Template, lookup
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode
from brookmq.mqtt.reader import PacketReader
from brookmq.mqtt.topics import matches, topic_filter_problem

_VERSIONS = {"v3": pk.MQTT_3_1, "v4": pk.MQTT_3_1_1, "v5": pk.MQTT_5}


class MqttConnectorConf(Model):
    """EMQX 5.8's ``connectors.mqtt.<name>`` (``pool_size`` is taken: one connection serves)."""

    enable: bool = True
    description: str = ""
    server: HostPort
    clientid_prefix: str = ""
    proto_ver: str = "v4"
    username: str | None = None
    password: str | None = None
    clean_start: bool = True
    keepalive: Seconds = 160.0
    retry_interval: Seconds = 15.0
    max_inflight: int = Field(default=32, ge=1, le=65535)
    bridge_mode: bool = False
    pool_size: int = Field(default=8, ge=1, le=1024)
    ssl: dict[str, Any] = Field(default_factory=lambda: {"enable": False})
    resource_opts: ConnectorResourceOpts = Field(default_factory=ConnectorResourceOpts)

    @field_validator("proto_ver")
    @classmethod
    def _version(cls, version: str) -> str:
        if version not in _VERSIONS:
            raise ValueError(f"must be one of {', '.join(_VERSIONS)}")
        return version


class MqttEgress(Model):
    topic: str = Field(min_length=1)
    qos: int | str = 1
    retain: bool | str = False
    payload: str = ""  # "": the whole output as JSON


class MqttActionConf(Model):
    """EMQX 5.8's ``actions.mqtt.<name>``."""

    enable: bool = True
    description: str = ""
    connector: str = Field(min_length=1)
    parameters: MqttEgress
    resource_opts: ActionResourceOpts = Field(default_factory=ActionResourceOpts)


class MqttIngress(Model):
    topic: str = Field(min_length=1)
    qos: int = Field(default=1, ge=0, le=2)

    @field_validator("topic")
    @classmethod
    def _filter(cls, topic: str) -> str:
        problem = topic_filter_problem(topic)
        if problem:
            raise ValueError(problem)
        return topic


class MqttSourceConf(Model):
    """EMQX 5.8's ``sources.mqtt.<name>``."""

    enable: bool = True
    description: str = ""
    connector: str = Field(min_length=1)
    parameters: MqttIngress
    resource_opts: dict[str, Any] = Field(default_factory=dict)


Received = Callable[[pk.Publish], None]


class MqttConnector(Status):
    kind = "mqtt"

    def __init__(self, name: str, conf: MqttConnectorConf, alarms: Alarms) -> None:
        super().__init__(name, alarms, conf.enable)
        self.conf = conf
        self.version = _VERSIONS[conf.proto_ver]
        self.subscriptions: dict[str, tuple[int, Received]] = {}  # filter: (qos, where it goes)
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._ids = itertools.cycle(range(1, 65536))
        self._acks: dict[int, asyncio.Future[bool]] = {}
        self._connected = asyncio.Event()

    def start(self) -> None:
        if self.conf.enable and self._task is None:
            self.status, self.status_reason = "connecting", None
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        self._lost()
        self.stopped()

    async def check(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout``) for the connection to be made."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._connected.wait()

    # ------------------------------------------------------------ the session

    async def _run(self) -> None:
        pause = 1.0
        while True:
            try:
                await self._session()
                pause = 1.0
            except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
                self.set_status("disconnected", f"{self.conf.server}: {exc.__class__.__name__} {exc}".strip())
            self._lost()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)

    async def _session(self) -> None:
        conf = self.conf
        host, _, port = conf.server.rpartition(":")
        async with asyncio.timeout(10):  # not wait_for: it can swallow a cancellation (Python 3.11)
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
        self._writer = writer
        client_id = f"{conf.clientid_prefix}{self.name}:{self.version}:brookmq"
        password = conf.password.encode() if conf.password is not None else None
        keepalive = int(conf.keepalive)
        self._send(pk.Connect(client_id, self.version, conf.clean_start, keepalive, conf.username, password))
        packets = PacketReader(version=self.version)
        packets.awaiting_connect = False
        async with asyncio.timeout(10):
            connack = await self._next(reader, packets, [])
        if not isinstance(connack, pk.Connack) or connack.reason_code:
            code = getattr(connack, "reason_code", "?")
            raise ConnectionError(f"the broker refused the connection (CONNACK {code})")
        self.set_status("connected", None)
        self._connected.set()
        for topic_filter, (qos, _) in self.subscriptions.items():
            self._send(pk.Subscribe(next(self._ids), [(topic_filter, pk.SubscriptionOptions(qos))]))
        pinger = asyncio.get_running_loop().create_task(self._ping(keepalive))
        pending: list[pk.Packet] = []
        try:
            while True:
                self._handle(await self._next(reader, packets, pending))
        finally:
            pinger.cancel()

    async def _next(
        self, reader: asyncio.StreamReader, packets: PacketReader, pending: list[pk.Packet]
    ) -> Any:
        while not pending:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("closed by the other broker")
            pending.extend(packets.feed(data))
            if packets.error is not None:
                raise ValueError(f"bad packet from the other broker: {packets.error}")
        return pending.pop(0)

    async def _ping(self, keepalive: int) -> None:
        while keepalive:
            await asyncio.sleep(keepalive * 0.75)
            self._send(pk.Pingreq())

    def _handle(self, packet: Any) -> None:
        if isinstance(packet, pk.Publish):
            if packet.qos == 1:
                self._send(pk.Puback(packet.packet_id))
            elif packet.qos == 2:
                self._send(pk.Pubrec(packet.packet_id))
            for topic_filter, (_, received) in self.subscriptions.items():
                if matches(topic_filter, packet.topic):
                    received(packet)
        elif isinstance(packet, pk.Pubrel):
            self._send(pk.Pubcomp(packet.packet_id))
        elif isinstance(packet, pk.Puback):
            done = self._acks.pop(packet.packet_id, None)
            if done is not None and not done.done():
                done.set_result(packet.reason_code < 0x80)

    def _send(self, packet: Any) -> None:
        if self._writer is None:
            raise ConnectionError("not connected")
        self._writer.write(encode(packet, self.version))

    def _lost(self) -> None:
        self._connected.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for done in self._acks.values():
            if not done.done():
                done.set_result(False)
        self._acks.clear()

    # ------------------------------------------------------------ what actions and sources use

    async def publish(self, topic: str, payload: bytes, qos: int, retain: bool, timeout: float) -> bool:
        """Publish on the other broker; True once it is there (QoS 1: acknowledged)."""
        if self._writer is None:
            return False
        qos = min(qos, 1)
        if not qos:
            self._send(pk.Publish(topic, payload, 0, retain))
            return True
        packet_id = next(self._ids)
        done = asyncio.get_running_loop().create_future()
        self._acks[packet_id] = done
        self._send(pk.Publish(topic, payload, 1, retain, packet_id=packet_id))
        try:
            async with asyncio.timeout(timeout or None):
                return await done
        except TimeoutError:
            self._acks.pop(packet_id, None)
            return False

    def subscribe(self, topic_filter: str, qos: int, received: Received) -> None:
        self.subscriptions[topic_filter] = (qos, received)
        if self._writer is not None:
            self._send(pk.Subscribe(next(self._ids), [(topic_filter, pk.SubscriptionOptions(min(qos, 1)))]))

    def unsubscribe(self, topic_filter: str) -> None:
        if self.subscriptions.pop(topic_filter, None) is not None and self._writer is not None:
            self._send(pk.Unsubscribe(next(self._ids), [topic_filter]))


class MqttAction(BufferedAction):
    """Egress: each output published on the other broker at ``parameters.topic`` (a template),
    with ``qos``, ``retain`` and ``payload`` (templates or values; payload "" is the output as
    JSON)."""

    kind = "mqtt"
    connector: MqttConnector | None

    def __init__(self, name: str, conf: MqttActionConf, connector: MqttConnector | None) -> None:
        super().__init__(name, conf.enable, conf.connector, conf.resource_opts, connector)
        self.conf = conf
        params = conf.parameters
        self._topic = Template.parse(params.topic)
        self._payload = Template.parse(params.payload or "${.}")

    @staticmethod
    def _value(setting: Any, output: dict[str, Any], default: Any) -> Any:
        if isinstance(setting, str) and setting.startswith("${") and setting.endswith("}"):
            found = lookup(output, setting[2:-1].strip(".").split("."))
            return default if found is None or not isinstance(found, int | bool | str) else found
        return setting

    def prepare(self, output: dict[str, Any]) -> tuple[tuple[str, bytes, int, bool], int]:
        params = self.conf.parameters
        qos = self._value(params.qos, output, 0)
        qos = int(qos) if str(qos) in ("0", "1", "2") else 0
        retain = self._value(params.retain, output, False) in (True, "true", 1)
        topic = self._topic.render(output)
        if not topic or "+" in topic or "#" in topic:
            raise ValueError(f"{topic!r} is not a topic to publish to")
        payload = self._payload.render(output).encode()
        return (topic, payload, qos, retain), len(payload)

    async def deliver(self, item: tuple[str, bytes, int, bool]) -> bool:
        connector = self.connector
        if connector is None:
            return False
        topic, payload, qos, retain = item
        return await connector.publish(topic, payload, qos, retain, self.opts.request_ttl)


class MqttSource(Channel):
    """Ingress: what the other broker delivers on ``parameters.topic`` goes to the rules that
    select ``FROM "$bridges/mqtt:<name>"``."""

    kind = "mqtt"
    connector: MqttConnector | None

    def __init__(
        self,
        name: str,
        conf: MqttSourceConf,
        connector: MqttConnector | None,
        ingest: Callable[[str, Any], None],
    ) -> None:
        super().__init__(name, conf.enable, conf.connector, connector, ("matched", "received"))
        self.conf = conf
        self.ingest = ingest

    @property
    def topic(self) -> str:
        return f"$bridges/mqtt:{self.name}"

    def start(self) -> None:
        if self.enable and self.connector is not None:
            self.connector.subscribe(self.conf.parameters.topic, self.conf.parameters.qos, self._received)

    async def stop(self) -> None:
        if self.connector is not None:
            self.connector.unsubscribe(self.conf.parameters.topic)

    def _received(self, packet: pk.Publish) -> None:
        self.counts["received"] += 1
        self.matched()
        payload: Any = packet.payload
        with contextlib.suppress(UnicodeDecodeError):
            payload = packet.payload.decode()
        connector = self.connector
        self.ingest(
            self.topic,
            {
                "event": self.topic,
                "id": f"{time.time_ns():X}",
                "topic": packet.topic,
                "qos": packet.qos,
                "retain": packet.retain,
                "dup": packet.dup,
                "payload": payload,
                "pub_props": {"User-Property": dict((packet.properties or {}).get("user_property", ()))},
                "server": connector.conf.server if connector is not None else None,
                "message_received_at": int(time.time() * 1000),
                "timestamp": int(time.time() * 1000),
            },
        )
        log.debug("source mqtt:%s received %s", self.name, packet.topic)
