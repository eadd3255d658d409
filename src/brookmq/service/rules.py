"""Rules as the management API lists, creates, changes, tests and measures them.

A rule is kept in the store's ``rules`` collection as EMQX 5.8's object (``id``, ``name``,
``sql``, ``actions``, ``enable``, ``description``, ``metadata``, ``created_at``,
``last_modified_at``) and runs in the rule engine; one that no longer compiles at start is
kept, logged, and not run.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
import time
from typing import Any

from brookmq.core.store import Collection
from brookmq.extensions.rules import events
from brookmq.extensions.rules.actions import ActionError
from brookmq.extensions.rules.engine import Rule, RuleEngine, check_sources, parse_action
from brookmq.extensions.rules.sql import SqlSyntaxError, compile_sql
from brookmq.extensions.rules.values import SqlRuntimeError
from brookmq.mqtt.topics import matches
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.paging import Page, page_of

log = logging.getLogger("brookmq.rules")

_ID_CHARS = string.ascii_lowercase + string.digits
_FIELDS = ("id", "name", "sql", "actions", "enable", "description", "metadata")


class NotMatched(Exception):
    """The SQL did not select anything from the test input."""


class Rules:
    def __init__(self, engine: RuleEngine, records: Collection) -> None:
        self.engine = engine
        self.records = records

    def load(self) -> None:
        """Run every kept rule that still compiles."""
        for rule_id, record in self.records.items():
            try:
                self.engine.put(self._compile(record))
            except Invalid as exc:
                log.error("rule %s is kept but not run: %s", rule_id, exc.message)

    # ------------------------------------------------------------ reading

    def info(self, record: dict[str, Any]) -> dict[str, Any]:
        rule = self.engine.rules.get(record["id"])
        return {
            **record,
            "from": list(rule.statement.sources) if rule is not None else _sources_of(record["sql"]),
        }

    def get(self, rule_id: str) -> dict[str, Any]:
        record = self.records.get(rule_id)
        if record is None:
            raise NotFound("Rule Id Not Found", "rule")
        return self.info(record)

    def find(self, filters: dict[str, Any], page: int, limit: int) -> Page:
        """``enable``, ``from`` (a source exactly), ``like_id``, ``like_from``,
        ``like_description`` (substrings), ``match_from`` (a topic some source matches),
        ``action`` (an action id used)."""
        rows = [self.info(record) for _, record in self.records.items()]
        rows.sort(key=lambda row: row["created_at"], reverse=True)
        selected = [row for row in rows if _passes(row, filters)]
        return page_of(selected, page, limit, len(selected))

    # ------------------------------------------------------------ changing

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        rule_id = body.get("id")
        if rule_id is None:
            rule_id = "".join(secrets.choice(_ID_CHARS) for _ in range(8))
        if not isinstance(rule_id, str) or rule_id == "":
            raise Invalid("empty rule id is not allowed")
        if self.records.get(rule_id) is not None:
            raise AlreadyExists("rule id already exists")
        now = time.time()
        record = _record({"enable": True, "description": "", "metadata": {}, **body, "id": rule_id}, now, now)
        self.engine.put(self._compile(record))
        self.records.put(rule_id, record)
        return self.info(record)

    def update(self, rule_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The given fields replace the rule's; the others stay."""
        old = self.records.get(rule_id)
        if old is None:
            raise NotFound("Rule Id Not Found", "rule")
        record = _record({**old, **body, "id": rule_id}, old["created_at"], time.time())
        self.engine.put(self._compile(record))
        self.records.put(rule_id, record)
        return self.info(record)

    def stored(self) -> list[dict[str, Any]]:
        """Every kept rule, for a backup."""
        return [record for _, record in self.records.items()]

    def restorable(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A rule from a backup, checked (its SQL compiles, its actions are known); Invalid if not."""
        rule_id = fields.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            raise Invalid("is required", "id")
        now = time.time()
        created = fields.get("created_at")
        record = _record(
            {"enable": True, "description": "", "metadata": {}, "name": "", **fields},
            created if isinstance(created, int | float) else now,
            now,
        )
        self._compile(record)
        return record

    def restore(self, record: dict[str, Any]) -> None:
        """Put a checked rule (replacing the one with its id) and run it."""
        self.engine.put(self._compile(record))
        self.records.put(record["id"], record)

    def delete(self, rule_id: str) -> None:
        if not self.records.delete(rule_id):
            raise NotFound("Rule Id Not Found", "rule")
        self.engine.remove(rule_id)

    def _compile(self, record: dict[str, Any]) -> Rule:
        statement = compile_checked(record["sql"])
        try:
            check_sources(statement)
            actions = [parse_action(spec) for spec in record["actions"]]
        except ActionError as exc:
            raise Invalid(str(exc)) from None
        return Rule(record["id"], statement, actions, record["enable"])

    def using(self, action_id: str) -> list[str]:
        """The ids of the rules with the action ``action_id`` (``http:<name>``)."""
        return sorted(rule_id for rule_id, record in self.records.items() if action_id in record["actions"])

    def selecting(self, source: str) -> list[str]:
        """The ids of the rules with ``source`` in their ``FROM`` (``$bridges/mqtt:<name>``)."""
        return sorted(
            rule_id for rule_id, record in self.records.items() if source in self.info(record)["from"]
        )

    # ------------------------------------------------------------ metrics and tests

    def metrics(self, rule_id: str) -> dict[str, Any]:
        self.get(rule_id)
        rule = self.engine.rules.get(rule_id)
        figures = rule.metrics.snapshot() if rule is not None else {}
        return {
            "id": rule_id,
            "metrics": figures,
            "node_metrics": [{"node": self.engine.broker.node_name, "metrics": figures}],
        }

    def action_metrics(self, rule_id: str) -> list[dict[str, int]]:
        """``{success, failed}`` of each of the rule's actions, in order."""
        rule = self.engine.rules.get(rule_id)
        if rule is None:
            return [{"success": 0, "failed": 0} for _ in self.get(rule_id)["actions"]]
        return [{"success": action.success, "failed": action.failed} for action in rule.actions]

    def reset_metrics(self, rule_id: str) -> None:
        self.get(rule_id)
        rule = self.engine.rules.get(rule_id)
        if rule is not None:
            rule.metrics.reset()
            for action in rule.actions:
                action.success = action.failed = 0

    def test(self, sql: Any, context: Any) -> Any:
        """What ``sql`` selects from ``context`` (``event_type``, default ``message_publish``,
        and the input's columns; the event's example columns fill the rest). Raises
        ``NotMatched`` when it selects nothing."""
        if not isinstance(sql, str):
            raise Invalid("is required", "sql")
        if context is None:
            context = {}
        if not isinstance(context, dict):
            raise Invalid("must be an object", "context")
        statement = compile_checked(sql)
        name = context.get("event_type") or "message_publish"
        event = events.event_type(str(name))
        if event is None:
            raise Invalid(f"unknown event type {name}", "context.event_type")
        columns = {
            "event": event.name,
            "timestamp": int(time.time() * 1000),
            "node": self.engine.broker.node_name,
            "flags": {},
            "pub_props": {"User-Property": {}},
            **event.test_columns,
            **{key: value for key, value in context.items() if key != "event_type"},
        }
        topic = context.get("topic")
        on_topic = topic is None or any(matches(source, str(topic)) for source in statement.sources)
        if event.name == events.MESSAGE_PUBLISH and not on_topic:
            raise NotMatched()
        try:
            result = statement.run(columns)
        except SqlRuntimeError as exc:
            raise Invalid(f"the SQL failed on this input: {exc}") from None
        if result is None or result == []:
            raise NotMatched()
        return result

    @staticmethod
    def events() -> list[dict[str, Any]]:
        return [
            {
                "event": event.topic if event.name != events.MESSAGE_PUBLISH else event.name,
                "title": {"en": event.title, "zh": event.title},
                "description": {"en": event.description, "zh": event.description},
                "test_columns": event.test_columns,
                "columns": list(event.columns),
                "sql_example": event.sql_example,
            }
            for event in events.EVENTS.values()
        ]


def compile_checked(sql: str) -> Any:
    try:
        return compile_sql(sql)
    except SqlSyntaxError as exc:
        raise Invalid(f"invalid SQL: {exc}", "sql") from None


def _sources_of(sql: str) -> list[str]:
    try:
        return list(compile_sql(sql).sources)
    except SqlSyntaxError:
        return []


def _record(fields: dict[str, Any], created_at: float, modified_at: float) -> dict[str, Any]:
    record = {key: fields[key] for key in _FIELDS if key in fields}
    if not isinstance(record.get("sql"), str) or not record["sql"].strip():
        raise Invalid("is required", "sql")
    if not isinstance(record.get("actions", []), list):
        raise Invalid("must be an array", "actions")
    record.setdefault("actions", [])
    record.setdefault("name", "")
    for key, kind in (("name", str), ("description", str), ("enable", bool), ("metadata", dict)):
        if not isinstance(record.get(key), kind):
            raise Invalid(f"must be a {kind.__name__}", key)
    if not re.fullmatch(r"[^\s/]{1,255}", record["id"]):
        raise Invalid("must be 1..255 characters with no space or '/'", "id")
    return {**record, "created_at": created_at, "last_modified_at": modified_at}


def _passes(row: dict[str, Any], filters: dict[str, Any]) -> bool:
    enable, source, action = filters.get("enable"), filters.get("from"), filters.get("action")
    if enable is not None and row["enable"] != enable:
        return False
    if source is not None and source not in row["from"]:
        return False
    used = [a if isinstance(a, str) else a.get("function") for a in row["actions"]]
    if action is not None and action not in used:
        return False
    for key, field in (("like_id", "id"), ("like_description", "description")):
        if filters.get(key) is not None and str(filters[key]) not in str(row[field]):
            return False
    like_from = filters.get("like_from")
    if like_from is not None and not any(like_from in s for s in row["from"]):
        return False
    match_from = filters.get("match_from")
    return match_from is None or any(matches(source, match_from) for source in row["from"])
