"""Authorization rules and how a rule's topic covers what a client asks for.

A rule has a permission (allow or deny), the actions it applies to (``publish``,
``subscribe``), topic patterns, and optional conditions: who the client is (file rules), the
QoS and, for publishing, the retain flag. A pattern is a topic filter, or an exact topic
(``eq``); a filter may carry the client's username or client id (``%u``/``${username}``,
``%c``/``${clientid}``).

A filter *covers* a topic a client publishes to when it matches it, and a filter a client
subscribes to when it matches every topic that filter can match: ``a/#`` covers ``a/+/b``, but
``a/+`` does not cover ``a/#``. A filter that starts with a wildcard covers no ``$`` topic, as in
MQTT itself.

A username or client id put into a filter is literal: ``+`` and ``#`` in it match only
themselves, so a client named ``#`` gains nothing from ``users/%u/#``. One containing ``/``
would reach into other clients' levels, so an *allow* rule with such a value does not match
(a *deny* rule still does).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ACTIONS = ("publish", "subscribe")
_PLACEHOLDER = re.compile(r"%u|%c|\$\{username\}|\$\{clientid\}")
_VALUE = {"%u": "username", "${username}": "username", "%c": "clientid", "${clientid}": "clientid"}

Who = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class TopicPattern:
    text: str
    eq: bool = False
    # The words of a filter without placeholders, worked out once; None when they depend on the client.
    fixed: tuple[tuple[str, bool], ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plain = self.eq or _PLACEHOLDER.search(self.text) is None
        object.__setattr__(self, "fixed", tuple((w, False) for w in self.text.split("/")) if plain else None)

    def covers(self, client: Any, topic: str, allow: bool) -> bool:
        if self.eq:
            return topic == self.text
        words = self.fixed if self.fixed is not None else self._words(client, allow)
        return words is not None and covers(words, topic.split("/"))

    def _words(self, client: Any, allow: bool) -> list[tuple[str, bool]] | None:
        """The filter's words for ``client``, each with whether it is literal (came from the client)."""
        out: list[tuple[str, bool]] = []
        for word in self.text.split("/"):
            parts = _PLACEHOLDER.split(word)
            if len(parts) == 1:
                out.append((word, False))
                continue
            names = _PLACEHOLDER.findall(word)
            value = parts[0]
            for name, rest in zip(names, parts[1:], strict=True):
                filled = client.username if _VALUE[name] == "username" else client.client_id
                if not filled:
                    return None  # no username: a %u rule is not about this client
                value += filled + rest
            if "/" in value:
                if allow:
                    return None
                out.extend((part, True) for part in value.split("/"))
            else:
                out.append((value, True))
        return out


def covers(rule: Sequence[tuple[str, bool]], topic: list[str]) -> bool:
    """Whether the filter ``rule`` matches everything the name or filter ``topic`` matches."""
    first, literal = rule[0]
    if topic[0][:1] == "$" and not literal and first in ("+", "#"):
        return False
    size = len(topic)
    for index, (word, literal) in enumerate(rule):
        if not literal and word == "#":
            return True
        if index >= size:
            return False
        asked = topic[index]
        if not literal and word == "+":
            if asked == "#":
                return False
            continue
        if asked != word or asked in ("+", "#"):
            return False
    return len(rule) == size


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    actions: frozenset[str]
    topics: tuple[TopicPattern, ...] = ()  # empty: every topic
    who: Who | None = None  # None: every client
    qos: frozenset[int] | None = None
    retain: bool | None = None  # publishing only

    def verdict(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool | None:
        """``allow`` when this rule applies, else None."""
        if action not in self.actions or (self.qos is not None and qos not in self.qos):
            return None
        if self.retain is not None and action == "publish" and retain != self.retain:
            return None
        if self.who is not None and not self.who(client):
            return None
        if self.topics and not any(p.covers(client, topic, self.allow) for p in self.topics):
            return None
        return self.allow


def first_verdict(
    rules: Iterable[Rule], client: Any, action: str, topic: str, qos: int, retain: bool
) -> bool | None:
    for rule in rules:
        verdict = rule.verdict(client, action, topic, qos, retain)
        if verdict is not None:
            return verdict
    return None


# ---------------------------------------------------------------- the API's rule documents


def rule_from_doc(doc: Any, where: str = "rules[0]") -> tuple[Rule, dict[str, Any]]:
    """A rule of the management API (``{permission, action, topic, qos, retain}``), checked,
    and its normal form. Raises ValueError naming the field."""
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: must be an object")
    unknown = sorted(set(doc) - {"permission", "action", "topic", "qos", "retain"})
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown field")
    permission = doc.get("permission")
    if permission not in ("allow", "deny"):
        raise ValueError(f"{where}.permission: must be allow or deny")
    action = doc.get("action")
    if action not in ("publish", "subscribe", "all"):
        raise ValueError(f"{where}.action: must be publish, subscribe or all")
    topic = doc.get("topic")
    if not isinstance(topic, str) or not topic:
        raise ValueError(f"{where}.topic: must be a non-empty string")
    pattern = parse_topic(topic, f"{where}.topic")
    qos = doc.get("qos", [0, 1, 2])
    if isinstance(qos, int) and not isinstance(qos, bool):
        qos = [qos]
    if not isinstance(qos, list) or not qos or any(q not in (0, 1, 2) or isinstance(q, bool) for q in qos):
        raise ValueError(f"{where}.qos: must be a list of 0, 1 and 2")
    retain = doc.get("retain", "all")
    if retain not in (True, False, "all"):
        raise ValueError(f"{where}.retain: must be true, false or all")
    rule = Rule(
        allow=permission == "allow",
        actions=frozenset(ACTIONS if action == "all" else (action,)),
        topics=(pattern,),
        qos=None if set(qos) == {0, 1, 2} else frozenset(qos),
        retain=None if retain == "all" else retain,
    )
    normal = {
        "topic": topic,
        "permission": permission,
        "action": action,
        "qos": sorted(set(qos)),
        "retain": retain,
    }
    return rule, normal


def parse_topic(text: str, where: str) -> TopicPattern:
    """``eq <topic>`` for an exact topic, else a filter (checked)."""
    if text.startswith("eq "):
        return TopicPattern(text[3:], eq=True)
    check_filter(text, where)
    return TopicPattern(text)


def check_filter(text: str, where: str) -> None:
    words = text.split("/")
    for index, word in enumerate(words):
        if word == "#" and index != len(words) - 1:
            raise ValueError(f"{where}: '#' must be the last level of {text!r}")
        if word not in ("+", "#") and ("+" in word or "#" in word):
            raise ValueError(f"{where}: a wildcard must fill a whole level in {text!r}")


# ---------------------------------------------------------------- who a file rule is about


def who_is(field: str, expected: str | re.Pattern[str]) -> Who:
    attribute = "username" if field == "username" else "client_id"
    if isinstance(expected, re.Pattern):
        return lambda client: (
            (value := getattr(client, attribute)) is not None and bool(expected.search(value))
        )
    return lambda client: getattr(client, attribute) == expected


def from_networks(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> Who:
    def match(client: Any) -> bool:
        address = _address(client.peerhost)
        return address is not None and any(address in network for network in networks)

    return match


@functools.lru_cache(maxsize=4096)
def _address(peerhost: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client's address, parsed once for many checks (half their time was this parse)."""
    try:
        address = ipaddress.ip_address(peerhost)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # an IPv4 client on a dual-stack listener
    return address


def all_of(parts: list[Who]) -> Who:
    return lambda client: all(part(client) for part in parts)


def any_of(parts: list[Who]) -> Who:
    return lambda client: any(part(client) for part in parts)
