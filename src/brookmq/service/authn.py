"""Authentication as the management API shows it: the chain's authenticators, their counters,
and the users of the built-in database authenticator (passwords are never shown)."""

from __future__ import annotations

from typing import Any

from brookmq.extensions.authn.builtin_db import BuiltinDatabase, UserExists
from brookmq.extensions.authn.chain import Authentication, Authenticator
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.paging import Page, page_of


class Authn:
    def __init__(self, authentication: Authentication) -> None:
        self.authentication = authentication

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
        """``{id, mechanism, backend, enable}`` of each, in chain order."""
        out = []
        for a in self.authentication.authenticators:
            mechanism, _, backend = a.id.partition(":")
            row = {"id": a.id, "mechanism": mechanism, "enable": a.enable}
            if backend:
                row["backend"] = backend
            if isinstance(a, BuiltinDatabase):
                row["user_id_type"] = a.user_id_type
            out.append(row)
        return out

    def get(self, authenticator_id: str) -> dict[str, Any]:
        self._authenticator(authenticator_id)
        return next(a for a in self.authenticators() if a["id"] == authenticator_id)

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
        db = self._database(authenticator_id)
        prefix = f"{db.user_id_type}:"
        rows = (
            {"user_id": doc["user_id"], "is_superuser": doc["is_superuser"]}
            for key, doc in db.users.items()
            if key.startswith(prefix)
            and (is_superuser is None or doc["is_superuser"] == is_superuser)
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

    def add_user(
        self, authenticator_id: str, user_id: str, password: str, is_superuser: bool
    ) -> dict[str, Any]:
        if not user_id:
            raise Invalid("must not be empty", "user_id")
        try:
            return self._database(authenticator_id).add_user(user_id, password, is_superuser)
        except UserExists:
            raise AlreadyExists("User already exists") from None

    def update_user(
        self, authenticator_id: str, user_id: str, password: str | None, is_superuser: bool | None
    ) -> dict[str, Any]:
        if password is None and is_superuser is None:
            raise Invalid("give password and/or is_superuser")
        found = self._database(authenticator_id).update_user(user_id, password, is_superuser)
        if found is None:
            raise NotFound("User not found")
        return found

    def delete_user(self, authenticator_id: str, user_id: str) -> None:
        if not self._database(authenticator_id).delete_user(user_id):
            raise NotFound("User not found")
