"""The authentication chain on ``client.authenticate``, like EMQX's.

Each enabled authenticator is asked in order; the first that knows the client decides (allow
or deny), one that does not know it (``None``, EMQX's ``ignore``) passes. With no enabled
authenticator every client is let in (EMQX's default) unless ``allow_anonymous`` is off; with
authenticators and none that knows the client, it is refused as not authorized (0x87, v3
0x05); a wrong password or token is refused as bad credentials (0x86, v3 0x04). An
authenticator that fails
(raises) denies: it never lets anyone in. An authenticator may answer with an awaitable (an
HTTP request); then the rest of the chain runs when it is done, and CONNECT waits for it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook
from brookmq.mqtt import reason_codes as rc

log = logging.getLogger("brookmq.authn")


class AlreadyExists(ValueError):
    pass


class Authenticator:
    """One link of the chain: ``authenticate`` returns True (and sets ``client.is_superuser``)
    to allow, False to deny, None when it does not know the client, or an awaitable of one."""

    id = ""

    def __init__(self) -> None:
        self.enable = True
        self.metrics = {"total": 0, "success": 0, "failed": 0, "nomatch": 0}

    def authenticate(
        self, client: Any, password: bytes | None
    ) -> bool | int | Awaitable[bool | int | None] | None:
        """A reason code refuses with it (e.g. 0x89 server busy)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release what it holds (connections)."""

    def count(self, verdict: bool | int | None) -> None:
        metrics = self.metrics
        metrics["total"] += 1
        metrics["nomatch" if verdict is None else "success" if verdict is True else "failed"] += 1


class Authentication(Hook):
    """The chain."""

    def __init__(self, broker: Broker, allow_anonymous: bool = True) -> None:
        self.broker = broker
        self.allow_anonymous = allow_anonymous
        self.authenticators: list[Authenticator] = []

    def add(self, authenticator: Authenticator) -> Authenticator:
        """Append ``authenticator`` to the chain; one of each kind (EMQX's id) at most."""
        if self.get(authenticator.id) is not None:
            raise AlreadyExists(f"authenticator {authenticator.id} already exists")
        self.authenticators.append(authenticator)
        return authenticator

    def get(self, authenticator_id: str) -> Authenticator | None:
        return next((a for a in self.authenticators if a.id == authenticator_id), None)

    async def remove(self, authenticator_id: str) -> bool:
        found = self.get(authenticator_id)
        if found is None:
            return False
        self.authenticators.remove(found)
        await found.close()
        return True

    def start(self) -> None:
        self.broker.hooks.add(self)

    async def stop(self) -> None:
        self.broker.hooks.remove(self)
        for authenticator in self.authenticators:
            await authenticator.close()

    def client_authenticate(self, client: Any, password: bytes | None) -> Any:
        chain = [a for a in self.authenticators if a.enable]
        if not chain:
            return None if self.allow_anonymous else rc.NOT_AUTHORIZED
        return self._run(chain, 0, client, password)

    def _run(self, chain: list[Authenticator], start: int, client: Any, password: bytes | None) -> Any:
        for index in range(start, len(chain)):
            authenticator = chain[index]
            try:
                verdict = authenticator.authenticate(client, password)
            except Exception:
                log.exception("authenticator %s failed; denying %r", authenticator.id, client.client_id)
                verdict = False
            if inspect.isawaitable(verdict):
                return self._finish(chain, index, verdict, client, password)
            authenticator.count(verdict)
            if verdict is not None:
                return verdict
        return rc.NOT_AUTHORIZED  # nobody knows this client

    async def _finish(
        self,
        chain: list[Authenticator],
        index: int,
        pending: Awaitable[bool | int | None],
        client: Any,
        password: bytes | None,
    ) -> bool | int:
        try:
            verdict = await pending
        except Exception:
            log.exception("authenticator %s failed; denying %r", chain[index].id, client.client_id)
            verdict = False
        chain[index].count(verdict)
        if verdict is not None:
            return verdict
        rest = self._run(chain, index + 1, client, password)
        return await rest if inspect.isawaitable(rest) else rest
