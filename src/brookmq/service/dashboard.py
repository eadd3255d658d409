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
* Five failed logins within five minutes lock the username for ten minutes.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from collections import deque
from typing import Any

import jwt

from brookmq.core.store import Collection
from brookmq.extensions.authn.passwords import PasswordHash
from brookmq.service.errors import AlreadyExists, BadCredentials, Invalid, NotAllowed, NotFound

ROLES = ("administrator", "viewer")
DEFAULT_USER = "admin"
USERNAME = re.compile(r"^[_a-zA-Z0-9]+$")
SPECIALS = set("!@#$%^&*()_+-=[]{}\"|;':,./<>?\\`~ ")
LOCK_AFTER, LOCK_WINDOW, LOCK_TIME = 5, 300.0, 600.0
_HASH = PasswordHash("bcrypt", salt_rounds=10)


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
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
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

    def create(
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
        self._put(username, password, role, description)
        return self.get(username)

    def update(self, username: str, role: Any = None, description: Any = None) -> dict[str, Any]:
        doc = self.users.get(username)
        if doc is None:
            raise NotFound(f"User {username} not found", "user")
        if role is not None:
            _check_role(role)
            if role != doc["role"]:
                self._revoke(username)
            doc["role"] = role
        if description is not None:
            if not isinstance(description, str):
                raise Invalid("must be a string", "description")
            doc["description"] = description
        self.users.put(username, doc)
        return self._public(doc)

    def delete(self, username: str, by: str | None = None) -> None:
        if self.users.get(username) is None:
            raise NotFound(f"User {username} not found", "user")
        if username == DEFAULT_USER:
            raise NotAllowed("Cannot delete the default user admin")
        if username == by:
            raise NotAllowed("Cannot delete self")
        self._revoke(username)
        self.users.delete(username)

    def change_password(self, username: str, old: Any, new: Any) -> None:
        doc = self.users.get(username)
        if doc is None:
            raise NotFound(f"User {username} not found", "user")
        if not isinstance(old, str) or not old:
            raise Invalid("must not be empty", "old_pwd")
        check_password(new, "new_pwd")
        if not _HASH.verify(old, doc["salt"], doc["password_hash"]):
            raise NotAllowed("Old password not match")
        self._put(username, new, doc["role"], doc["description"])
        self._revoke(username)

    def _put(self, username: str, password: str, role: str, description: str) -> None:
        salt = _HASH.new_salt()
        doc = {
            "username": username,
            "password_hash": _HASH.hash(password, salt),
            "salt": salt,
            "role": role,
            "description": description,
        }
        self.users.put(username, doc)

    @staticmethod
    def _public(doc: dict[str, Any]) -> dict[str, Any]:
        return {"username": doc["username"], "role": doc["role"], "description": doc["description"]}

    # ---------------------------------------------------------------- tokens

    def login(self, username: Any, password: Any) -> tuple[str, str]:
        """A token and the user's role; BadCredentials when wrong or locked."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise BadCredentials("bad_password", "Auth failed")
        now = self.clock.time()
        if self._locked_until.get(username, 0.0) > now:
            raise BadCredentials("locked", "Login failed: too many attempts, try again later")
        doc = self.users.get(username)
        if doc is None or not _HASH.verify(password, doc["salt"], doc["password_hash"]):
            self._failed(username, now)
            raise BadCredentials("bad_password", "Auth failed")
        self._failures.pop(username, None)
        self._sweep(now)
        token_id = secrets.token_hex(16)
        expires = now + self.token_ttl
        self.tokens.put(token_id, {"username": username, "exp": expires})
        claims = {"sub": username, "jti": token_id, "iat": int(now), "exp": int(expires)}
        return jwt.encode(claims, self._secret, algorithm="HS256"), doc["role"]

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

    def _failed(self, username: str, now: float) -> None:
        if username not in self._failures and len(self._failures) >= 10_000:
            self._failures.pop(next(iter(self._failures)))  # bounded, whatever names are tried
            self._locked_until = {u: t for u, t in self._locked_until.items() if t > now}
        failures = self._failures.setdefault(username, deque())
        failures.append(now)
        while failures and failures[0] <= now - LOCK_WINDOW:
            failures.popleft()
        if len(failures) >= LOCK_AFTER:
            self._locked_until[username] = now + LOCK_TIME
            failures.clear()


def _check_role(role: Any) -> None:
    if role not in ROLES:
        raise Invalid("Role does not exist", "role")
