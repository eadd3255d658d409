"""Where rules come from: the built-in database and the rules file (EMQX's source types)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from brookmq.core.store import Collection
from brookmq.extensions.authz.acl_file import parse_rules
from brookmq.extensions.authz.rules import Rule, first_verdict, rule_from_doc

Kind = Literal["username", "clientid"]


class Source:
    """A list of rules asked in order: ``verdict`` is the first matching rule's, else None."""

    type = ""

    def __init__(self) -> None:
        self.enable = True
        self.metrics = {"total": 0, "allow": 0, "deny": 0, "nomatch": 0}

    def verdict(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool | None:
        raise NotImplementedError

    def count(self, verdict: bool | None) -> None:
        metrics = self.metrics
        metrics["total"] += 1
        metrics["nomatch" if verdict is None else "allow" if verdict else "deny"] += 1


class BuiltinRules(Source):
    """``built_in_database``: rules per username, per client id and for all, kept in the
    store's ``acl_rules`` collection (keys ``username:<u>``, ``clientid:<c>``, ``all``) and
    asked in that order."""

    type = "built_in_database"

    def __init__(self, documents: Collection, max_rules: int = 100) -> None:
        super().__init__()
        self.documents = documents
        self.max_rules = max_rules
        self._compiled: dict[str, tuple[Rule, ...]] = {}
        for key, doc in documents.items():
            self._compiled[key] = tuple(rule_from_doc(r)[0] for r in doc["rules"])

    def verdict(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool | None:
        compiled = self._compiled
        if not compiled:
            return None
        for key in (
            f"username:{client.username}" if client.username else "",
            f"clientid:{client.client_id}",
            "all",
        ):
            rules = compiled.get(key)
            if rules:
                verdict = first_verdict(rules, client, action, topic, qos, retain)
                if verdict is not None:
                    return verdict
        return None

    def set_rules(self, kind: Kind | Literal["all"], who: str, rules: Any) -> list[dict[str, Any]]:
        """Replace the rules of ``who`` (a username or client id; ignored for ``all``); returns
        their normal form. ValueError names the field of the first bad rule."""
        if not isinstance(rules, list):
            raise ValueError("rules: must be a list")
        if len(rules) > self.max_rules:
            raise ValueError(f"rules: at most {self.max_rules} rules (max_rules)")
        if kind != "all" and not who:
            raise ValueError(f"{kind}: must not be empty")
        checked = [rule_from_doc(doc, f"rules[{i}]") for i, doc in enumerate(rules)]
        key = _key(kind, who)
        doc: dict[str, Any] = {"rules": [normal for _, normal in checked]}
        if kind != "all":
            doc = {kind: who, **doc}
        self.documents.put(key, doc)
        self._compiled[key] = tuple(rule for rule, _ in checked)
        return doc["rules"]

    def rules(self, kind: Kind | Literal["all"], who: str = "") -> list[dict[str, Any]] | None:
        doc = self.documents.get(_key(kind, who))
        return None if doc is None else list(doc["rules"])

    def delete(self, kind: Kind | Literal["all"], who: str = "") -> bool:
        key = _key(kind, who)
        self._compiled.pop(key, None)
        return self.documents.delete(key)

    def entries(self, kind: Kind) -> list[dict[str, Any]]:
        """``[{username|clientid, rules}]`` in key order."""
        prefix = f"{kind}:"
        return [doc for key, doc in self.documents.items() if key.startswith(prefix)]

    def clear(self) -> None:
        for key, _ in self.documents.items():
            self.documents.delete(key)
        self._compiled.clear()


def _key(kind: str, who: str) -> str:
    return "all" if kind == "all" else f"{kind}:{who}"


class FileRules(Source):
    """``file``: rules in EMQX's ``acl.conf`` format (see ``acl_file``), from ``path`` or given
    as text; with neither, the default rules shipped with BrookMQ."""

    type = "file"

    def __init__(self, path: str = "", text: str | None = None) -> None:
        super().__init__()
        self.path = path
        if text is None:
            text = Path(path).read_text() if path else default_rules()
        self.text = text
        self.rules = parse_rules(text)

    def verdict(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool | None:
        return first_verdict(self.rules, client, action, topic, qos, retain)


def default_rules() -> str:
    return resources.files("brookmq.extensions.authz").joinpath("acl.conf").read_text()
