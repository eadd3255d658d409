"""What a change of each settings root does to the running broker (see ``config.runtime``).

Most roots take effect at once; connections already open keep the MQTT limits they started
with. ``dashboard.listeners``, ``dashboard.swagger_support``, ``dashboard.default_password``
and ``api_key.bootstrap_file`` are read at start only, as in EMQX.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from brookmq.config.runtime import RuntimeConfig
from brookmq.config.settings import Settings
from brookmq.core.options import RetainerOptions

if TYPE_CHECKING:
    from brookmq.app.server import BrookMQ

T = TypeVar("T")


def install(app: BrookMQ, config: RuntimeConfig) -> None:
    broker = app.broker

    async def listeners(old: Settings, new: Settings) -> None:
        await app.listeners.apply(new.listeners.as_dict(), new.zone_options())

    def mqtt(old: Settings, new: Settings) -> None:
        broker.options = new.mqtt
        broker.router.strategy = new.mqtt.shared_subscription_strategy

    def alarm(old: Settings, new: Settings) -> None:
        broker.alarms.configure(new.alarm.actions, new.alarm.size_limit, new.alarm.validity_period)

    def retainer(old: Settings, new: Settings) -> None:
        broker.retainer = retainer_options(new)

    def congestion(old: Settings, new: Settings) -> None:
        broker.congestion_sustain = congestion_sustain(new)

    def delayed(old: Settings, new: Settings) -> None:
        app.delayed.max_delayed_messages = new.delayed.max_delayed_messages
        if new.delayed.enable and not app.delayed.enabled:
            app.delayed.start()
        elif not new.delayed.enable and app.delayed.enabled:
            app.delayed.stop()

    async def dashboard(old: Settings, new: Settings) -> None:
        app.services.users.token_ttl = new.dashboard.token_expired_time
        node = app.services.node
        if node.sample_interval != new.dashboard.sample_interval:
            await node.stop()
            node.sample_interval = new.dashboard.sample_interval
            node.start()

    def log_level(old: Settings, new: Settings) -> None:
        logging.getLogger().setLevel(new.log.level.upper())

    def rule_engine(old: Settings, new: Settings) -> None:
        engine = app.rule_engine
        engine.ignore_sys_message = new.rule_engine.ignore_sys_message
        engine.max_pending = new.rule_engine.max_pending
        if new.rule_engine.enable and not old.rule_engine.enable:
            engine.start()
        elif old.rule_engine.enable and not new.rule_engine.enable:
            engine.stop()

    def allow_anonymous(old: Settings, new: Settings) -> None:
        app.authentication.allow_anonymous = new.allow_anonymous

    config.on_change("mqtt", mqtt)
    for root in ("mqtt", "zones", "listeners"):
        config.on_change(root, listeners)
    config.on_change("alarm", alarm)
    config.on_change("retainer", retainer)
    config.on_change("conn_congestion", congestion)
    config.on_change("delayed", delayed)
    config.on_change("dashboard", dashboard)
    config.on_change("log", log_level)
    config.on_change("allow_anonymous", allow_anonymous)
    config.on_change("rule_engine", rule_engine)
    config.on_change("sysmon", app.restart_sysmon)
    config.on_change("sys_topics", app.restart_sys_topics)
    config.on_change("flapping_detect", app.restart_flapping)
    config.on_change("authentication", app.rebuild_authentication)
    config.on_change("authorization", app.rebuild_authorization)


def retainer_options(settings: Settings) -> RetainerOptions:
    conf = settings.retainer
    return RetainerOptions(conf.enable, conf.max_payload_size, conf.backend.max_retained_messages)


def congestion_sustain(settings: Settings) -> float | None:
    conf = settings.conn_congestion
    return conf.min_alarm_sustain_duration if conf.enable_alarm else None


def rebuilt(
    old: Sequence[Any], running: Sequence[T], new: Sequence[Any], make: Callable[[Any], T]
) -> list[T]:
    """The running objects (authenticators, authorization sources) for the entries ``new``: the
    one made for an ``old`` entry that differs at most in ``enable`` is kept, with its counters;
    the others are made afresh. ``running[i]`` was made for ``old[i]``."""
    on = {"enable": True}
    pairs = list(zip(old, running, strict=True))
    out = []
    for entry in new:
        same = entry.model_copy(update=on)
        kept = next(
            (obj for e, obj in pairs if type(e) is type(entry) and e.model_copy(update=on) == same), None
        )
        obj = kept if kept is not None else make(entry)
        obj.enable = entry.enable  # type: ignore[attr-defined]
        out.append(obj)
    return out
