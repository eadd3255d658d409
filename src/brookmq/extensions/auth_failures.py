"""Bans on failed logins (``authentication_failures``): a client id that fails authentication
``max_failures`` times within ``window_time``, or an address that fails ``max_failures_per_address``
times (many client ids behind one address: NAT, so a higher bound), is banned for ``ban_time``,
recorded with ``by = authentication_failures``. EMQX bans only on flapping, Mosquitto not at all;
this stops password guessing over MQTT, as the dashboard's lockout does over HTTP."""

from __future__ import annotations

from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook
from brookmq.extensions.banned import BanError, Banned
from brookmq.extensions.recent import RecentEvents
from brookmq.mqtt import reason_codes as rc

BY = "authentication_failures"
_FAILED = (rc.BAD_USERNAME_OR_PASSWORD, rc.NOT_AUTHORIZED)


class AuthFailureBans(Hook):
    def __init__(
        self,
        broker: Broker,
        banned: Banned,
        max_failures: int = 10,
        max_failures_per_address: int = 100,
        window_time: float = 60.0,
        ban_time: float = 300.0,
    ) -> None:
        self.broker = broker
        self.banned = banned
        self.limits = {"clientid": max_failures, "peerhost": max_failures_per_address}
        self.window_time = window_time
        self.ban_time = ban_time
        self._failures = {kind: RecentEvents(window_time) for kind in self.limits}

    def start(self) -> None:
        self.broker.hooks.add(self)

    def stop(self) -> None:
        self.broker.hooks.remove(self)

    def client_connack(self, client: Any, reason_code: int) -> None:
        if reason_code not in _FAILED:
            return
        now = self.broker.clock.time()
        for kind, who in (("clientid", client.client_id), ("peerhost", client.peerhost)):
            if not who:
                continue
            count = self._failures[kind].reached(who, now, self.limits[kind])
            if count:
                reason = f"{count} failed logins within {self.window_time:g} s"
                try:
                    # New logins are refused; clients that did log in from there stay.
                    self.banned.add(kind, who, BY, reason, now, now + self.ban_time, evict=False)
                except BanError:
                    pass  # banned already
