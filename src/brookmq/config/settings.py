"""The settings tree, with EMQX's key names and defaults."""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from brookmq.config.units import apply_units, parse_duration
from brookmq.core.options import MqttOptions
from brookmq.extensions.authn import PasswordHash
from brookmq.transport.options import LISTENER_TYPES, ListenerOptions

Duration = Annotated[float, BeforeValidator(parse_duration)]
_MQTT = TypeAdapter(MqttOptions)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodeSettings(_Model):
    name: str = "brookmq@127.0.0.1"
    data_dir: str = "./data"


class ListenersSettings(_Model):
    """``listeners.<type>.<name>``; each type has a ``default`` listener unless disabled."""

    tcp: dict[str, ListenerOptions] = Field(default_factory=dict)
    ssl: dict[str, ListenerOptions] = Field(default_factory=dict)
    ws: dict[str, ListenerOptions] = Field(default_factory=dict)
    wss: dict[str, ListenerOptions] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        data = dict(data) if isinstance(data, dict) else {}
        for kind in LISTENER_TYPES:
            named = data.get(kind)
            named = {"default": {}, **(named if isinstance(named, dict) else {})}
            data[kind] = {name: apply_units(conf, ListenerOptions) for name, conf in named.items()}
        return data

    def as_dict(self) -> dict[str, dict[str, ListenerOptions]]:
        return {kind: getattr(self, kind) for kind in LISTENER_TYPES}


class SysEventSettings(_Model):
    client_connected: bool = True
    client_disconnected: bool = True


class SysTopicsSettings(_Model):
    sys_msg_interval: Duration = 60.0
    sys_heartbeat_interval: Duration = 30.0
    sys_event_messages: SysEventSettings = Field(default_factory=SysEventSettings)


class DurabilitySettings(_Model):
    """What the SQLite store in ``node.data_dir`` guarantees; see docs/persistence.md."""

    enable: bool = True
    ack: Literal["after_commit", "immediate"] = "after_commit"
    flush_interval: Duration = Field(default=0.01, gt=0)
    batch_size: int = Field(default=10_000, ge=1)
    synchronous: Literal["normal", "full"] = "normal"


class DelayedSettings(_Model):
    enable: bool = True
    max_delayed_messages: int = Field(default=0, ge=0)


class AuthenticatorSettings(_Model):
    """One entry of ``authentication`` (EMQX's authenticator config)."""

    mechanism: Literal["password_based"] = "password_based"
    backend: Literal["built_in_database"] = "built_in_database"
    enable: bool = True
    user_id_type: Literal["username", "clientid"] = "username"
    password_hash_algorithm: PasswordHash = Field(default_factory=PasswordHash)


class FlappingSettings(_Model):
    """``flapping_detect``: ban a client id that disconnects too often (EMQX's defaults)."""

    enable: bool = False
    max_count: int = Field(default=15, ge=1)
    window_time: Duration = Field(default=60.0, gt=0)
    ban_time: Duration = Field(default=300.0, gt=0)


class LogSettings(_Model):
    level: Literal["debug", "info", "warning", "error", "critical"] = "info"


class ZoneSettings(_Model):
    """``zones.<name>``: overrides of ``mqtt.*`` for the listeners that name this zone."""

    mqtt: dict[str, Any] = Field(default_factory=dict)


class Settings(_Model):
    node: NodeSettings = Field(default_factory=NodeSettings)
    mqtt: MqttOptions = Field(default_factory=MqttOptions)
    listeners: ListenersSettings = Field(default_factory=ListenersSettings)
    zones: dict[str, ZoneSettings] = Field(default_factory=dict)
    sys_topics: SysTopicsSettings = Field(default_factory=SysTopicsSettings)
    durability: DurabilitySettings = Field(default_factory=DurabilitySettings)
    delayed: DelayedSettings = Field(default_factory=DelayedSettings)
    flapping_detect: FlappingSettings = Field(default_factory=FlappingSettings)
    authentication: list[AuthenticatorSettings] = Field(default_factory=list)
    allow_anonymous: bool = True  # with no authenticator configured
    log: LogSettings = Field(default_factory=LogSettings)

    _zone_options: dict[str, MqttOptions] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _zones(self) -> Settings:
        """Each zone's MQTT limits: the global ``mqtt`` with the zone's overrides."""
        base = dataclasses.asdict(self.mqtt)
        known = {f.name for f in dataclasses.fields(MqttOptions)}
        for zone, conf in self.zones.items():
            unknown = sorted(set(conf.mqtt) - known)
            if unknown:
                raise ValueError(f"zones.{zone}.mqtt.{unknown[0]}: is not an mqtt setting")
            try:
                options = _MQTT.validate_python({**base, **apply_units(conf.mqtt, MqttOptions)})
            except ValidationError as exc:
                err = exc.errors()[0]
                where, message = ".".join(str(p) for p in err["loc"]), err["msg"]
                own = re.match(r"Value error, (\w+): (.*)", message)  # MqttOptions' own checks
                if own:
                    where, message = own.groups()
                raise ValueError(f"zones.{zone}.mqtt{'.' + where if where else ''}: {message}") from None
            self._zone_options[zone] = options
        for kind, named in self.listeners.as_dict().items():
            for name, listener in named.items():
                if listener.zone != "default" and listener.zone not in self.zones:
                    raise ValueError(f"listeners.{kind}.{name}.zone: {listener.zone!r} is not in zones")
        return self

    def zone_options(self) -> dict[str, MqttOptions]:
        return dict(self._zone_options)

    @model_validator(mode="before")
    @classmethod
    def _mqtt_units(cls, data: Any) -> Any:
        """Read durations and byte sizes of ``mqtt.*`` by the unit each field declares."""
        if isinstance(data, dict) and "mqtt" in data:
            data = {**data, "mqtt": apply_units(data["mqtt"], MqttOptions)}
        return data
