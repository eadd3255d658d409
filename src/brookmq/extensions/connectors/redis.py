"""The Redis connector and its action (EMQX 5.8's ``redis`` data integration, single server):
the connector is a pool of connections (redis-py's asyncio client) checked with ``PING``
every ``resource_opts.health_check_interval``; the action runs one command per rule output,
``parameters.command_template`` (``["HSET", "${clientid}", "temp", "${payload.temp}"]``),
each element a template."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import redis.asyncio as aioredis
from pydantic import Field
from redis.exceptions import RedisError

from brookmq.extensions.connectors.base import (
    ActionResourceOpts,
    BufferedAction,
    ConnectorResourceOpts,
    HostPort,
    Model,
    PolledConnector,
    log,
)
from brookmq.extensions.rules.actions import Template


class RedisConnectorConf(Model):
    enable: bool = True
    description: str = ""
    redis_type: Literal["single"] = "single"
    server: HostPort
    database: int = Field(default=0, ge=0)
    username: str | None = None
    password: str | None = None
    pool_size: int = Field(default=8, ge=1, le=1024)
    ssl: dict[str, Any] = Field(default_factory=lambda: {"enable": False})
    resource_opts: ConnectorResourceOpts = Field(default_factory=ConnectorResourceOpts)


class RedisParameters(Model):
    command_template: list[str] = Field(min_length=1)


class RedisActionConf(Model):
    enable: bool = True
    description: str = ""
    connector: str = Field(min_length=1)
    parameters: RedisParameters
    resource_opts: ActionResourceOpts = Field(default_factory=ActionResourceOpts)


class RedisConnector(PolledConnector):
    kind = "redis"
    conf: RedisConnectorConf
    client: aioredis.Redis | None

    def make_client(self) -> aioredis.Redis:
        conf = self.conf
        host, _, port = conf.server.rpartition(":")
        return aioredis.Redis(
            host=host,
            port=int(port),
            db=conf.database,
            username=conf.username,
            password=conf.password,
            max_connections=conf.pool_size,
            socket_connect_timeout=5,
            socket_timeout=15,
        )

    async def check(self) -> None:
        if self.client is None:
            return
        try:
            async with asyncio.timeout(5):
                await self.client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            self.set_status("disconnected", f"{self.conf.server}: {exc.__class__.__name__} {exc}".strip())
        else:
            self.set_status("connected", None)


class RedisAction(BufferedAction):
    kind = "redis"
    connector: RedisConnector | None

    def __init__(self, name: str, conf: RedisActionConf, connector: RedisConnector | None) -> None:
        super().__init__(name, conf.enable, conf.connector, conf.resource_opts, connector)
        self.conf = conf
        self._command = [Template.parse(part) for part in conf.parameters.command_template]

    def prepare(self, output: dict[str, Any]) -> tuple[list[str], int]:
        command = [part.render(output) for part in self._command]
        return command, sum(len(part) for part in command)

    async def deliver(self, command: list[str]) -> bool:
        connector = self.connector
        if connector is None or connector.client is None:
            return False
        try:
            await connector.client.execute_command(*command)
        except (RedisError, OSError) as exc:
            log.debug("action redis:%s: %s", self.name, exc)
            return False
        self.counts["received"] += 1
        return True
