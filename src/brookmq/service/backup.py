"""Backups in EMQX 4.4's export format: ``{version, date, rules, resources, blacklist, apps,
users, auth_mnesia, acl_mnesia}``, so that an export taken from EMQX 4.x imports here with its
hashes, and one taken here restores a fresh node.

* What EMQX 4 keeps, BrookMQ exports in EMQX's fields; what only BrookMQ has (a key's secret
  hash and role, a user's bcrypt hash and role, a record's salt) goes in a ``brookmq`` object
  of the item, which EMQX ignores. Secrets are never exported in clear: BrookMQ has none.
* Import is checked whole before anything changes (a bad item: Invalid naming the section and
  the index). An item replaces the one with the same identity (app id, username, login, ban,
  rules of one client id, username or everyone), as EMQX 4's import overwrote.
* EMQX 4's hashes: an app's secret came in clear (it is hashed now); a dashboard user's is
  base64 of a 4-byte salt and md5 (sha256 in late 4.4) of salt + password (made bcrypt at its
  first login); an ``auth_mnesia`` password base64 of a 4-byte salt and the hex digest of salt
  + password, checked by the built-in database as its ``password_hash_algorithm`` says
  (EMQX 4's default and BrookMQ's are both sha256).
* ``rules``: EMQX 4's ``{id, rawsql, actions: [{id, name, args, fallbacks}], enabled,
  description}`` (``republish``, ``inspect`` and ``do_nothing``; see ``legacy_rules``), with the
  whole v5 rule in ``brookmq``. ``resources`` (EMQX 4's connectors) wait for the connectors of
  that shape: exported empty, refused when not empty.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from brookmq.service.api_keys import ApiKeys
from brookmq.service.authn import Authn
from brookmq.service.authz import Authz
from brookmq.service.banned import Bans
from brookmq.service.dashboard import DashboardUsers
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.legacy_rules import v4_action, v5_action
from brookmq.service.rules import Rules

VERSION = "4.4"
FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json$")
_ACTION = {"publish": "pub", "subscribe": "sub", "all": "pubsub"}
_PERMISSION_OF = {name: action for action, name in _ACTION.items()}
_KINDS = {"client_id": "clientid", "ip_address": "peerhost"}  # EMQX 3.x's names of ban kinds
Step = Callable[[], Any]


class Backup:
    def __init__(
        self,
        api_keys: ApiKeys,
        users: DashboardUsers,
        bans: Bans,
        authn: Authn,
        authz: Authz,
        rules: Rules,
        data_dir: str,
    ) -> None:
        self.api_keys, self.users, self.bans, self.authn, self.authz = api_keys, users, bans, authn, authz
        self.rules = rules
        self.directory = Path(data_dir or ".") / "backup"

    # ------------------------------------------------------------ export

    def export(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "rules": [self._rule(record) for record in self.rules.stored()],
            "resources": [],
            "blacklist": [self._ban(ban) for ban in self.bans.all()],
            "apps": [self._app(doc) for doc in self.api_keys.stored()],
            "users": [self._user(doc) for doc in self.users.stored()],
            "auth_mnesia": self._auth_records(),
            "acl_mnesia": self._acl_rows(),
        }

    @staticmethod
    def _rule(record: dict[str, Any]) -> dict[str, Any]:
        actions = []
        for index, action in enumerate(record["actions"]):
            name, params = v4_action(action)
            actions.append(
                {"id": f"{record['id']}_action_{index}", "name": name, "args": params, "fallbacks": []}
            )
        return {
            "id": record["id"],
            "rawsql": record["sql"],
            "actions": actions,
            "enabled": record["enable"],
            "description": record["description"],
            "brookmq": record,
        }

    @staticmethod
    def _ban(ban: dict[str, Any]) -> dict[str, Any]:
        return {key: ban[key] for key in ("who", "as", "reason", "by", "at", "until")}

    def _app(self, doc: dict[str, Any]) -> dict[str, Any]:
        expired = doc["expired_at"]
        return {
            "id": doc["api_key"],
            "secret": "",  # kept hashed: see brookmq.secret_hash
            "name": doc.get("app_name", doc["name"]),
            "desc": doc["desc"],
            "status": doc["enable"],
            "expired": "undefined" if expired is None else expired,
            "brookmq": {key: doc[key] for key in ("name", "salt", "secret_hash", "role", "created_at")},
        }

    @staticmethod
    def _user(doc: dict[str, Any]) -> dict[str, Any]:
        extra = {"salt": doc["salt"], "role": doc["role"], "scheme": doc.get("scheme", "")}
        return {
            "username": doc["username"],
            "password": doc["password_hash"],
            "tags": doc["description"],
            "brookmq": extra,
        }

    def _auth_records(self) -> list[dict[str, Any]]:
        try:
            views = [(kind, self.authn.view(kind).stored()) for kind in ("clientid", "username")]
        except NotFound:
            return []  # no built-in database authenticator: nothing kept
        return [
            {
                "login": doc["user_id"],
                "type": kind,
                "password": doc["password_hash"],
                "is_superuser": doc["is_superuser"],
                "created_at": doc.get("created_at"),
                "brookmq": {"salt": doc["salt"], "salt_hex": bool(doc.get("salt_hex"))},
            }
            for kind, docs in views
            for doc in docs
        ]

    def _acl_rows(self) -> list[dict[str, Any]]:
        try:
            owners = [
                (kind, entry[kind], entry["rules"])
                for kind in ("clientid", "username")
                for entry in self.authz.every_rule_entry(kind)
            ]
            owners.append(("all", "$all", self.authz.rules_for_all()["rules"]))
        except NotFound:
            return []  # no built_in_database authorization source
        return [
            {
                "type": kind,
                "type_value": who,
                "topic": rule["topic"],
                "action": _ACTION[rule["action"]],
                "access": rule["permission"],
                "brookmq": {"qos": rule["qos"], "retain": rule["retain"]},
            }
            for kind, who, rules in owners
            for rule in rules
        ]

    # ------------------------------------------------------------ import

    def import_(self, data: Any) -> None:
        """Check the whole export, then restore it."""
        if not isinstance(data, dict) or not isinstance(data.get("version"), str):
            raise Invalid("must be an export: an object with a version", "body")
        if data.get("resources"):
            raise Invalid("EMQX 4's resources are not taken yet: only an empty list", "resources")
        steps: list[Step] = []
        for section, plan in (
            ("rules", self._plan_rule),
            ("blacklist", self._plan_ban),
            ("apps", self._plan_app),
            ("users", self._plan_user),
            ("auth_mnesia", self._plan_auth),
        ):
            items = data.get(section) or []
            if not isinstance(items, list):
                raise Invalid("must be a list", section)
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    raise Invalid("must be an object", f"{section}[{index}]")
                try:
                    steps.append(plan(item))
                except (Invalid, KeyError, TypeError, ValueError, binascii.Error) as exc:
                    raise Invalid(f"{section}[{index}]: {_reason(exc)}") from None
        steps.extend(self._plan_acl(data.get("acl_mnesia") or []))
        for step in steps:
            step()

    def _plan_rule(self, item: dict[str, Any]) -> Step:
        ours = item.get("brookmq")
        if isinstance(ours, dict):  # taken from BrookMQ: the v5 rule itself
            record = ours
        else:
            try:
                actions = [v5_action(_text(a["name"]), a.get("args")) for a in item.get("actions") or []]
            except NotFound as exc:
                raise Invalid(exc.message) from None
            record = {
                "id": _text(item["id"]),
                "sql": _text(item["rawsql"]),
                "actions": actions,
                "enable": item.get("enabled", True) is True,
                "description": str(item.get("description") or ""),
            }
        kept = self.rules.restorable(record)
        return lambda: self.rules.restore(kept)

    def _plan_ban(self, item: dict[str, Any]) -> Step:
        kind = _KINDS.get(item["as"], item["as"])
        who, by, reason = _text(item["who"]), _text(item.get("by") or "user"), _text(item.get("reason") or "")
        at = float(item.get("at") or time.time())
        until = item.get("until")
        until = None if until in (None, 0, "infinity") else float(until)

        def step() -> None:
            try:
                self.bans.create(kind, who, by, reason, at, until)
            except AlreadyExists:
                self.bans.delete(kind, who)
                self.bans.create(kind, who, by, reason, at, until)

        return step

    def _plan_app(self, item: dict[str, Any]) -> Step:
        expired = item.get("expired")
        expired = None if expired in (None, "undefined") else float(expired)
        ours = item.get("brookmq")
        if isinstance(ours, dict):  # taken from BrookMQ: the secret's hash
            doc = {
                **ours,
                "api_key": item["id"],
                "app_name": item.get("name", ""),
                "desc": item.get("desc", ""),
                "enable": item.get("status", True),
                "expired_at": expired,
            }
            kept = self.api_keys.restorable(doc)
            return lambda: self.api_keys.restore(kept)
        secret = item.get("secret")
        if not isinstance(secret, str) or not secret:
            raise Invalid("an app from EMQX needs its secret")
        app_id = _text(item["id"])

        def step() -> None:
            try:
                self.api_keys.delete(self.api_keys.name_of(app_id))
            except NotFound:
                pass
            self.api_keys.create_app(
                app_id,
                secret,
                desc=item.get("desc", ""),
                enable=item.get("status", True),
                expired_at=expired,
                app_name=item.get("name", ""),
            )

        return step

    def _plan_user(self, item: dict[str, Any]) -> Step:
        username, tags = item["username"], item.get("tags") or ""
        ours = item.get("brookmq")
        if isinstance(ours, dict):
            hashed, salt, role, scheme = item["password"], ours["salt"], ours["role"], ours.get("scheme", "")
        else:  # EMQX 4: base64 of a 4-byte salt and the raw digest (md5: 16 bytes, sha256: 32)
            raw = base64.b64decode(_text(item["password"]), validate=True)
            scheme = {20: "emqx4:md5", 36: "emqx4:sha256"}.get(len(raw), "")
            if not scheme:
                raise Invalid("password: not an EMQX 4 dashboard hash")
            hashed, salt, role = raw[4:].hex(), raw[:4].hex(), "administrator"
        doc = self.users.restorable(username, hashed, salt, role, tags, scheme)
        return lambda: self.users.restore(doc)

    def _plan_auth(self, item: dict[str, Any]) -> Step:
        login, kind = _text(item["login"]), item.get("type", "username")  # 4.2 had no type
        if kind not in ("clientid", "username"):
            raise Invalid("type: must be clientid or username")
        superuser, made = bool(item.get("is_superuser", False)), item.get("created_at")
        ours = item.get("brookmq")
        if isinstance(ours, dict):
            hashed, salt, salt_hex = _text(item["password"]), _text(ours["salt"]), bool(ours.get("salt_hex"))
        else:  # EMQX 4: base64 of a 4-byte salt and the hex digest
            raw = base64.b64decode(_text(item["password"]), validate=True)
            hashed, salt, salt_hex = raw[4:].decode("ascii"), raw[:4].hex(), True
        try:
            view = self.authn.view(kind)
        except NotFound:
            raise Invalid("there is no built-in database authenticator to restore it into") from None
        return lambda: view.restore(login, hashed, salt, superuser, made, salt_hex)

    def _plan_acl(self, items: Any) -> list[Step]:
        """One step per owner (client id, username, everyone): its rules replaced, in file order."""
        if not isinstance(items, list):
            raise Invalid("must be a list", "acl_mnesia")
        owners: dict[tuple[Any, str], list[dict[str, Any]]] = {}
        for index, item in enumerate(items):
            try:
                kind, who, rule = self._acl_rule(item)
            except (Invalid, KeyError, TypeError, ValueError) as exc:
                raise Invalid(f"acl_mnesia[{index}]: {_reason(exc)}") from None
            owners.setdefault((kind, who), []).append(rule)
        if owners:
            try:
                self.authz.rules_for_all()
            except NotFound:
                raise Invalid("there is no built_in_database authorization source", "acl_mnesia") from None
        return [partial(self.authz.put_rules, kind, who, rules) for (kind, who), rules in owners.items()]

    @staticmethod
    def _acl_rule(item: Any) -> tuple[str, str, dict[str, Any]]:
        if not isinstance(item, dict):
            raise Invalid("must be an object")
        if "type" in item:  # 4.3 and later
            kind, who = item["type"], item.get("type_value", "")
            allowed = item["access"]
        else:  # 4.2: {login, topic, action, allow}
            kind, who = "username", item["login"]
            allowed = "allow" if item.get("allow") else "deny"
        if kind not in ("clientid", "username", "all"):
            raise Invalid("type: must be clientid, username or all")
        action = _PERMISSION_OF.get(item["action"])
        if action is None:
            raise Invalid("action: must be pub, sub or pubsub")
        rule = {"topic": item["topic"], "action": action, "permission": allowed}
        ours = item.get("brookmq")
        if isinstance(ours, dict):
            rule.update({key: ours[key] for key in ("qos", "retain") if key in ours})
        return kind, "" if kind == "all" else _text(who), rule

    # ------------------------------------------------------------ files

    def write(self) -> dict[str, Any]:
        """An export into ``<data_dir>/backup/``, named as EMQX 4 names them."""
        now = time.localtime()
        name = "emqx-export-" + "-".join(str(part) for part in now[:6]) + ".json"
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_text(json.dumps(self.export()))
        return self.file_info(name)

    def files(self) -> list[dict[str, Any]]:
        if not self.directory.is_dir():
            return []
        return [self.file_info(path.name) for path in sorted(self.directory.glob("*.json"))]

    def _path(self, filename: Any) -> Path:
        if not isinstance(filename, str) or not FILENAME.match(filename):
            raise Invalid("must be a file name ending in .json, without a directory", "filename")
        return self.directory / filename

    def file_info(self, filename: str) -> dict[str, Any]:
        path = self._path(filename)
        if not path.is_file():
            raise NotFound(f"{filename} not found")
        stat = path.stat()
        made = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stat.st_mtime))
        return {"filename": filename, "size": stat.st_size, "created_at": made}

    def read(self, filename: Any) -> bytes:
        path = self._path(filename)
        if not path.is_file():
            raise NotFound(f"{filename} not found")
        return path.read_bytes()

    def upload(self, filename: Any, content: Any) -> dict[str, Any]:
        """``content``: the export, as JSON text or as the object; checked to be one."""
        try:
            data = json.loads(content) if isinstance(content, str) else content
        except ValueError:
            raise Invalid("is not JSON", "file") from None
        if not isinstance(data, dict) or "version" not in data:
            raise Invalid("must be an export: an object with a version", "file")
        path = self._path(filename)
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return self.file_info(path.name)

    def delete(self, filename: Any) -> None:
        path = self._path(filename)
        if not path.is_file():
            raise NotFound(f"{filename} not found")
        path.unlink()

    def import_file(self, filename: Any) -> None:
        try:
            data = json.loads(self.read(filename))
        except ValueError:
            raise Invalid("is not JSON", "filename") from None
        self.import_(data)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {type(value).__name__}")
    return value


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"{exc.args[0]}: is missing"
    return getattr(exc, "message", None) or str(exc)
