"""Everything the management API may call, built once by the app."""

from __future__ import annotations

from dataclasses import dataclass, field

from brookmq import __version__
from brookmq.core.broker import Broker
from brookmq.extensions.authn.chain import Authentication
from brookmq.extensions.authz.authorization import Authorization
from brookmq.extensions.banned import Banned
from brookmq.extensions.connectors.registry import Connectors
from brookmq.extensions.delayed import DelayedPublish
from brookmq.extensions.rules.engine import RuleEngine
from brookmq.extensions.tables import collection
from brookmq.service.alarms import Alarms
from brookmq.service.api_keys import ApiKeys
from brookmq.service.authn import Authn
from brookmq.service.authz import Authz
from brookmq.service.backup import Backup
from brookmq.service.banned import Bans
from brookmq.service.clients import Clients
from brookmq.service.configs import ConfigPort, Configs
from brookmq.service.connectors import ConnectorsService
from brookmq.service.dashboard import DashboardUsers
from brookmq.service.listeners import Listeners
from brookmq.service.node import Node
from brookmq.service.plugins import Plugins, builtin
from brookmq.service.publish import Publisher
from brookmq.service.retainer import Delayed, Retainer
from brookmq.service.rules import Rules
from brookmq.service.subscriptions import Subscriptions, Topics
from brookmq.transport.listener import ListenerRegistry


@dataclass
class Services:
    broker: Broker
    users: DashboardUsers
    api_keys: ApiKeys
    banned: Banned
    delayed_publish: DelayedPublish
    authentication: Authentication
    authorization: Authorization
    listener_registry: ListenerRegistry
    config: ConfigPort
    rule_engine: RuleEngine
    connector_registry: Connectors
    data_dir: str = ""
    sample_interval: float = 10.0
    version: str = __version__
    clients: Clients = field(init=False)
    subscriptions: Subscriptions = field(init=False)
    topics: Topics = field(init=False)
    publisher: Publisher = field(init=False)
    node: Node = field(init=False)
    bans: Bans = field(init=False)
    alarms: Alarms = field(init=False)
    retainer: Retainer = field(init=False)
    delayed: Delayed = field(init=False)
    authn: Authn = field(init=False)
    authz: Authz = field(init=False)
    listeners: Listeners = field(init=False)
    configs: Configs = field(init=False)
    backup: Backup = field(init=False)
    rules: Rules = field(init=False)
    connectors: ConnectorsService = field(init=False)
    plugins: Plugins = field(init=False)

    def __post_init__(self) -> None:
        self.clients = Clients(self.broker)
        self.subscriptions = Subscriptions(self.broker, self.clients)
        self.topics = Topics(self.broker)
        self.publisher = Publisher(self.broker)
        self.bans = Bans(self.banned)
        self.alarms = Alarms(self.broker)
        self.retainer = Retainer(self.broker, self.config)
        self.authn = Authn(self.authentication, self.config)
        self.authz = Authz(self.broker, self.authorization, self.config)
        self.listeners = Listeners(self.broker, self.listener_registry, self.config)
        self.configs = Configs(self.config)
        self.delayed = Delayed(self.broker, self.delayed_publish, self.config)
        self.node = Node(self.broker, self.version, self.data_dir, self.sample_interval)
        self.rules = Rules(self.rule_engine, collection(self.broker, "rules"))
        self.connectors = ConnectorsService(
            self.connector_registry,
            collection(self.broker, "resources"),
            collection(self.broker, "actions"),
            self.broker.node_name,
        )
        self.plugins = Plugins(builtin(self.config, self.version), self.config)
        self.backup = Backup(
            self.api_keys, self.users, self.bans, self.authn, self.authz, self.rules, self.data_dir
        )
