"""Dashboard users, their login tokens and the login lockout (EMQX's rules).

* Users live in the ``dashboard_users`` collection: username (``^[_a-zA-Z0-9]+$``), bcrypt hash,
  role (``administrator`` or ``viewer``), description. At the first start the default user
  ``admin`` is made with ``dashboard.default_password`` (``public``); ``default_password_in_use``
  tells whether it was never changed, so the broker can warn loudly.
* Passwords: 8..64 ASCII characters with at least two of letters, digits and specials.
* ``login`` gives a JWT (HS256, a secret made once per install and kept in the ``settings``
  collection, ``alg`` pinned) valid ``token_ttl`` seconds. Each token is recorded
  (``dashboard_tokens``) so it can be revoked: by logout, and all of a user's tokens when the
  password or role changes or the user is deleted.
* Lockout (EMQX's numbers, per source so that it is no denial of service): five failed logins
  of one username from one address within five minutes lock that pair (not the account) for ten
  minutes; twenty failures from one address, whatever the usernames, lock the address. Locks are
  kept in ``settings`` and survive a restart. An unknown username costs the same hash as a known
  one (no enumeration by timing). Hashes run off the event loop (``HASHING``).
* The last administrator can be neither demoted nor deleted.
"""

from __future__ import annotations

import builtins
import re
import secrets
import string
import time
from collections import deque
from typing import Any

import jwt

from brookmq.core.store import Collection
from brookmq.extensions.authn.passwords import HASHING, HashingBusy, PasswordHash
from brookmq.service.errors import AlreadyExists, BadCredentials, Invalid, NotAllowed, NotFound

ROLES = ("administrator", "viewer")
DEFAULT_USER = "admin"
USERNAME = re.compile(r"^[_a-zA-Z0-9]+$")
SPECIALS = set("!@#$%^&*()_+-=[]{}\"|;':,./<>?\\`~ ")
LOCK_AFTER, SOURCE_LOCK_AFTER, LOCK_WINDOW, LOCK_TIME = 5, 20, 300.0, 600.0
_HASH = PasswordHash("bcrypt", salt_rounds=10)
_LOCKS = "dashboard_login_locks"  # the settings document of the locks in force
_ANY_USER = ""  # a lock key's username part when the whole address is locked


def check_password(password: Any, field: str = "password") -> str:
    if not isinstance(password, str) or not password:
        raise Invalid("must not be empty", field)
    if not 8 <= len(password) <= 64:
        raise Invalid("The range of password length is 8~64", field)
    if not password.isascii():
        raise Invalid("must be ASCII", field)
    kinds = (
        any(c in string.ascii_letters for c in password)
        + any(c in string.digits for c in password)
        + any(c in SPECIALS for c in password)
    )
    if kinds < 2:
        raise Invalid("must contain at least two of: letters, digits, special characters", field)
    return password


class DashboardUsers:
    def __init__(
        self,
        users: Collection,
        tokens: Collection,
        settings: Collection,
        token_ttl: float = 3600.0,
        default_password: str = "public",
        clock: Any = time,
    ) -> None:
        self.users = users
        self.tokens = tokens
        self.settings = settings
        self.token_ttl = token_ttl
        self.default_password = default_password
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}  # (username or _ANY_USER, address)
        self._locked_until: dict[tuple[str, str], float] = {
            (user, source): until
            for user, source, until in (settings.get(_LOCKS) or {}).get("locks", [])
            if until > clock.time()
        }
        self._decoy: dict[str, str] | None = None  # what an unknown username is checked against
        secret = settings.get("dashboard_jwt_secret")
        if secret is None:
            secret = {"secret": secrets.token_urlsafe(32)}
            settings.put("dashboard_jwt_secret", secret)
        self._secret = secret["secret"]

    # ---------------------------------------------------------------- users

    def ensure_default_user(self) -> None:
        """The first start makes ``admin`` with the configured default password (its rules waived)."""
        if len(self.users) == 0:
            self._put(DEFAULT_USER, self.default_password, "administrator", "administrator")

    def default_password_in_use(self) -> bool:
        doc = self.users.get(DEFAULT_USER)
        return doc is not None and _HASH.verify("public", doc["salt"], doc["password_hash"])

    def list(self) -> list[dict[str, Any]]:
        return [self._public(doc) for _, doc in self.users.items()]

    def get(self, username: str) -> dict[str, Any]:
        doc = self.users.get(username)
        if doc is None:
            raise NotFound(f"User {username} not found", "user")
        return self._public(doc)

    async def create(
        self, username: Any, password: Any, role: Any = "administrator", description: Any = ""
    ) -> dict[str, Any]:
        if not isinstance(username, str) or not username or not isinstance(password, str) or not password:
            raise Invalid("Username or password undefined")
        if not USERNAME.match(username) or len(username) > 100:
            raise Invalid("must match ^[_a-zA-Z0-9]+$ (at most 100 characters)", "username")
        check_password(password)
        _check_role(role)
        if not isinstance(description, str):
            raise Invalid("must be a string", "description")
        if self.users.get(username) is not None:
            raise AlreadyExists(f"username {username} already exists")
        salt = _HASH.new_salt()
        self._store(username, await _hashed(password, salt), salt, role, description)
        return self.get(username)

    def update(self, username: str, role: Any = None, description: Any = None) -> dict[str, Any]:
        doc = self.users.get(username)
        if doc is None:
            raise NotFound(f"User {username} not found", "user")
        if role is not None:
            _check_role(role)
            if role != doc["role"]:
                self._not_last_administrator(doc, "demote")
                self._revoke(username)
            doc["role"] = role
        if description is not None:
            if not isinstance(description, str):
                raise Invalid("must be a string", "description")
            doc["description"] = description
        self.users.put(username, doc)
        return self._public(doc)

    def delete(self, username: str, by: str | None = None) -> None:
        doc = self.users.get(username)
        if doc is None:
            raise NotFound(f"User {username} not found", "user")
        if username == DEFAULT_USER:
            raise NotAllowed("Cannot delete the default user admin")
        if username == by:
            raise NotAllowed("Cannot delete self")
        self._not_last_administrator(doc, "delete")
        self._revoke(username)
        self.users.delete(username)

    def _not_last_administrator(self, doc: dict[str, Any], action: str) -> None:
        admins = sum(1 for _, other in self.users.items() if other["role"] == "administrator")
        if doc["role"] == "administrator" and admins <= 1:
            raise NotAllowed(f"Cannot {action} the last administrator")

    async def change_password(self, username: str, old: Any, new: Any) -> None:
        doc = self.users.get(username)
        if doc is None:
            raise NotFound(f"User {username} not found", "user")
        if not isinstance(old, str) or not old:
            raise Invalid("must not be empty", "old_pwd")
        check_password(new, "new_pwd")
        if not await _verified(old, doc):
            raise NotAllowed("Old password not match")
        salt = _HASH.new_salt()
        self._store(username, await _hashed(new, salt), salt, doc["role"], doc["description"])
        self._revoke(username)

    def _put(self, username: str, password: str, role: str, description: str) -> None:
        """At start-up only: hashes on the loop."""
        salt = _HASH.new_salt()
        self._store(username, _HASH.hash(password, salt), salt, role, description)

    def _store(self, username: str, password_hash: str, salt: str, role: str, description: str) -> None:
        self.users.put(username, _user_doc(username, password_hash, salt, role, description))

    def stored(self) -> builtins.list[dict[str, Any]]:
        """Every user as kept, hash and salt included: for backups only."""
        return [dict(doc) for _, doc in self.users.items()]

    def restorable(
        self, username: Any, password_hash: Any, salt: Any, role: Any, description: Any, scheme: Any = ""
    ) -> dict[str, Any]:
        """A user from a backup, checked and ready for ``restore`` (``scheme``: one of
        ``EMQX4_SCHEMES`` for EMQX 4's hashes, made bcrypt at the first login)."""
        if not isinstance(username, str) or not USERNAME.match(username) or len(username) > 100:
            raise Invalid("must match ^[_a-zA-Z0-9]+$ (at most 100 characters)", "username")
        if (
            not isinstance(password_hash, str)
            or not isinstance(salt, str)
            or not isinstance(description, str)
        ):
            raise Invalid("must be strings", "password, salt and tags")
        _check_role(role)
        if scheme and scheme not in EMQX4_SCHEMES:
            raise Invalid(f"must be one of {', '.join(EMQX4_SCHEMES)}", "scheme")
        doc = _user_doc(username, password_hash, salt, role, description)
        return {**doc, "scheme": scheme} if scheme else doc

    def restore(self, doc: dict[str, Any]) -> None:
        """Put what ``restorable`` made, in place of a user of the same name (its tokens revoked)."""
        self._revoke(doc["username"])
        self.users.put(doc["username"], doc)

    @staticmethod
    def _public(doc: dict[str, Any]) -> dict[str, Any]:
        return {"username": doc["username"], "role": doc["role"], "description": doc["description"]}

    # ---------------------------------------------------------------- tokens

    async def check(self, username: Any, password: Any, source: str = "") -> str:
        """The user's role when the password is right; BadCredentials when wrong or locked.
        ``source`` is the caller's address: lockouts are per username and address, and per
        address. (HTTP Basic with a dashboard user, as EMQX 4's dashboard takes, checks here too.)"""
        if not isinstance(username, str) or not isinstance(password, str):
            raise BadCredentials("bad_password", "Auth failed")
        now = self.clock.time()
        if self._locked(username, source, now):
            raise BadCredentials("locked", "Login failed: too many attempts, try again later")
        doc = self.users.get(username)
        try:
            matched = await _verified(password, doc or await self._decoy_user())
        except HashingBusy:
            raise BadCredentials("busy", "Login failed: the server is busy, try again later") from None
        if doc is None or not matched:
            self._failed(username, source, now)
            raise BadCredentials("bad_password", "Auth failed")
        self._failures.pop((username, source), None)
        if doc.get("scheme") in EMQX4_SCHEMES:  # imported from EMQX 4: bcrypt from now on
            salt = _HASH.new_salt()
            self._store(username, await _hashed(password, salt), salt, doc["role"], doc["description"])
        return str(doc["role"])

    async def login(self, username: Any, password: Any, source: str = "") -> tuple[str, str]:
        """A token and the user's role (``check`` first)."""
        role = await self.check(username, password, source)
        now = self.clock.time()
        self._sweep(now)
        token_id = secrets.token_hex(16)
        expires = now + self.token_ttl
        self.tokens.put(token_id, {"username": username, "exp": expires})
        claims = {"sub": username, "jti": token_id, "iat": int(now), "exp": int(expires)}
        return jwt.encode(claims, self._secret, algorithm="HS256"), role

    async def _decoy_user(self) -> dict[str, str]:
        if self._decoy is None:
            salt = _HASH.new_salt()
            self._decoy = {"salt": salt, "password_hash": await _hashed(secrets.token_hex(16), salt)}
        return self._decoy

    def verify(self, token: str) -> dict[str, Any]:
        """The user a live token belongs to (``username``, ``role``)."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "jti"]}
            )
        except jwt.ExpiredSignatureError:
            raise BadCredentials("token_expired", "Token expired, get new token by POST /login") from None
        except jwt.InvalidTokenError:
            raise BadCredentials("bad_token", "Get a token by POST /login") from None
        record = self.tokens.get(str(claims["jti"]))
        doc = self.users.get(str(claims.get("sub")))
        if record is None or doc is None or record["username"] != doc["username"]:
            raise BadCredentials("bad_token", "Get a token by POST /login")
        if record["exp"] <= self.clock.time():
            raise BadCredentials("token_expired", "Token expired, get new token by POST /login")
        return {"username": doc["username"], "role": doc["role"], "token_id": claims["jti"]}

    def logout(self, token_id: str) -> None:
        self.tokens.delete(token_id)

    def _revoke(self, username: str) -> None:
        for token_id, record in self.tokens.items():
            if record["username"] == username:
                self.tokens.delete(token_id)

    def _sweep(self, now: float) -> None:
        for token_id, record in self.tokens.items():
            if record["exp"] <= now:
                self.tokens.delete(token_id)

    def _locked(self, username: str, source: str, now: float) -> bool:
        return any(
            self._locked_until.get(key, 0.0) > now for key in ((username, source), (_ANY_USER, source))
        )

    def _failed(self, username: str, source: str, now: float) -> None:
        for key, limit in (((username, source), LOCK_AFTER), ((_ANY_USER, source), SOURCE_LOCK_AFTER)):
            if key not in self._failures and len(self._failures) >= 10_000:
                self._failures.pop(next(iter(self._failures)))  # bounded, whatever names are tried
            failures = self._failures.setdefault(key, deque())
            failures.append(now)
            while failures and failures[0] <= now - LOCK_WINDOW:
                failures.popleft()
            if len(failures) >= limit:
                failures.clear()
                self._lock(key, now)

    def _lock(self, key: tuple[str, str], now: float) -> None:
        self._locked_until = {k: until for k, until in self._locked_until.items() if until > now}
        self._locked_until[key] = now + LOCK_TIME
        locks = [[user, source, until] for (user, source), until in self._locked_until.items()]
        self.settings.put(_LOCKS, {"locks": locks})


def _user_doc(username: str, password_hash: str, salt: str, role: str, description: str) -> dict[str, Any]:
    return {
        "username": username,
        "password_hash": password_hash,
        "salt": salt,
        "role": role,
        "description": description,
    }


async def _hashed(password: str, salt: str) -> str:
    return await HASHING.hash(_HASH, password, salt)


# EMQX 4's dashboard hashes: the digest of a 4-byte salt and the password (md5; sha256 later).
EMQX4_SCHEMES = {"emqx4:md5": PasswordHash("md5", "prefix"), "emqx4:sha256": PasswordHash("sha256", "prefix")}


async def _verified(password: str, doc: dict[str, Any]) -> bool:
    legacy = EMQX4_SCHEMES.get(doc.get("scheme", ""))
    if legacy is not None:
        return legacy.verify(password, bytes.fromhex(doc["salt"]), doc["password_hash"])
    return await HASHING.verify(_HASH, password, doc["salt"], doc["password_hash"])


def _check_role(role: Any) -> None:
    if role not in ROLES:
        raise Invalid("Role does not exist", "role")
