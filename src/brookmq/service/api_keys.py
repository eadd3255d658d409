"""API keys (EMQX 5's ``/api_key``; the v3/v4 "apps" are the same records).

* ``name`` ``^[A-Za-z]+[A-Za-z0-9-_]*$`` (1..256), ``api_key`` = the first 16 hex digits of
  SHA-512(name), the secret 32 random bytes in base62, returned by ``create`` only and kept as a
  salted SHA-256 (it has 190 bits of entropy: a slow hash would only slow every request down).
* ``enable``, ``expired_at`` (epoch seconds, or None for never), ``desc``, ``role``
  (``administrator``, ``viewer``, ``publisher``); at most 100 keys.
* ``verify`` checks key, secret (constant time), enable and expiry.
* The bootstrap file: ``key:secret`` or ``key:secret:role`` lines, loaded at every start.
* v3/v4 apps: an app's ``app_id`` is the ``api_key`` (chosen, ``^[A-Za-z0-9]+[A-Za-z0-9-_]*$``),
  its name is kept as ``app_name``; the v5 ``name`` is the app id (``app_<app id>`` when the id
  does not start with a letter). EMQX 4's default application (``admin`` / ``public``) is let in
  while no key exists at all (``verify_app``): creating the first one ends it.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import re
import secrets
import string
import time
from pathlib import Path
from typing import Any

from brookmq.core.store import Collection
from brookmq.extensions.authn.passwords import PasswordHash
from brookmq.service.errors import AlreadyExists, BadCredentials, Invalid, NotFound

log = logging.getLogger("brookmq.api_keys")
ROLES = ("administrator", "viewer", "publisher")
NAME = re.compile(r"^[A-Za-z]+[A-Za-z0-9-_]*$")
APP_ID = re.compile(r"^[A-Za-z0-9]+[A-Za-z0-9-_]*$")
MAX_KEYS = 100
BOOTSTRAP_PREFIX = "from_bootstrap_file_"
_HASH = PasswordHash("sha256", "prefix")
_BASE62 = string.digits + string.ascii_letters
UNSET: Any = object()


def key_of(name: str) -> str:
    return hashlib.sha512(name.encode()).hexdigest()[:16]


def new_secret() -> str:
    number = int.from_bytes(secrets.token_bytes(32), "big")
    out = []
    while number:
        number, digit = divmod(number, 62)
        out.append(_BASE62[digit])
    return "".join(reversed(out)) or "0"


class ApiKeys:
    def __init__(
        self, keys: Collection, clock: Any = time, default_app: tuple[str, str] | None = None
    ) -> None:
        self.keys = keys
        self.clock = clock
        self.default_app = default_app  # (id, secret): EMQX 4's, while no key exists
        self._by_key = {doc["api_key"]: name for name, doc in keys.items()}

    def default_app_in_force(self) -> bool:
        return self.default_app is not None and len(self.keys) == 0

    def list(self) -> list[dict[str, Any]]:
        return [self._public(doc) for _, doc in self.keys.items()]

    def get(self, name: str) -> dict[str, Any]:
        doc = self.keys.get(name)
        if doc is None:
            raise NotFound("Name NOT FOUND")
        return self._public(doc)

    def create(
        self,
        name: Any,
        desc: Any = "",
        enable: Any = True,
        expired_at: Any = None,
        role: Any = "administrator",
        secret: str | None = None,
        api_key: str | None = None,
        app_name: str | None = None,
    ) -> dict[str, Any]:
        """The new key, with its ``api_secret``: the only time the secret is shown. ``secret`` and
        ``api_key`` are given by the bootstrap files and v3/v4 apps; otherwise they are made here."""
        if not isinstance(name, str) or not 1 <= len(name) <= 256 or not NAME.match(name):
            raise Invalid("must match ^[A-Za-z]+[A-Za-z0-9-_]*$ and be 1..256 characters", "name")
        if self.keys.get(name) is not None:
            raise AlreadyExists("name_already_existed")
        if len(self.keys) >= MAX_KEYS:
            raise Invalid("Maximum number of ApiKeys reached.")
        api_key = api_key or key_of(name)
        if api_key in self._by_key:
            raise AlreadyExists("already_existed")
        doc = {"name": name, "api_key": api_key, "created_at": self.clock.time()}
        if app_name is not None:
            doc["app_name"] = app_name
        doc.update(self._checked(desc, enable, expired_at, role))
        secret = secret or new_secret()
        salt = _HASH.new_salt()
        doc.update(salt=salt, secret_hash=_HASH.hash(secret, salt))
        self.keys.put(name, doc)
        self._by_key[doc["api_key"]] = name
        return {**self._public(doc), "api_secret": secret}

    def create_app(self, app_id: Any, secret: Any = None, **fields: Any) -> dict[str, Any]:
        """A v3/v4 app: the key ``app_id``, its v5 name made from it; ``fields`` as ``create``'s."""
        if not isinstance(app_id, str) or not 1 <= len(app_id) <= 256 or not APP_ID.match(app_id):
            raise Invalid("must match ^[A-Za-z0-9]+[A-Za-z0-9-_]*$ and be 1..256 characters", "app_id")
        if secret is not None and (not isinstance(secret, str) or not 1 <= len(secret) <= 256):
            raise Invalid("must be a string of 1..256 characters", "secret")
        if app_id in self._by_key:
            raise AlreadyExists("already_existed")
        name = app_id if NAME.match(app_id) else f"app_{app_id}"
        return self.create(name, secret=secret or None, api_key=app_id, **fields)

    def name_of(self, api_key: str) -> str:
        """The v5 name of the key (an app's ``app_id``)."""
        name = self._by_key.get(api_key)
        if name is None:
            raise NotFound("not_found")
        return name

    def app_name(self, name: str) -> str:
        """What a v3/v4 app calls itself: its ``name`` when made as one, else the v5 name."""
        doc = self.keys.get(name)
        if doc is None:
            raise NotFound("Name NOT FOUND")
        return str(doc.get("app_name", name))

    def update(
        self,
        name: str,
        desc: Any = UNSET,
        enable: Any = UNSET,
        expired_at: Any = None,
        role: Any = UNSET,
        app_name: Any = UNSET,
    ) -> dict[str, Any]:
        """Omitted ``desc``/``enable``/``role`` stay; an omitted ``expired_at`` means never (EMQX)."""
        doc = self.keys.get(name)
        if doc is None:
            raise NotFound("Name NOT FOUND")
        if app_name is not UNSET and (not isinstance(app_name, str) or len(app_name) > 256):
            raise Invalid("must be a string of at most 256 characters", "name")
        doc.update(
            self._checked(
                doc["desc"] if desc is UNSET else desc,
                doc["enable"] if enable is UNSET else enable,
                expired_at,
                doc["role"] if role is UNSET else role,
            )
        )
        if app_name is not UNSET:
            doc["app_name"] = app_name
        self.keys.put(name, doc)
        return self._public(doc)

    def delete(self, name: str) -> None:
        doc = self.keys.get(name)
        if doc is None:
            raise NotFound("Name NOT FOUND")
        self._by_key.pop(doc["api_key"], None)
        self.keys.delete(name)

    def verify(self, api_key: str, secret: str) -> dict[str, Any]:
        """The key's public record when ``secret`` is right and the key enabled and unexpired."""
        name = self._by_key.get(api_key)
        doc = self.keys.get(name) if name is not None else None
        if (
            doc is None
            or not _HASH.verify(secret, doc["salt"], doc["secret_hash"])
            or not doc["enable"]
            or (doc["expired_at"] is not None and doc["expired_at"] < self.clock.time())
        ):
            raise BadCredentials("bad_key", "Check api_key/api_secret")
        return self._public(doc)

    def verify_app(self, app_id: str, secret: str) -> dict[str, Any]:
        """``verify``, and EMQX 4's default application while no key exists (the legacy dialects)."""
        try:
            return self.verify(app_id, secret)
        except BadCredentials:
            default = self.default_app
            if (
                default is None
                or not self.default_app_in_force()
                or not hmac.compare_digest(app_id.encode(), default[0].encode())
                or not hmac.compare_digest(secret.encode(), default[1].encode())
            ):
                raise
        now = self.clock.time()
        return {
            "name": app_id,
            "api_key": app_id,
            "enable": True,
            "expired": False,
            "expired_at": None,
            "created_at": now,
            "desc": "Default application",
            "role": "administrator",
        }

    def stored(self) -> builtins.list[dict[str, Any]]:
        """Every key as kept, the secret's salted hash included: for backups only."""
        return [dict(doc) for _, doc in self.keys.items()]

    def restorable(self, doc: Any) -> dict[str, Any]:
        """A key from a backup (``stored``'s form), checked and ready for ``restore``."""
        if not isinstance(doc, dict):
            raise Invalid("must be an object", "app")
        name, api_key = doc.get("name"), doc.get("api_key")
        if not isinstance(name, str) or not NAME.match(name) or len(name) > 256:
            raise Invalid("must match ^[A-Za-z]+[A-Za-z0-9-_]*$", "name")
        if not isinstance(api_key, str) or not APP_ID.match(api_key) or len(api_key) > 256:
            raise Invalid("must match ^[A-Za-z0-9]+[A-Za-z0-9-_]*$", "id")
        if not isinstance(doc.get("salt"), str) or not isinstance(doc.get("secret_hash"), str):
            raise Invalid("must be strings", "salt and secret_hash")
        checked = self._checked(
            doc.get("desc", ""), doc.get("enable", True), doc.get("expired_at"), doc.get("role")
        )
        kept = {"name": name, "api_key": api_key, "created_at": doc.get("created_at") or self.clock.time()}
        kept.update(checked, salt=doc["salt"], secret_hash=doc["secret_hash"])
        if isinstance(doc.get("app_name"), str):
            kept["app_name"] = doc["app_name"]
        return kept

    def restore(self, kept: dict[str, Any]) -> None:
        """Put what ``restorable`` made, in place of a key of the same name or api_key."""
        for existing in (self._by_key.get(kept["api_key"]), kept["name"]):
            if existing is not None and self.keys.get(existing) is not None:
                self.delete(existing)
        if len(self.keys) >= MAX_KEYS:
            raise Invalid("Maximum number of ApiKeys reached.")
        self.keys.put(kept["name"], kept)
        self._by_key[kept["api_key"]] = kept["name"]

    def load_bootstrap(self, path: str | Path) -> int:
        """Load ``key:secret[:role]`` lines; a later line for the same key wins. A malformed line
        stops the load there (the lines before it stay); a line with a bad role is skipped."""
        loaded = 0
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.strip().split(":")
            if len(parts) not in (2, 3) or not all(parts[:2]):
                log.error("bootstrap file %s line %d: invalid_format; loading stops", path, number)
                break
            key, secret = parts[0], parts[1]
            role = parts[2] if len(parts) == 3 else "administrator"
            if role not in ROLES:
                log.error("bootstrap file %s line %d: invalid_role %r", path, number, role)
                continue
            name = BOOTSTRAP_PREFIX + key_of(key)
            if self.keys.get(name) is not None:
                self.delete(name)
            try:
                self.create(name, "Bootstrapped From File", True, None, role, secret, api_key=key)
            except (AlreadyExists, Invalid) as exc:
                log.error("bootstrap file %s line %d: %s", path, number, exc.message)
                continue
            loaded += 1
        return loaded

    def _checked(self, desc: Any, enable: Any, expired_at: Any, role: Any) -> dict[str, Any]:
        if not isinstance(desc, str) or len(desc) > 1024:
            raise Invalid("must be a string of at most 1024 characters", "desc")
        if not isinstance(enable, bool):
            raise Invalid("must be true or false", "enable")
        if expired_at is not None and (
            not isinstance(expired_at, int | float) or isinstance(expired_at, bool)
        ):
            raise Invalid("must be a time or infinity", "expired_at")
        if role not in ROLES:
            raise Invalid("Role does not exist", "role")
        return {"desc": desc, "enable": enable, "expired_at": expired_at, "role": role}

    def _public(self, doc: dict[str, Any]) -> dict[str, Any]:
        expired_at = doc["expired_at"]
        return {
            "name": doc["name"],
            "api_key": doc["api_key"],
            "enable": doc["enable"],
            "expired": expired_at is not None and expired_at < self.clock.time(),
            "expired_at": expired_at,
            "created_at": doc["created_at"],
            "desc": doc["desc"],
            "role": doc["role"],
        }
