"""Password authentication, like EMQX's: a chain of authenticators on ``client.authenticate``
and the built-in database authenticator.

The chain asks each authenticator in order; the first that knows the client decides (allow
or deny), one that does not know it passes. With no authenticator configured every client
is let in (EMQX's default) unless ``allow_anonymous`` is off; with authenticators configured
and none that knows the client, it is refused.

The built-in database keeps users (``user_id``, salted password hash, ``is_superuser``) in the
store's ``authn_users`` collection, keyed by ``user_id_type`` (``username`` or ``clientid``):
one table, two views, which the v3/v4 ``auth_username`` / ``auth_clientid`` APIs will share.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import bcrypt

from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook
from brookmq.core.store import Collection
from brookmq.extensions.tables import collection

HashName = Literal["plain", "md5", "sha", "sha256", "sha512", "bcrypt", "pbkdf2"]
_DIGESTS = {"md5": "md5", "sha": "sha1", "sha256": "sha256", "sha512": "sha512"}


@dataclass(frozen=True, slots=True)
class PasswordHash:
    """EMQX's ``password_hash_algorithm``."""

    name: HashName = "sha256"
    salt_position: Literal["prefix", "suffix", "disable"] = "prefix"
    salt_rounds: int = 10  # bcrypt
    mac_fun: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "sha256"  # pbkdf2
    iterations: int = 4096  # pbkdf2
    dk_length: int | None = None  # pbkdf2; None: the digest's size

    def __post_init__(self) -> None:
        if not 5 <= self.salt_rounds <= 10:
            raise ValueError("salt_rounds: must be 5..10")
        if self.iterations < 1:
            raise ValueError("iterations: must be positive")

    def new_salt(self) -> str:
        if self.name == "bcrypt":
            return bcrypt.gensalt(self.salt_rounds).decode()
        if self.name == "plain" or (self.name in _DIGESTS and self.salt_position == "disable"):
            return ""
        return secrets.token_hex(16)

    def hash(self, password: str, salt: str) -> str:
        data = password.encode()
        if self.name == "plain":
            return password
        if self.name == "bcrypt":
            return bcrypt.hashpw(data, salt.encode()).decode()
        if self.name == "pbkdf2":
            mac = "sha1" if self.mac_fun == "sha" else self.mac_fun
            return hashlib.pbkdf2_hmac(mac, data, salt.encode(), self.iterations, self.dk_length).hex()
        salted = {"prefix": salt.encode() + data, "suffix": data + salt.encode()}.get(
            self.salt_position, data
        )
        return hashlib.new(_DIGESTS[self.name], salted).hexdigest()

    def verify(self, password: str, salt: str, stored: str) -> bool:
        return hmac.compare_digest(self.hash(password, salt).encode(), stored.encode())


class Authenticator(Protocol):
    id: str

    def authenticate(self, client: Any, password: bytes | None) -> bool | None:
        """True (and ``client.is_superuser`` set) to allow, False to deny, None when it does
        not know the client."""


class UserExists(ValueError):
    pass


class BuiltinDatabase:
    """``password_based:built_in_database``."""

    id = "password_based:built_in_database"

    def __init__(
        self,
        users: Collection,
        user_id_type: Literal["username", "clientid"] = "username",
        password_hash: PasswordHash | None = None,
    ) -> None:
        self.users = users
        self.user_id_type = user_id_type
        self.password_hash = password_hash or PasswordHash()

    def _key(self, user_id: str) -> str:
        return f"{self.user_id_type}:{user_id}"

    def _get(self, user_id: str) -> dict[str, Any] | None:
        return self.users.get(self._key(user_id))

    def _put(self, user_id: str, doc: dict[str, Any]) -> None:
        self.users.put(self._key(user_id), doc)

    def add_user(self, user_id: str, password: str, is_superuser: bool = False) -> dict[str, Any]:
        if not user_id:
            raise ValueError("user_id must not be empty")
        if self._get(user_id) is not None:
            raise UserExists("User already exists")
        self._put(user_id, self._record(user_id, password, is_superuser))
        return {"user_id": user_id, "is_superuser": is_superuser}

    def update_user(
        self, user_id: str, password: str | None = None, is_superuser: bool | None = None
    ) -> dict[str, Any] | None:
        doc = self._get(user_id)
        if doc is None:
            return None
        superuser = doc["is_superuser"] if is_superuser is None else is_superuser
        if password is not None:
            doc = self._record(user_id, password, superuser)
        doc["is_superuser"] = superuser
        self._put(user_id, doc)
        return {"user_id": user_id, "is_superuser": superuser}

    def delete_user(self, user_id: str) -> bool:
        return self.users.delete(self._key(user_id))

    def user(self, user_id: str) -> dict[str, Any] | None:
        """``{user_id, is_superuser}``: never the hash or the salt."""
        doc = self._get(user_id)
        return None if doc is None else {"user_id": user_id, "is_superuser": doc["is_superuser"]}

    def _record(self, user_id: str, password: str, is_superuser: bool) -> dict[str, Any]:
        salt = self.password_hash.new_salt()
        return {
            "user_id": user_id,
            "password_hash": self.password_hash.hash(password, salt),
            "salt": salt,
            "is_superuser": is_superuser,
        }

    def authenticate(self, client: Any, password: bytes | None) -> bool | None:
        user_id = client.username if self.user_id_type == "username" else client.client_id
        doc = self._get(user_id) if user_id else None
        if doc is None:
            return None
        try:
            given = (password or b"").decode()
        except UnicodeDecodeError:
            return False
        if not self.password_hash.verify(given, doc["salt"], doc["password_hash"]):
            return False
        client.is_superuser = bool(doc["is_superuser"])
        return True


class Authentication(Hook):
    """The chain on ``client.authenticate``."""

    def __init__(self, broker: Broker, allow_anonymous: bool = True) -> None:
        self.broker = broker
        self.allow_anonymous = allow_anonymous
        self.authenticators: list[Authenticator] = []

    def builtin_database(
        self,
        user_id_type: Literal["username", "clientid"] = "username",
        password_hash: PasswordHash | None = None,
    ) -> BuiltinDatabase:
        """Add the built-in database authenticator at the end of the chain."""
        db = BuiltinDatabase(collection(self.broker, "authn_users"), user_id_type, password_hash)
        self.authenticators.append(db)
        return db

    def start(self) -> None:
        self.broker.hooks.add(self)

    def stop(self) -> None:
        self.broker.hooks.remove(self)

    def client_authenticate(self, client: Any, password: bytes | None) -> bool | None:
        if not self.authenticators:
            return None if self.allow_anonymous else False
        for authenticator in self.authenticators:
            try:
                verdict = authenticator.authenticate(client, password)
            except Exception:
                return False  # an authenticator that cannot work denies; it never lets in
            if verdict is not None:
                return verdict
        return False
