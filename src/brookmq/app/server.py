"""Build everything from Settings; start and stop in the right order."""

from __future__ import annotations

import asyncio
import logging
import signal
from functools import partial
from pathlib import Path

from brookmq.api.management import create_management_app, with_legacy
from brookmq.api.server import DashboardListener, HttpLimits, Tls
from brookmq.api.v5.app import create_app
from brookmq.app import live
from brookmq.config.runtime import RuntimeConfig
from brookmq.config.settings import (
    AuthenticatorSettings,
    AuthorizationSettings,
    AuthzSourceSettings,
    BuiltinDatabaseSettings,
    BuiltinRulesSourceSettings,
    HttpAuthnSettings,
    HttpsListenerSettings,
    Settings,
)
from brookmq.core.authz_cache import AuthzCacheOptions
from brookmq.core.broker import Broker
from brookmq.extensions.auth_failures import AuthFailureBans
from brookmq.extensions.authn.builtin_db import BuiltinDatabase
from brookmq.extensions.authn.chain import Authentication, Authenticator
from brookmq.extensions.authn.http import HttpAuthenticator
from brookmq.extensions.authn.jwt_token import JwtAuthenticator
from brookmq.extensions.authz.authorization import Authorization
from brookmq.extensions.authz.sources import BuiltinRules, FileRules, Source
from brookmq.extensions.banned import Banned
from brookmq.extensions.connectors.registry import Connectors
from brookmq.extensions.delayed import DelayedPublish
from brookmq.extensions.flapping import FlappingDetector
from brookmq.extensions.rules.engine import RuleEngine
from brookmq.extensions.sys_topics import SysTopics
from brookmq.extensions.sysmon import SystemMonitor
from brookmq.extensions.tables import collection
from brookmq.service.api_keys import ApiKeys
from brookmq.service.dashboard import DashboardUsers
from brookmq.service.services import Services
from brookmq.storage.memory import MemoryStore
from brookmq.storage.sqlite import SqliteStore
from brookmq.transport.listener import ListenerRegistry
from brookmq.transport.tls import server_context

log = logging.getLogger("brookmq")


class BrookMQ:
    def __init__(self, file_settings: Settings) -> None:
        durability = file_settings.durability
        self.store = (
            SqliteStore(
                Path(file_settings.node.data_dir) / "brookmq.db",
                durability.synchronous,
                durability.flush_interval,
                durability.batch_size,
            )
            if durability.enable
            else None
        )
        overrides = (self.store or MemoryStore()).collection("config_overrides")
        self.config = RuntimeConfig.load(file_settings, overrides)
        settings = self.config.settings
        self.broker = Broker(
            settings.mqtt,
            settings.node.name,
            store=self.store,
            ack_after_commit=durability.ack == "after_commit",
        )
        self.broker.congestion_sustain = live.congestion_sustain(settings)
        self.broker.max_queued_bytes = settings.sysmon.max_queued_bytes
        self.broker.retainer = live.retainer_options(settings)
        alarm = settings.alarm
        self.broker.alarms.configure(alarm.actions, alarm.size_limit, alarm.validity_period)
        self.delayed = DelayedPublish(self.broker, settings.delayed.max_delayed_messages)
        self.banned = Banned(self.broker)
        rules = settings.rule_engine
        self.rule_engine = RuleEngine(self.broker, rules.ignore_sys_message, rules.max_pending)
        self.connectors = Connectors(self.broker.alarms)
        self.rule_engine.sinks = self.connectors.sink
        self.connectors.ingest = self.rule_engine.ingest
        self.authentication = Authentication(self.broker, settings.allow_anonymous)
        for entry in settings.authentication:
            self.authentication.add(make_authenticator(self.broker, entry)).enable = entry.enable
        self.authorization = make_authorization(self.broker, settings.authorization)
        self.flapping = self._flapping(settings)
        self.auth_failures = self._auth_failures(settings)
        self.listeners = ListenerRegistry(
            self.broker, settings.listeners.as_dict(), settings.node.data_dir, settings.zone_options()
        )
        self.sys_topics: SysTopics | None = None
        self.sysmon = self._sysmon(settings)
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
            ApiKeys(collection(self.broker, "api_keys"), default_app=self._default_app(settings)),
            self.banned,
            self.delayed,
            self.authentication,
            self.authorization,
            self.listeners,
            self.config,
            self.rule_engine,
            self.connectors,
            data_dir=str(settings.node.data_dir),
            sample_interval=dashboard.sample_interval,
        )
        app = with_legacy(
            create_app(self.services, dashboard.swagger_support, dashboard.max_body_size),
            self.services,
            dashboard.max_body_size,
        )
        http, https = dashboard.listeners.http, dashboard.listeners.https

        def limits(max_connections: int) -> HttpLimits:
            return HttpLimits(max_connections, dashboard.idle_timeout)

        self.dashboard = (
            DashboardListener(app, http.bind, limits=limits(http.max_connections)) if http.enable else None
        )
        self.dashboard_https = (
            DashboardListener(app, https.bind, self._tls(https, settings), limits(https.max_connections))
            if https.enable
            else None
        )
        management_app = create_management_app(self.services, dashboard.max_body_size)
        self.management = [
            DashboardListener(
                management_app,
                options.bind,
                self._tls(options, settings) if isinstance(options, HttpsListenerSettings) else None,
                limits(options.max_connections),
                name=f"management.listeners.{name}",
            )
            for name, options in settings.management.listeners.enabled()
        ]
        live.install(self, self.config)

    @property
    def settings(self) -> Settings:
        """As they are now: the file's, with what the management API changed."""
        return self.config.settings

    async def start(self) -> None:
        self.broker.restore()
        if self.store is not None:
            self.store.attach(self.broker)
        if self.settings.delayed.enable:
            self.delayed.start()
        self.banned.start()
        if self.settings.rule_engine.enable:
            self.rule_engine.start()
        await self.services.connectors.load()
        self.services.rules.load()
        self.authentication.start()
        self.authorization.start()
        if self.flapping is not None:
            self.flapping.start()
        if self.auth_failures is not None:
            self.auth_failures.start()
        await self.listeners.start_enabled()
        self.sys_topics = self._sys_topics(self.settings)
        self.sys_topics.start()
        self.sysmon.start()
        self._start_management()
        overridden = self.config.overridden()
        if overridden:
            log.info("settings changed through the API are in use for: %s", ", ".join(overridden))
        for http in (self.dashboard, self.dashboard_https, *self.management):
            if http is not None:
                await http.start()
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
        for setting, bootstrap in (
            ("api_key.bootstrap_file", self.settings.api_key.bootstrap_file),
            ("management.bootstrap_apps_file", self.settings.management.bootstrap_apps_file),
        ):
            if not bootstrap:
                continue
            try:
                loaded = self.services.api_keys.load_bootstrap(bootstrap)
            except OSError as exc:
                log.error("%s %s cannot be read: %s", setting, bootstrap, exc.strerror)
            else:
                log.info("%d API keys loaded from %s", loaded, bootstrap)
        if self.services.api_keys.default_app_in_force():
            log.warning(
                "\n%s\nNo app (API key) exists yet, so /api/v4 takes EMQX 4's default application\n"
                "'%s' with its well-known secret. Anyone who can reach the management API can\n"
                "use it. Create an app (POST /api/v4/apps or /api/v5/api_key): that ends it. Or set\n"
                'management.default_application.id to ""\n'
                "(BROOKMQ_MANAGEMENT__DEFAULT_APPLICATION__ID=).\n%s",
                "!" * 78,
                self.settings.management.default_application.id,
                "!" * 78,
            )

    @staticmethod
    def _tls(options: HttpsListenerSettings, settings: Settings) -> Tls:
        ssl = options.ssl_options
        return Tls(server_context(ssl, settings.node.data_dir), ssl.handshake_timeout)

    @staticmethod
    def _default_app(settings: Settings) -> tuple[str, str] | None:
        default = settings.management.default_application
        return (default.id, default.secret) if default.id else None

    async def stop(self) -> None:
        """Stop accepting, tell v5 clients the server is shutting down (0x8B), close."""
        for http in (self.dashboard, self.dashboard_https, *self.management):
            if http is not None:
                await http.stop()
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
        if self.auth_failures is not None:
            self.auth_failures.stop()
        await self.banned.stop()
        self.rule_engine.stop()
        await self.connectors.stop()
        await self.authentication.stop()
        self.authorization.stop()
        if self.store is not None:
            self.store.close()  # commits what is pending
        log.info("BrookMQ node %s stopped", self.broker.node_name)

    # ---------------------------------------------------------- built from settings

    def _flapping(self, settings: Settings) -> FlappingDetector | None:
        conf = settings.flapping_detect
        if not conf.enable:
            return None
        return FlappingDetector(self.broker, self.banned, conf.max_count, conf.window_time, conf.ban_time)

    def _auth_failures(self, settings: Settings) -> AuthFailureBans | None:
        conf = settings.authentication_failures
        if not conf.enable:
            return None
        return AuthFailureBans(
            self.broker,
            self.banned,
            conf.max_failures,
            conf.max_failures_per_address,
            conf.window_time,
            conf.ban_time,
        )

    def _sysmon(self, settings: Settings) -> SystemMonitor:
        conf = settings.sysmon.os
        return SystemMonitor(
            self.broker,
            conf.mem_check_interval,
            conf.sysmem_high_watermark,
            conf.cpu_check_interval,
            conf.cpu_high_watermark,
            conf.cpu_low_watermark,
        )

    def _sys_topics(self, settings: Settings) -> SysTopics:
        conf = settings.sys_topics
        return SysTopics(
            self.broker,
            conf.sys_msg_interval,
            conf.sys_heartbeat_interval,
            conf.sys_event_messages.client_connected,
            conf.sys_event_messages.client_disconnected,
        )

    # ---------------------------------------------------------- changed at run time

    async def restart_sysmon(self, old: Settings, new: Settings) -> None:
        self.broker.max_queued_bytes = new.sysmon.max_queued_bytes
        await self.sysmon.stop()
        self.sysmon = self._sysmon(new)
        self.sysmon.start()

    async def restart_sys_topics(self, old: Settings, new: Settings) -> None:
        if self.sys_topics is not None:
            await self.sys_topics.stop()
        self.sys_topics = self._sys_topics(new)
        self.sys_topics.start()

    def restart_flapping(self, old: Settings, new: Settings) -> None:
        if self.flapping is not None:
            self.flapping.stop()
        self.flapping = self._flapping(new)
        if self.flapping is not None:
            self.flapping.start()
        if self.auth_failures is not None:
            self.auth_failures.start()

    async def rebuild_authentication(self, old: Settings, new: Settings) -> None:
        chain = self.authentication
        running = chain.authenticators
        chain.authenticators = live.rebuilt(
            old.authentication, running, new.authentication, partial(make_authenticator, self.broker)
        )
        for authenticator in running:
            if authenticator not in chain.authenticators:
                await authenticator.close()

    def rebuild_authorization(self, old: Settings, new: Settings) -> None:
        authorization, conf = self.authorization, new.authorization
        authorization.sources = live.rebuilt(
            old.authorization.sources, authorization.sources, conf.sources, partial(make_source, self.broker)
        )
        authorization.no_match = conf.no_match
        authorization.deny_action = conf.deny_action
        authorization.cache = cache_options(conf)
        authorization.changed()

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


def make_source(broker: Broker, entry: AuthzSourceSettings) -> Source:
    source: Source = (
        BuiltinRules(collection(broker, "acl_rules"), entry.max_rules)
        if isinstance(entry, BuiltinRulesSourceSettings)
        else FileRules(entry.path, entry.rules)
    )
    source.enable = entry.enable
    return source


def cache_options(settings: AuthorizationSettings) -> AuthzCacheOptions:
    return AuthzCacheOptions(settings.cache.enable, settings.cache.max_size, settings.cache.ttl)


def make_authorization(broker: Broker, settings: AuthorizationSettings) -> Authorization:
    sources = [make_source(broker, entry) for entry in settings.sources]
    return Authorization(broker, sources, settings.no_match, settings.deny_action, cache_options(settings))
