"""Everything the management API may call, built once by the app."""

from __future__ import annotations

from dataclasses import dataclass

from brookmq.core.broker import Broker
from brookmq.service.api_keys import ApiKeys
from brookmq.service.dashboard import DashboardUsers


@dataclass
class Services:
    broker: Broker
    users: DashboardUsers
    api_keys: ApiKeys
    version: str = "0.1.0"
