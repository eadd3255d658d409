"""The rules file: EMQX's ``acl.conf`` format, Erlang terms, one rule per term ending in ``.``.

    {allow, {username, {re, "^dashboard$"}}, subscribe, ["$SYS/#"]}.
    {allow, {ipaddr, "127.0.0.1"}, all, ["$SYS/#", "#"]}.
    {deny, all, subscribe, ["$SYS/#", {eq, "#"}]}.
    {allow, all}.

A rule is ``{Permission, Who, Action, Topics}`` or ``{Permission, all}`` (everything):

* Permission: ``allow`` | ``deny``.
* Who: ``all`` | ``{username, "u"}`` | ``{clientid, "c"}`` (also ``user``, ``client``), either
  with ``{re, "regex"}`` instead of the string | ``{ipaddr, "10.0.0.0/8"}`` |
  ``{ipaddrs, ["a", "b"]}`` | ``{'and', [Who, ...]}`` | ``{'or', [Who, ...]}``.
* Action: ``publish`` | ``subscribe`` | ``all`` (``pubsub`` is ``all``), or
  ``{Action, [{qos, 1} | {qos, [0, 1]} | {retain, true}]}``.
* Topics: a list of filters (``%u``/``${username}``, ``%c``/``${clientid}`` placeholders)
  and ``{eq, "topic"}`` for a topic compared exactly.

``%`` starts a comment. Errors name the line.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from brookmq.extensions.authz.rules import (
    ACTIONS,
    Rule,
    TopicPattern,
    Who,
    all_of,
    any_of,
    check_filter,
    from_networks,
    who_is,
)

_TOKEN = re.compile(
    r"""(?P<space>\s+|%[^\n]*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<atom>[a-z][A-Za-z0-9_@]*|'(?:[^'\\]|\\.)*')
      | (?P<int>-?\d+)
      | (?P<punct>[{}\[\],.])""",
    re.VERBOSE,
)


class Atom(str):
    pass


class RulesError(ValueError):
    pass


def parse_rules(text: str) -> list[Rule]:
    """Every rule of ``text``, in order; RulesError names the line of the first problem."""
    return [_rule(term, line) for term, line in _terms(text)]


# ---------------------------------------------------------------- Erlang terms


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise RulesError(f"line {line}: unexpected {text[pos]!r}")
        kind, value = match.lastgroup or "", match.group()
        if kind == "string":
            out.append((kind, _unescape(value[1:-1]), line))
        elif kind == "atom":
            out.append((kind, Atom(_unescape(value[1:-1]) if value[0] == "'" else value), line))
        elif kind == "int":
            out.append((kind, int(value), line))
        elif kind == "punct":
            out.append((value, value, line))
        line += value.count("\n")
        pos = match.end()
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _terms(text: str) -> list[tuple[Any, int]]:
    tokens = _tokens(text)
    terms: list[tuple[Any, int]] = []
    pos = 0
    while pos < len(tokens):
        line = tokens[pos][2]
        term, pos = _term(tokens, pos)
        if pos >= len(tokens) or tokens[pos][0] != ".":
            raise RulesError(f"line {line}: a rule must end with '.'")
        terms.append((term, line))
        pos += 1
    return terms


def _term(tokens: list[tuple[str, Any, int]], pos: int) -> tuple[Any, int]:
    if pos >= len(tokens):
        raise RulesError("unexpected end of the rules")
    kind, value, line = tokens[pos]
    if kind in ("string", "atom", "int"):
        return value, pos + 1
    if kind not in ("{", "["):
        raise RulesError(f"line {line}: unexpected {value!r}")
    close = "}" if kind == "{" else "]"
    items: list[Any] = []
    pos += 1
    while True:
        if pos < len(tokens) and tokens[pos][0] == close and not items:
            pos += 1
            break
        item, pos = _term(tokens, pos)
        items.append(item)
        if pos < len(tokens) and tokens[pos][0] == ",":
            pos += 1
            continue
        if pos < len(tokens) and tokens[pos][0] == close:
            pos += 1
            break
        raise RulesError(f"line {line}: expected ',' or {close!r}")
    return (tuple(items) if close == "}" else items), pos


# ---------------------------------------------------------------- terms to rules


def _rule(term: Any, line: int) -> Rule:
    where = f"line {line}"
    if not isinstance(term, tuple) or len(term) not in (2, 4):
        raise RulesError(f"{where}: a rule is {{Permission, Who, Action, Topics}} or {{Permission, all}}")
    permission = term[0]
    if permission not in ("allow", "deny"):
        raise RulesError(f"{where}: permission must be allow or deny, not {permission!r}")
    if len(term) == 2:
        if term[1] != "all":
            raise RulesError(f"{where}: a two-part rule is {{{permission}, all}}")
        return Rule(allow=permission == "allow", actions=frozenset(ACTIONS))
    _, who, action, topics = term
    actions, qos, retain = _action(action, where)
    if not isinstance(topics, list) or not topics:
        raise RulesError(f"{where}: topics must be a non-empty list")
    return Rule(
        allow=permission == "allow",
        actions=actions,
        topics=tuple(_topic(topic, where) for topic in topics),
        who=_who(who, where),
        qos=qos,
        retain=retain,
    )


def _who(term: Any, where: str) -> Who | None:
    if term == "all":
        return None
    if isinstance(term, tuple) and len(term) == 2:
        kind, value = term
        if kind in ("username", "user", "clientid", "client"):
            field = "username" if kind in ("username", "user") else "clientid"
            if (
                isinstance(value, tuple)
                and len(value) == 2
                and value[0] == "re"
                and isinstance(value[1], str)
            ):
                try:
                    return who_is(field, re.compile(value[1]))
                except re.error as exc:
                    raise RulesError(f"{where}: bad regular expression {value[1]!r}: {exc}") from None
            if isinstance(value, str) and not isinstance(value, Atom):
                return who_is(field, value)
        if kind in ("ipaddr", "ipaddrs"):
            addresses = [value] if kind == "ipaddr" else value
            if isinstance(addresses, list) and addresses and all(isinstance(a, str) for a in addresses):
                try:
                    return from_networks([ipaddress.ip_network(a, strict=False) for a in addresses])
                except ValueError as exc:
                    raise RulesError(f"{where}: {exc}") from None
        if kind in ("and", "or") and isinstance(value, list) and value:
            parts = [_who(part, where) for part in value]
            if any(part is None for part in parts):
                raise RulesError(f"{where}: 'all' cannot be part of {kind}")
            return (all_of if kind == "and" else any_of)([p for p in parts if p is not None])
    raise RulesError(f"{where}: cannot tell who {term!r} is")


def _action(term: Any, where: str) -> tuple[frozenset[str], frozenset[int] | None, bool | None]:
    conditions: list[Any] = []
    if isinstance(term, tuple) and len(term) == 2 and isinstance(term[1], list):
        term, conditions = term
    if term in ("all", "pubsub"):
        actions = frozenset(ACTIONS)
    elif term in ACTIONS:
        actions = frozenset((term,))
    else:
        raise RulesError(f"{where}: action must be publish, subscribe or all, not {term!r}")
    qos: frozenset[int] | None = None
    retain: bool | None = None
    for condition in conditions:
        if isinstance(condition, tuple) and len(condition) == 2 and condition[0] == "qos":
            levels = condition[1] if isinstance(condition[1], list) else [condition[1]]
            if not levels or any(level not in (0, 1, 2) for level in levels):
                raise RulesError(f"{where}: qos must be 0, 1, 2 or a list of them")
            qos = frozenset(levels)
        elif isinstance(condition, tuple) and len(condition) == 2 and condition[0] == "retain":
            if condition[1] not in ("true", "false", "all"):
                raise RulesError(f"{where}: retain must be true, false or all")
            retain = None if condition[1] == "all" else condition[1] == "true"
        else:
            raise RulesError(f"{where}: unknown condition {condition!r}")
    return actions, qos, retain


def _topic(term: Any, where: str) -> TopicPattern:
    if isinstance(term, tuple) and len(term) == 2 and term[0] == "eq" and isinstance(term[1], str):
        return TopicPattern(term[1], eq=True)
    if isinstance(term, str) and not isinstance(term, Atom) and term:
        try:
            check_filter(term, where)
        except ValueError as exc:
            raise RulesError(str(exc)) from None
        return TopicPattern(term)
    raise RulesError(f'{where}: a topic is a string or {{eq, "topic"}}, not {term!r}')
