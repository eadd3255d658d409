"""The settings tree, with EMQX's key names and defaults."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from brookmq.config.units import PARSERS, parse_duration
from brookmq.core.options import MqttOptions
from brookmq.transport.tcp import parse_bind

Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodeSettings(_Model):
    name: str = "brookmq@127.0.0.1"
    data_dir: str = "./data"


class TcpListenerSettings(_Model):
    enable: bool = True
    bind: str = "0.0.0.0:1883"

    @field_validator("bind", mode="before")
    @classmethod
    def _bind(cls, value: Any) -> str:
        host, port = parse_bind(value)
        return f"{host}:{port}"


class ListenersSettings(_Model):
    tcp: dict[str, TcpListenerSettings] = Field(default_factory=lambda: {"default": TcpListenerSettings()})


class SysEventSettings(_Model):
    client_connected: bool = True
    client_disconnected: bool = True


class SysTopicsSettings(_Model):
    sys_msg_interval: Duration = 60.0
    sys_heartbeat_interval: Duration = 30.0
    sys_event_messages: SysEventSettings = Field(default_factory=SysEventSettings)


class LogSettings(_Model):
    level: Literal["debug", "info", "warning", "error", "critical"] = "info"


class Settings(_Model):
    node: NodeSettings = Field(default_factory=NodeSettings)
    mqtt: MqttOptions = Field(default_factory=MqttOptions)
    listeners: ListenersSettings = Field(default_factory=ListenersSettings)
    sys_topics: SysTopicsSettings = Field(default_factory=SysTopicsSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @model_validator(mode="before")
    @classmethod
    def _mqtt_units(cls, data: Any) -> Any:
        """Read durations and byte sizes of ``mqtt.*`` by the unit each field declares."""
        mqtt = data.get("mqtt") if isinstance(data, dict) else None
        if isinstance(mqtt, dict):
            mqtt = dict(mqtt)
            known = {f.name: f for f in dataclasses.fields(MqttOptions)}
            for key, value in mqtt.items():
                unit = known[key].metadata.get("unit") if key in known else None
                if unit:
                    mqtt[key] = PARSERS[unit](value)
            data = {**data, "mqtt": mqtt}
        return data
