"""Authentication as the management API shows it: the chain's authenticators, their counters,
and the users of the built-in database authenticator (passwords are never shown)."""

from __future__ import annotations

from typing import Any, Literal

from brookmq.extensions.authn.builtin_db import BuiltinDatabase, UserExists
from brookmq.extensions.authn.chain import Authentication, Authenticator
from brookmq.service.configs import ConfigPort, redact, unredact
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.ordering import moved, reordered
from brookmq.service.paging import Page, page_of


def id_of(entry: dict[str, Any]) -> str:
    """EMQX's id of an authenticator's settings: ``password_based:built_in_database``, ``jwt``."""
    mechanism = entry.get("mechanism", "password_based")
    return "jwt" if mechanism == "jwt" else f"{mechanism}:{entry.get('backend', 'built_in_database')}"


class Authn:
    """The chain's settings are the ``authentication`` root; changes go through the
    ``ConfigPort``, which checks them, keeps them and rebuilds the chain."""

    def __init__(self, authentication: Authentication, config: ConfigPort) -> None:
        self.authentication = authentication
        self.config = config

    def _entries(self) -> list[dict[str, Any]]:
        return list(self.config.get("authentication"))

    def _entry(self, authenticator_id: str) -> dict[str, Any]:
        found = next((e for e in self._entries() if id_of(e) == authenticator_id), None)
        if found is None:
            raise NotFound(f"Authenticator {authenticator_id} not found")
        return found

    def _authenticator(self, authenticator_id: str) -> Authenticator:
        found = self.authentication.get(authenticator_id)
        if found is None:
            raise NotFound(f"Authenticator {authenticator_id} not found")
        return found

    def _database(self, authenticator_id: str) -> BuiltinDatabase:
        found = self._authenticator(authenticator_id)
        if not isinstance(found, BuiltinDatabase):
            raise NotFound(f"Authenticator {authenticator_id} has no users")
        return found

    def authenticators(self) -> list[dict[str, Any]]:
        """Each one's settings with its ``id``, in chain order; secrets read ``******``."""
        return [{"id": id_of(e), **redact(e)} for e in self._entries()]

    def get(self, authenticator_id: str) -> dict[str, Any]:
        return {"id": authenticator_id, **redact(self._entry(authenticator_id))}

    async def create(self, entry: Any) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise Invalid("must be an object", "body")
        new_id = id_of(entry)
        if any(id_of(e) == new_id for e in self._entries()):
            raise AlreadyExists(f"authenticator {new_id} already exists")
        await self.config.update("authentication", [*self._entries(), entry])
        return self.get(new_id)

    async def update(self, authenticator_id: str, entry: Any) -> dict[str, Any]:
        """Replace its settings (the same mechanism and backend); ``******`` keeps a secret."""
        current = self._entry(authenticator_id)
        if not isinstance(entry, dict):
            raise Invalid("must be an object", "body")
        entry = {"mechanism": current.get("mechanism"), "backend": current.get("backend"), **entry}
        entry = {k: v for k, v in entry.items() if v is not None and k != "id"}
        if id_of(entry) != authenticator_id:
            raise Invalid(f"cannot turn {authenticator_id} into {id_of(entry)}", "mechanism")
        entries = [unredact(entry, e) if id_of(e) == authenticator_id else e for e in self._entries()]
        await self.config.update("authentication", entries)
        return self.get(authenticator_id)

    async def delete(self, authenticator_id: str) -> None:
        self._entry(authenticator_id)
        await self.config.update(
            "authentication", [e for e in self._entries() if id_of(e) != authenticator_id]
        )

    async def move(self, authenticator_id: str, position: str) -> None:
        await self.config.update("authentication", moved(self._entries(), id_of, authenticator_id, position))

    async def order(self, ids: list[str]) -> None:
        await self.config.update("authentication", reordered(self._entries(), id_of, ids))

    def status(self, authenticator_id: str) -> dict[str, Any]:
        found = self._authenticator(authenticator_id)
        return {"metrics": dict(found.metrics), "status": "connected" if found.enable else "disconnected"}

    def users(
        self,
        authenticator_id: str,
        like_user_id: str | None,
        is_superuser: bool | None,
        page: int,
        limit: int,
    ) -> Page:
        """Users in the order they were added; ``like_user_id`` is a substring (no ``count``)."""
        rows = (
            {"user_id": doc["user_id"], "is_superuser": doc["is_superuser"]}
            for doc in self._database(authenticator_id).records()
            if (is_superuser is None or doc["is_superuser"] == is_superuser)
            and (like_user_id is None or like_user_id in doc["user_id"])
        )
        if like_user_id is not None:
            return page_of(rows, page, limit)
        listed = list(rows)
        return page_of(iter(listed), page, limit, len(listed))

    def user(self, authenticator_id: str, user_id: str) -> dict[str, Any]:
        found = self._database(authenticator_id).user(user_id)
        if found is None:
            raise NotFound("User not found")
        return found

    async def add_user(
        self, authenticator_id: str, user_id: str, password: str, is_superuser: bool
    ) -> dict[str, Any]:
        return await self._add(self._database(authenticator_id), user_id, password, is_superuser)

    async def _add(
        self, db: BuiltinDatabase, user_id: str, password: str, is_superuser: bool
    ) -> dict[str, Any]:
        if not user_id:
            raise Invalid("must not be empty", "user_id")
        if len(user_id) > 1024 or any(c in user_id for c in "\x00\r\n"):
            # as MQTT carries a username or client id: no NUL; no line breaks (they would forge
            # log lines); bounded
            raise Invalid("must be at most 1024 characters, without NUL, CR or LF", "user_id")
        try:
            return db.add_user(user_id, password, is_superuser, hashed=await db.credential(password))
        except UserExists:
            raise AlreadyExists("User already exists") from None

    async def update_user(
        self, authenticator_id: str, user_id: str, password: str | None, is_superuser: bool | None
    ) -> dict[str, Any]:
        if password is None and is_superuser is None:
            raise Invalid("give password and/or is_superuser")
        return await self._update(self._database(authenticator_id), user_id, password, is_superuser)

    async def _update(
        self, db: BuiltinDatabase, user_id: str, password: str | None, is_superuser: bool | None
    ) -> dict[str, Any]:
        hashed = await db.credential(password) if password is not None else None
        found = db.update_user(user_id, password, is_superuser, hashed=hashed)
        if found is None:
            raise NotFound("User not found")
        return found

    def delete_user(self, authenticator_id: str, user_id: str) -> None:
        if not self._database(authenticator_id).delete_user(user_id):
            raise NotFound("User not found")

    # ------------------------------------------------ the v3/v4 views (auth_clientid, auth_username)

    def view(self, user_id_type: Literal["username", "clientid"]) -> BuiltinDatabase:
        """The built-in database seen by ``user_id_type``; NotFound ``not_started`` while no
        built-in database authenticator is in the chain (as EMQX 4 without emqx_auth_mnesia)."""
        found = self.authentication.get(BuiltinDatabase.id)
        if not isinstance(found, BuiltinDatabase):
            raise NotFound("not_started", "authenticator")
        return found.view(user_id_type)

    def view_users(
        self, user_id_type: Literal["username", "clientid"], like: str | None, page: int, limit: int
    ) -> Page:
        """Newest first, as EMQX 4; ``like`` a substring."""
        rows = [r for r in self.view(user_id_type).records() if like is None or like in r["user_id"]]
        order = {id(row): i for i, row in enumerate(rows)}  # ties in the same ms: the later first
        rows.sort(key=lambda r: (r["created_at"] or 0, order[id(r)]), reverse=True)
        return page_of(iter(rows), page, limit, len(rows))

    def view_user(self, user_id_type: Literal["username", "clientid"], user_id: str) -> dict[str, Any]:
        found = next((r for r in self.view(user_id_type).records() if r["user_id"] == user_id), None)
        if found is None:
            raise NotFound("User not found")
        return found

    async def add_to_view(
        self, user_id_type: Literal["username", "clientid"], user_id: str, password: str
    ) -> dict[str, Any]:
        return await self._add(self.view(user_id_type), user_id, password, False)

    async def update_in_view(
        self, user_id_type: Literal["username", "clientid"], user_id: str, password: str
    ) -> dict[str, Any]:
        return await self._update(self.view(user_id_type), user_id, password, None)

    def delete_from_view(self, user_id_type: Literal["username", "clientid"], user_id: str) -> None:
        self.view(user_id_type).delete_user(user_id)
