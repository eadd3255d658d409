"""Build everything from Settings; start and stop in the right order."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from brookmq.api.server import DashboardListener
from brookmq.api.v5.app import create_app
from brookmq.config.settings import (
    AuthenticatorSettings,
    AuthorizationSettings,
    BuiltinDatabaseSettings,
    BuiltinRulesSourceSettings,
    HttpAuthnSettings,
    Settings,
)
from brookmq.core.authz_cache import AuthzCacheOptions
from brookmq.core.broker import Broker
from brookmq.extensions.authn.builtin_db import BuiltinDatabase
from brookmq.extensions.authn.chain import Authentication, Authenticator
from brookmq.extensions.authn.http import HttpAuthenticator
from brookmq.extensions.authn.jwt_token import JwtAuthenticator
from brookmq.extensions.authz.authorization import Authorization
from brookmq.extensions.authz.sources import BuiltinRules, FileRules, Source
from brookmq.extensions.banned import Banned
from brookmq.extensions.delayed import DelayedPublish
from brookmq.extensions.flapping import FlappingDetector
from brookmq.extensions.sys_topics import SysTopics
from brookmq.extensions.sysmon import SystemMonitor
from brookmq.extensions.tables import collection
from brookmq.service.api_keys import ApiKeys
from brookmq.service.dashboard import DashboardUsers
from brookmq.service.services import Services
from brookmq.storage.sqlite import SqliteStore
from brookmq.transport.listener import ListenerRegistry

log = logging.getLogger("brookmq")


class BrookMQ:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        durability = settings.durability
        self.store = (
            SqliteStore(
                Path(settings.node.data_dir) / "brookmq.db",
                durability.synchronous,
                durability.flush_interval,
                durability.batch_size,
            )
            if durability.enable
            else None
        )
        self.broker = Broker(
            settings.mqtt,
            settings.node.name,
            store=self.store,
            ack_after_commit=durability.ack == "after_commit",
        )
        congestion = settings.conn_congestion
        self.broker.congestion_sustain = (
            congestion.min_alarm_sustain_duration if congestion.enable_alarm else None
        )
        self.delayed = DelayedPublish(self.broker, settings.delayed.max_delayed_messages)
        self.banned = Banned(self.broker)
        self.authentication = Authentication(self.broker, settings.allow_anonymous)
        for entry in settings.authentication:
            self.authentication.add(make_authenticator(self.broker, entry)).enable = entry.enable
        self.authorization = make_authorization(self.broker, settings.authorization)
        flapping = settings.flapping_detect
        self.flapping = (
            FlappingDetector(
                self.broker, self.banned, flapping.max_count, flapping.window_time, flapping.ban_time
            )
            if flapping.enable
            else None
        )
        self.listeners = ListenerRegistry(
            self.broker, settings.listeners.as_dict(), settings.node.data_dir, settings.zone_options()
        )
        self.sys_topics: SysTopics | None = None
        sysmon = settings.sysmon.os
        self.sysmon = SystemMonitor(
            self.broker,
            sysmon.mem_check_interval,
            sysmon.sysmem_high_watermark,
            sysmon.cpu_check_interval,
            sysmon.cpu_high_watermark,
            sysmon.cpu_low_watermark,
        )
        dashboard = settings.dashboard
        self.services = Services(
            self.broker,
            DashboardUsers(
                collection(self.broker, "dashboard_users"),
                collection(self.broker, "dashboard_tokens"),
                collection(self.broker, "settings"),
                dashboard.token_expired_time,
                dashboard.default_password,
            ),
            ApiKeys(collection(self.broker, "api_keys")),
            self.banned,
            self.delayed,
            self.authentication,
            data_dir=str(settings.node.data_dir),
            sample_interval=dashboard.sample_interval,
        )
        self.dashboard = (
            DashboardListener(
                create_app(self.services, dashboard.swagger_support), dashboard.listeners.http.bind
            )
            if dashboard.listeners.http.enable
            else None
        )

    async def start(self) -> None:
        self.broker.restore()
        if self.store is not None:
            self.store.attach(self.broker)
        if self.settings.delayed.enable:
            self.delayed.start()
        self.banned.start()
        self.authentication.start()
        self.authorization.start()
        if self.flapping is not None:
            self.flapping.start()
        await self.listeners.start_enabled()
        sys_conf = self.settings.sys_topics
        self.sys_topics = SysTopics(
            self.broker,
            sys_conf.sys_msg_interval,
            sys_conf.sys_heartbeat_interval,
            sys_conf.sys_event_messages.client_connected,
            sys_conf.sys_event_messages.client_disconnected,
        )
        self.sys_topics.start()
        self.sysmon.start()
        self._start_management()
        if self.dashboard is not None:
            await self.dashboard.start()
        log.info("BrookMQ node %s started", self.broker.node_name)

    def _start_management(self) -> None:
        self.services.node.start()
        users = self.services.users
        users.ensure_default_user()
        if users.default_password_in_use():
            log.warning(
                "\n%s\nThe dashboard user 'admin' still has the default password 'public'.\n"
                "Anyone who can reach the management API can take over this broker. Change it:\n"
                "POST /api/v5/users/admin/change_pwd, or set dashboard.default_password before the\n"
                "first start (BROOKMQ_DASHBOARD__DEFAULT_PASSWORD).\n%s",
                "!" * 78,
                "!" * 78,
            )
        bootstrap = self.settings.api_key.bootstrap_file
        if bootstrap:
            try:
                loaded = self.services.api_keys.load_bootstrap(bootstrap)
            except OSError as exc:
                log.error("api_key.bootstrap_file %s cannot be read: %s", bootstrap, exc.strerror)
            else:
                log.info("%d API keys loaded from %s", loaded, bootstrap)

    async def stop(self) -> None:
        """Stop accepting, tell v5 clients the server is shutting down (0x8B), close."""
        if self.dashboard is not None:
            await self.dashboard.stop()
        await self.services.node.stop()
        await self.sysmon.stop()
        await self.listeners.stop_all(reason="shutdown")
        if self.sys_topics is not None:
            await self.sys_topics.stop()
        self.broker.shutdown()
        await asyncio.sleep(0.05)  # let the transports flush the DISCONNECTs
        self.delayed.stop()
        if self.flapping is not None:
            self.flapping.stop()
        await self.banned.stop()
        await self.authentication.stop()
        self.authorization.stop()
        if self.store is not None:
            self.store.close()  # commits what is pending
        log.info("BrookMQ node %s stopped", self.broker.node_name)

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT, then shut down gracefully."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        await stopping.wait()
        await self.stop()


def make_authenticator(broker: Broker, entry: AuthenticatorSettings) -> Authenticator:
    if isinstance(entry, BuiltinDatabaseSettings):
        return BuiltinDatabase(
            collection(broker, "authn_users"), entry.user_id_type, entry.password_hash_algorithm
        )
    if isinstance(entry, HttpAuthnSettings):
        return HttpAuthenticator(
            entry.url,
            entry.method,
            entry.headers,
            entry.body,
            entry.request_timeout,
            entry.pool_size,
            entry.ssl_verify,
        )
    return JwtAuthenticator(
        entry.algorithm,
        entry.secret,
        entry.secret_base64_encoded,
        entry.public_key,
        entry.from_field,
        entry.verify_claims,
    )


def make_authorization(broker: Broker, settings: AuthorizationSettings) -> Authorization:
    sources: list[Source] = []
    for entry in settings.sources:
        source: Source = (
            BuiltinRules(collection(broker, "acl_rules"), entry.max_rules)
            if isinstance(entry, BuiltinRulesSourceSettings)
            else FileRules(entry.path, entry.rules)
        )
        source.enable = entry.enable
        sources.append(source)
    cache = AuthzCacheOptions(settings.cache.enable, settings.cache.max_size, settings.cache.ttl)
    return Authorization(broker, sources, settings.no_match, settings.deny_action, cache)
