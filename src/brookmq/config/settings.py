"""The settings tree, with EMQX's key names and defaults."""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from brookmq.core.options import MqttOptions
from brookmq.core.units import apply_units, parse_bytesize, parse_duration, parse_percent
from brookmq.extensions import placeholders
from brookmq.extensions.authn.http import HttpAuthenticator
from brookmq.extensions.authn.passwords import PasswordHash
from brookmq.extensions.authz.acl_file import RulesError
from brookmq.extensions.authz.sources import FileRules
from brookmq.transport.options import LISTENER_NAME, LISTENER_TYPES, ListenerOptions, SslOptions

Duration = Annotated[float, BeforeValidator(parse_duration)]
Bytesize = Annotated[int, BeforeValidator(parse_bytesize)]
Percent = Annotated[float, BeforeValidator(parse_percent), Field(ge=0, le=1)]
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
            for name in named:
                if not isinstance(name, str) or not LISTENER_NAME.fullmatch(name):
                    raise ValueError(f"{kind}.{name!r}: a listener name is 1..64 of A-Z a-z 0-9 _ -")
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


class SysmonOsSettings(_Model):
    """``sysmon.os``: the system memory and CPU alarms (EMQX's keys and defaults)."""

    mem_check_interval: Duration = Field(default=60.0, ge=0)  # 0: no check
    sysmem_high_watermark: Percent = 0.7
    cpu_check_interval: Duration = Field(default=60.0, ge=0)
    cpu_high_watermark: Percent = 0.8
    cpu_low_watermark: Percent = 0.6


class ConnCongestionSettings(_Model):
    """``conn_congestion``: an alarm while a connection's socket cannot take more data."""

    enable_alarm: bool = True
    min_alarm_sustain_duration: Duration = Field(default=60.0, ge=0)


class SysmonSettings(_Model):
    os: SysmonOsSettings = Field(default_factory=SysmonOsSettings)
    # Payload bytes all sessions' queues may hold together (mqtt.max_mqueue_bytes bounds each):
    # past it messages for slow or offline sessions are dropped, with the high_queued_bytes alarm.
    max_queued_bytes: Bytesize = Field(default=1024**3, ge=0, le=2**40)  # 0: no ceiling


class DurabilitySettings(_Model):
    """What the SQLite store in ``node.data_dir`` guarantees; see docs/persistence.md."""

    enable: bool = True
    ack: Literal["after_commit", "immediate"] = "after_commit"
    flush_interval: Duration = Field(default=0.01, gt=0)
    batch_size: int = Field(default=10_000, ge=1)
    synchronous: Literal["normal", "full"] = "normal"


AlarmAction = Literal["log", "publish"]
ALARM_ACTIONS: tuple[AlarmAction, ...] = ("log", "publish")


class AlarmSettings(_Model):
    """``alarm``: what happens when an alarm is raised or cleared, and how long the history is."""

    actions: list[AlarmAction] = Field(default_factory=lambda: list(ALARM_ACTIONS))
    size_limit: int = Field(default=1000, ge=1, le=3000)  # cleared alarms kept
    validity_period: Duration = Field(default=86400.0, gt=0)  # how long a cleared alarm is kept


class RetainerBackendSettings(_Model):
    type: Literal["built_in_database"] = "built_in_database"
    max_retained_messages: int = Field(default=0, ge=0, le=2**31 - 1)  # 0: no limit


class RetainerSettings(_Model):
    """``retainer``: which retained messages are kept (EMQX's keys and defaults)."""

    enable: bool = True
    max_payload_size: Bytesize = Field(
        default=1024 * 1024, ge=0, le=268_435_455
    )  # larger: not kept; 0: no limit
    backend: RetainerBackendSettings = Field(default_factory=RetainerBackendSettings)


class DelayedSettings(_Model):
    enable: bool = True
    # EMQX's 0 (no bound) lets one client fill memory and disk with $delayed/4294967/...: 100,000
    # is far above what a deployment delays at once and bounds that; 0 still means no bound.
    max_delayed_messages: int = Field(default=100_000, ge=0, le=2**31 - 1)


class RuleEngineSettings(_Model):
    enable: bool = True  # off: no rule runs (they are kept); the plugin emqx_rule_engine
    ignore_sys_message: bool = True  # rules on "#" do not see $SYS/ messages (EMQX's default)
    # Inputs (messages and events) waiting for their rules; past it they are dropped and the
    # rules count failed.unknown, so a flood cannot grow memory without bound.
    max_pending: int = Field(default=10_000, ge=1, le=10_000_000)


class BuiltinDatabaseSettings(_Model):
    """``authentication`` entry: the built-in database (EMQX's keys and defaults)."""

    mechanism: Literal["password_based"] = "password_based"
    backend: Literal["built_in_database"] = "built_in_database"
    enable: bool = True
    user_id_type: Literal["username", "clientid"] = "username"
    password_hash_algorithm: PasswordHash = Field(default_factory=PasswordHash)


class HttpAuthnSettings(_Model):
    """``authentication`` entry: an HTTP service."""

    mechanism: Literal["password_based"] = "password_based"
    backend: Literal["http"]
    enable: bool = True
    method: Literal["post", "get"] = "post"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, str] = Field(
        default_factory=lambda: {"username": "${username}", "password": "${password}"}
    )
    request_timeout: Duration = Field(default=5.0, gt=0)
    pool_size: int = Field(default=8, ge=1)
    ssl_verify: bool = True  # check the server's certificate for https URLs

    @model_validator(mode="after")
    def _templates(self) -> HttpAuthnSettings:
        HttpAuthenticator(self.url, self.method, self.headers, self.body)  # raises on a bad URL or template
        return self


class JwtAuthnSettings(_Model):
    """``authentication`` entry: JWT in the password (or username)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    mechanism: Literal["jwt"]
    enable: bool = True
    from_field: Literal["password", "username"] = Field(default="password", alias="from")
    algorithm: Literal["hmac-based", "public-key"] = "hmac-based"
    secret: str = ""
    secret_base64_encoded: bool = False
    public_key: str = ""
    verify_claims: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _templates(self) -> JwtAuthnSettings:
        placeholders.check_all(self.verify_claims, "verify_claims")
        return self


def _authenticator_kind(data: Any) -> str:
    get = data.get if isinstance(data, dict) else lambda key, default=None: getattr(data, key, default)
    return "jwt" if get("mechanism") == "jwt" else str(get("backend", "built_in_database"))


AuthenticatorSettings = Annotated[
    Annotated[BuiltinDatabaseSettings, Tag("built_in_database")]
    | Annotated[HttpAuthnSettings, Tag("http")]
    | Annotated[JwtAuthnSettings, Tag("jwt")],
    Discriminator(
        _authenticator_kind,
        custom_error_type="authenticator",
        custom_error_message="backend must be built_in_database or http, or mechanism jwt",
    ),
]


class AuthzCacheSettings(_Model):
    enable: bool = True
    max_size: int = Field(default=32, ge=1)
    ttl: Duration = Field(default=60.0, gt=0)


class BuiltinRulesSourceSettings(_Model):
    """``authorization.sources`` entry: rules kept in the built-in database."""

    type: Literal["built_in_database"]
    enable: bool = True
    max_rules: int = Field(default=100, ge=1)


class FileSourceSettings(_Model):
    """``authorization.sources`` entry: a rules file (EMQX's acl.conf format), or the rules
    themselves in ``rules``; with neither, BrookMQ's default rules."""

    type: Literal["file"]
    enable: bool = True
    path: str = ""
    rules: str | None = None

    @model_validator(mode="after")
    def _parse(self) -> FileSourceSettings:
        try:
            FileRules(self.path, self.rules)
        except OSError as exc:
            raise ValueError(f"path: cannot read {self.path!r}: {exc.strerror}") from None
        except RulesError as exc:
            if self.rules is None and self.path:
                # Only where it broke: quoting a file's content would show any host file it names.
                line = re.match(r"line \d+", str(exc))
                where = f" ({line.group()})" if line else ""
                raise ValueError(
                    f"path {self.path}: is not a rules file in the acl.conf format{where}"
                ) from None
            raise ValueError(f"rules: {exc}") from None
        return self


AuthzSourceSettings = Annotated[BuiltinRulesSourceSettings | FileSourceSettings, Field(discriminator="type")]


def _default_sources() -> list[AuthzSourceSettings]:
    """The built-in database's rules first, then the default rules file."""
    return [BuiltinRulesSourceSettings(type="built_in_database"), FileSourceSettings(type="file")]


class AuthorizationSettings(_Model):
    """``authorization``: EMQX's keys and defaults; the sources are asked in order."""

    no_match: Literal["allow", "deny"] = "allow"
    deny_action: Literal["ignore", "disconnect"] = "ignore"
    cache: AuthzCacheSettings = Field(default_factory=AuthzCacheSettings)
    sources: list[AuthzSourceSettings] = Field(default_factory=lambda: _default_sources())

    @model_validator(mode="after")
    def _one_of_each(self) -> AuthorizationSettings:
        kinds = [source.type for source in self.sources]
        for kind in kinds:
            if kinds.count(kind) > 1:
                raise ValueError(f"sources: {kind} is there twice")
        return self


class FlappingSettings(_Model):
    """``flapping_detect``: ban a client id that disconnects too often (EMQX's defaults)."""

    enable: bool = False
    max_count: int = Field(default=15, ge=1)
    window_time: Duration = Field(default=60.0, gt=0)
    ban_time: Duration = Field(default=300.0, gt=0)


class AuthFailureSettings(_Model):
    """``authentication_failures``: ban a client id, or an address, that keeps failing to log in."""

    enable: bool = True
    max_failures: int = Field(default=10, ge=1, le=1_000_000)  # per client id
    max_failures_per_address: int = Field(default=100, ge=1, le=1_000_000)  # NAT: many ids, one address
    window_time: Duration = Field(default=60.0, gt=0, le=86400)
    ban_time: Duration = Field(default=300.0, gt=0, le=31_536_000)


class HttpListenerSettings(_Model):
    """An HTTP listener of the management API; each kind below has its own address."""

    enable: bool = True
    bind: str
    max_connections: int = Field(default=512, ge=1, le=65536)  # past it a new connection is closed


class HttpsListenerSettings(HttpListenerSettings):
    enable: bool = False
    ssl_options: SslOptions = Field(default_factory=SslOptions)  # as the MQTT listeners'

    @field_validator("ssl_options", mode="before")
    @classmethod
    def _units(cls, value: Any) -> Any:
        return apply_units(value, SslOptions)


class DashboardHttpSettings(HttpListenerSettings):
    bind: str = "0.0.0.0:18083"


class DashboardHttpsSettings(HttpsListenerSettings):
    bind: str = "0.0.0.0:18084"


class DashboardListenersSettings(_Model):
    http: DashboardHttpSettings = Field(default_factory=DashboardHttpSettings)
    https: DashboardHttpsSettings = Field(default_factory=DashboardHttpsSettings)


class DashboardSettings(_Model):
    """``dashboard``: the listener of the management API and its login rules (EMQX's keys)."""

    listeners: DashboardListenersSettings = Field(default_factory=DashboardListenersSettings)
    token_expired_time: Duration = Field(default=3600.0, gt=0)
    default_password: str = "public"  # the password `admin` gets at the very first start
    swagger_support: bool = True
    sample_interval: Duration = Field(default=10.0, ge=1)  # the monitor's; a day of samples is kept
    max_body_size: Bytesize = Field(default=1024 * 1024, ge=1024, le=1024**3)  # 413 over it
    idle_timeout: Duration = Field(default=15.0, gt=0, le=3600)  # for a request to arrive whole


class ManagementHttpSettings(HttpListenerSettings):
    bind: str = "0.0.0.0:8081"  # EMQX 4.x's management listener


class ManagementHttpsSettings(HttpsListenerSettings):
    bind: str = "0.0.0.0:8082"


class LegacyHttpSettings(HttpListenerSettings):
    enable: bool = False
    bind: str = "0.0.0.0:8080"  # EMQX 3.x's and EMQ 2.x's


class LegacyHttpsSettings(HttpsListenerSettings):
    bind: str = "0.0.0.0:8443"


class ManagementListenersSettings(_Model):
    http: ManagementHttpSettings = Field(default_factory=ManagementHttpSettings)
    https: ManagementHttpsSettings = Field(default_factory=ManagementHttpsSettings)
    http_legacy: LegacyHttpSettings = Field(default_factory=LegacyHttpSettings)
    https_legacy: LegacyHttpsSettings = Field(default_factory=LegacyHttpsSettings)

    def enabled(self) -> list[tuple[str, HttpListenerSettings]]:
        """``(name, settings)`` of each one that is on."""
        named: list[tuple[str, HttpListenerSettings]] = [("http", self.http), ("https", self.https)]
        named += [("http_legacy", self.http_legacy), ("https_legacy", self.https_legacy)]
        return [(name, options) for name, options in named if options.enable]


class DefaultApplicationSettings(_Model):
    """EMQX 4's default app, let in by the legacy dialects while no app (API key) exists at all;
    an empty ``id`` turns it off."""

    id: str = "admin"
    secret: str = "public"


class ManagementSettings(_Model):
    """``management``: EMQX 4's management listener, serving the legacy dialects (``/api/v4``);
    the dashboard's ``max_body_size`` and ``idle_timeout`` apply to it too."""

    listeners: ManagementListenersSettings = Field(default_factory=ManagementListenersSettings)
    default_application: DefaultApplicationSettings = Field(default_factory=DefaultApplicationSettings)
    bootstrap_apps_file: str = ""  # EMQX 4.4's: `appid:secret` lines, loaded at every start


class ApiKeySettings(_Model):
    bootstrap_file: str = ""  # `key:secret[:role]` lines, loaded at every start


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
    sysmon: SysmonSettings = Field(default_factory=SysmonSettings)
    conn_congestion: ConnCongestionSettings = Field(default_factory=ConnCongestionSettings)
    alarm: AlarmSettings = Field(default_factory=AlarmSettings)
    retainer: RetainerSettings = Field(default_factory=RetainerSettings)
    durability: DurabilitySettings = Field(default_factory=DurabilitySettings)
    delayed: DelayedSettings = Field(default_factory=DelayedSettings)
    rule_engine: RuleEngineSettings = Field(default_factory=RuleEngineSettings)
    flapping_detect: FlappingSettings = Field(default_factory=FlappingSettings)
    authentication_failures: AuthFailureSettings = Field(default_factory=AuthFailureSettings)
    authentication: list[AuthenticatorSettings] = Field(default_factory=list)
    authorization: AuthorizationSettings = Field(default_factory=AuthorizationSettings)
    allow_anonymous: bool = True  # with no authenticator configured
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    management: ManagementSettings = Field(default_factory=ManagementSettings)
    api_key: ApiKeySettings = Field(default_factory=ApiKeySettings)
    log: LogSettings = Field(default_factory=LogSettings)

    _zone_options: dict[str, MqttOptions] = PrivateAttr(default_factory=dict)
    # Keys set explicitly (in the file or the environment) and where; see config.loader.
    _sources: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)

    def remember_sources(self, sources: dict[tuple[str, ...], str]) -> None:
        self._sources = dict(sources)

    def set_by(self, path: tuple[str, ...]) -> str | None:
        """Where the key at ``path`` (or a key it contains, or one containing it) was set
        explicitly, or None when it has its default."""
        for i in range(len(path), 0, -1):
            if path[:i] in self._sources:
                return self._sources[path[:i]]
        return next((source for key, source in self._sources.items() if key[: len(path)] == path), None)

    @model_validator(mode="after")
    def _one_authenticator_of_each_kind(self) -> Settings:
        kinds = [_authenticator_kind(entry) for entry in self.authentication]
        for index, kind in enumerate(kinds):
            if kind in kinds[:index]:
                raise ValueError(f"authentication.{index}: a second {kind} authenticator")
        return self

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
