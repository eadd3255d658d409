"""Banned clients, like EMQX's: a client whose client id, username or address matches a ban
is refused at CONNECT before authentication (v5 ``0x8A``, v3 ``0x05``).

A ban is ``as`` one of ``clientid``, ``username``, ``peerhost`` (exact), ``clientid_re``,
``username_re`` (a regular expression that must match from the start) or ``peerhost_net``
(a CIDR), with ``who``, ``by``, ``reason``, ``at`` and ``until`` (0 = forever). Creating one
disconnects the connected clients it matches. Expired bans stop matching at once and are
swept from the store every ``sweep_interval``. Bans are kept in the store's ``banned``
collection and survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.store import Collection
from brookmq.extensions.tables import collection

KINDS = ("clientid", "username", "peerhost", "clientid_re", "username_re", "peerhost_net")
_EXACT = {"clientid": "client_id", "username": "username", "peerhost": "peerhost"}  # -> client attribute


class BanError(ValueError):
    """A ban that cannot be created; the message says why."""


class AlreadyBanned(BanError):
    def __init__(self, existing: Ban) -> None:
        super().__init__(f"{existing.kind} {existing.who!r} is already banned")
        self.existing = existing


@dataclass(slots=True)
class Ban:
    kind: str  # EMQX's "as"
    who: str
    by: str = "mgmt_api"
    reason: str = ""
    at: float = 0.0
    until: float = 0.0  # 0: forever

    def expired(self, now: float) -> bool:
        return bool(self.until) and now >= self.until


def _matcher(kind: str, who: str) -> Any:
    """The compiled form of a pattern ban; raises BanError for a bad one."""
    if kind in ("clientid_re", "username_re"):
        try:
            return re.compile(who)
        except re.error as exc:
            raise BanError(f"bad regular expression {who!r}: {exc}") from None
    if kind == "peerhost_net":
        try:
            return ipaddress.ip_network(who, strict=False)
        except ValueError:
            raise BanError(f"bad CIDR {who!r}") from None
    if kind == "peerhost":
        try:
            ipaddress.ip_address(who)
        except ValueError:
            raise BanError(f"bad peerhost {who!r}") from None
    return None


class Banned:
    def __init__(self, broker: Broker, sweep_interval: float = 60.0) -> None:
        self.broker = broker
        self.sweep_interval = sweep_interval
        self.store: Collection = collection(broker, "banned")
        self._bans: dict[tuple[str, str], Ban] = {}
        self._patterns: dict[tuple[str, str], Any] = {}  # the pattern bans, compiled
        self._task: asyncio.Task[None] | None = None
        for _, doc in self.store.items():
            ban = Ban(**doc)
            self._bans[(ban.kind, ban.who)] = ban
            matcher = _matcher(ban.kind, ban.who)
            if matcher is not None:
                self._patterns[(ban.kind, ban.who)] = matcher

    def start(self) -> None:
        self.broker.is_banned = self.is_banned
        if self.sweep_interval:
            self._task = asyncio.create_task(self._sweep_every())

    async def stop(self) -> None:
        self.broker.is_banned = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ------------------------------------------------ managing bans

    def add(
        self,
        kind: str,
        who: str,
        by: str = "mgmt_api",
        reason: str = "",
        at: float | None = None,
        until: float = 0.0,
        evict: bool = True,
    ) -> Ban:
        """Ban, and (``evict``) disconnect the connected clients the ban matches."""
        if kind not in KINDS:
            raise BanError(f"as must be one of {', '.join(KINDS)}")
        if not who:
            raise BanError("who must not be empty")
        now = self.broker.clock.time()
        if until and until <= now:
            raise BanError("cannot create a ban that has already expired")
        matcher = _matcher(kind, who)
        existing = self._bans.get((kind, who))
        if existing is not None and not existing.expired(now):
            raise AlreadyBanned(existing)
        ban = Ban(kind, who, by, reason, now if at is None else at, until)
        self._bans[(kind, who)] = ban
        if matcher is not None:
            self._patterns[(kind, who)] = matcher
        self.store.put(f"{kind}:{who}", asdict(ban))
        if not evict:
            return ban
        for session in list(self.broker.sessions.values()):
            conn = session.connection
            if conn is not None and self._matches(ban, conn):
                conn.evict("banned")
        return ban

    def delete(self, kind: str, who: str) -> bool:
        if self._bans.pop((kind, who), None) is None:
            return False
        self._patterns.pop((kind, who), None)
        self.store.delete(f"{kind}:{who}")
        return True

    def clear(self) -> None:
        for kind, who in list(self._bans):
            self.delete(kind, who)

    def entries(self) -> list[Ban]:
        """Every ban that has not expired, oldest first."""
        now = self.broker.clock.time()
        return sorted(
            (b for b in self._bans.values() if not b.expired(now)), key=lambda b: (b.at, b.kind, b.who)
        )

    def sweep(self) -> int:
        """Forget the expired bans; returns how many."""
        now = self.broker.clock.time()
        expired = [key for key, ban in self._bans.items() if ban.expired(now)]
        for kind, who in expired:
            self.delete(kind, who)
        return len(expired)

    async def _sweep_every(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            self.sweep()

    # ------------------------------------------------ checking clients

    def is_banned(self, client: Any) -> bool:
        return self.find(client) is not None

    def find(self, client: Any) -> Ban | None:
        """The ban that matches ``client`` (its client id, username and peer address), if any."""
        if not self._bans:
            return None
        now = self.broker.clock.time()
        for kind, attribute in _EXACT.items():
            value = getattr(client, attribute, None)
            if value:
                ban = self._bans.get((kind, value))
                if ban is not None and not ban.expired(now):
                    return ban
        for key in self._patterns:
            ban = self._bans[key]
            if not ban.expired(now) and self._matches(ban, client):
                return ban
        return None

    def _matches(self, ban: Ban, client: Any) -> bool:
        kind = ban.kind
        if kind in _EXACT:
            return getattr(client, _EXACT[kind], None) == ban.who
        value = getattr(client, "peerhost" if kind == "peerhost_net" else _EXACT[kind[:-3]], None)
        if not value:
            return False
        matcher = self._patterns[(kind, ban.who)]
        if kind == "peerhost_net":
            try:
                return ipaddress.ip_address(value) in matcher
            except ValueError:
                return False
        return matcher.match(value) is not None
