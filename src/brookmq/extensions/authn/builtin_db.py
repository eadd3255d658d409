"""The built-in database authenticator (``password_based:built_in_database``).

Users (``user_id``, salted password hash, ``is_superuser``, ``created_at``) live in the store's
``authn_users`` collection, keyed by ``user_id_type`` (``username`` or ``clientid``): one table,
two views, which the v3/v4 ``auth_username`` / ``auth_clientid`` APIs share (``view``). A
client is checked against the record of the authenticator's own id type and, when there is none,
against the other view's (EMQX 4's ``emqx_auth_mnesia``, which looked up both): v5's users are
all of the own type, so this matters only for what the legacy APIs made.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any, Literal

from brookmq.core.store import Collection
from brookmq.extensions.authn.chain import Authenticator
from brookmq.extensions.authn.passwords import HASHING, HashingBusy, PasswordHash
from brookmq.mqtt import reason_codes as rc

Credential = tuple[str, str]  # (salt, password hash)


class UserExists(ValueError):
    pass


class BuiltinDatabase(Authenticator):
    """``password_based:built_in_database``."""

    id = "password_based:built_in_database"

    def __init__(
        self,
        users: Collection,
        user_id_type: Literal["username", "clientid"] = "username",
        password_hash: PasswordHash | None = None,
    ) -> None:
        super().__init__()
        self.users = users
        self.user_id_type = user_id_type
        self.password_hash = password_hash or PasswordHash()

    def view(self, user_id_type: Literal["username", "clientid"]) -> BuiltinDatabase:
        """The same table and hashing, seen by the other id type (the legacy APIs' views)."""
        return BuiltinDatabase(self.users, user_id_type, self.password_hash)

    def _key(self, user_id: str) -> str:
        return f"{self.user_id_type}:{user_id}"

    def _get(self, user_id: str) -> dict[str, Any] | None:
        return self.users.get(self._key(user_id))

    def _put(self, user_id: str, doc: dict[str, Any]) -> None:
        self.users.put(self._key(user_id), doc)

    async def credential(self, password: str) -> Credential:
        """``(salt, hash)`` of ``password``, made off the event loop when the hash is slow: give
        it to ``add_user`` / ``update_user`` as ``hashed``."""
        salt = self.password_hash.new_salt()
        return salt, await HASHING.hash(self.password_hash, password, salt)

    def add_user(
        self, user_id: str, password: str, is_superuser: bool = False, hashed: Credential | None = None
    ) -> dict[str, Any]:
        if not user_id:
            raise ValueError("user_id must not be empty")
        if self._get(user_id) is not None:
            raise UserExists("User already exists")
        self._put(user_id, self._record(user_id, hashed or self._hashed(password), is_superuser))
        return {"user_id": user_id, "is_superuser": is_superuser}

    def update_user(
        self,
        user_id: str,
        password: str | None = None,
        is_superuser: bool | None = None,
        hashed: Credential | None = None,
    ) -> dict[str, Any] | None:
        doc = self._get(user_id)
        if doc is None:
            return None
        superuser = doc["is_superuser"] if is_superuser is None else is_superuser
        if password is not None:
            made = doc.get("created_at")
            doc = self._record(user_id, hashed or self._hashed(password), superuser)
            doc["created_at"] = made
        doc["is_superuser"] = superuser
        self._put(user_id, doc)
        return {"user_id": user_id, "is_superuser": superuser}

    def delete_user(self, user_id: str) -> bool:
        return self.users.delete(self._key(user_id))

    def user(self, user_id: str) -> dict[str, Any] | None:
        """``{user_id, is_superuser}``: never the hash or the salt."""
        doc = self._get(user_id)
        return None if doc is None else {"user_id": user_id, "is_superuser": doc["is_superuser"]}

    def records(self) -> list[dict[str, Any]]:
        """``{user_id, is_superuser, created_at (epoch ms, None before it was kept)}`` of this
        view, in the order they were added."""
        prefix = f"{self.user_id_type}:"
        return [
            {
                "user_id": doc["user_id"],
                "is_superuser": doc["is_superuser"],
                "created_at": doc.get("created_at"),
            }
            for key, doc in self.users.items()
            if key.startswith(prefix)
        ]

    def _hashed(self, password: str) -> Credential:
        salt = self.password_hash.new_salt()
        return salt, self.password_hash.hash(password, salt)

    @staticmethod
    def _record(user_id: str, credential: Credential, is_superuser: bool) -> dict[str, Any]:
        salt, password_hash = credential
        return {
            "user_id": user_id,
            "password_hash": password_hash,
            "salt": salt,
            "is_superuser": is_superuser,
            "created_at": int(time.time() * 1000),
        }

    def stored(self) -> list[dict[str, Any]]:
        """This view's records as kept, hash and salt included: for backups only."""
        prefix = f"{self.user_id_type}:"
        return [dict(doc) for key, doc in self.users.items() if key.startswith(prefix)]

    def restore(
        self, user_id: str, password_hash: str, salt: str, is_superuser: bool, created_at: Any, salt_hex: bool
    ) -> None:
        """A record made elsewhere (a backup, EMQX 4's ``auth_mnesia``), hashed as this
        authenticator hashes; ``salt_hex``: the salt is the hex of bytes (EMQX 4's 4-byte salts).
        Replaces a record of the same id."""
        doc = {
            "user_id": user_id,
            "password_hash": password_hash,
            "salt": salt,
            "is_superuser": is_superuser,
            "created_at": created_at,
        }
        if salt_hex:
            doc["salt_hex"] = True
        self._put(user_id, doc)

    def _record_of(self, client: Any) -> dict[str, Any] | None:
        """The client's record: by the own id type, else by the other one (``emqx_auth_mnesia``)."""
        for kind in (self.user_id_type, "clientid" if self.user_id_type == "username" else "username"):
            user_id = client.username if kind == "username" else client.client_id
            doc = self.users.get(f"{kind}:{user_id}") if user_id else None
            if doc is not None:
                return doc
        return None

    def authenticate(self, client: Any, password: bytes | None) -> bool | int | Awaitable[Any] | None:
        """A slow hash (bcrypt, pbkdf2) answers with an awaitable: checked off the event loop."""
        doc = self._record_of(client)
        if doc is None:
            return None
        try:
            given = (password or b"").decode()
        except UnicodeDecodeError:
            return False
        if self.password_hash.slow:
            return self._check_off_loop(client, given, doc)
        return self._verdict(client, doc, self.password_hash.verify(given, _salt(doc), doc["password_hash"]))

    async def _check_off_loop(self, client: Any, given: str, doc: dict[str, Any]) -> bool | int:
        try:
            matched = await HASHING.verify(self.password_hash, given, _salt(doc), doc["password_hash"])
        except HashingBusy:
            return rc.SERVER_BUSY
        return self._verdict(client, doc, matched)

    @staticmethod
    def _verdict(client: Any, doc: dict[str, Any], matched: bool) -> bool:
        if matched:
            client.is_superuser = bool(doc["is_superuser"])
        return matched


def _salt(doc: dict[str, Any]) -> str | bytes:
    return bytes.fromhex(doc["salt"]) if doc.get("salt_hex") else str(doc["salt"])
