"""The rule engine: runs compiled rules on published messages and events, off the routing path.

A message finds its rules through a topic index (one cached walk, whatever the number of
rules); an event through its hook, which the engine registers only while a rule selects from
that event, so an event nobody asked for costs nothing. What a hook sees is turned into
columns at once and queued (bounded: past ``max_pending`` inputs the rules count
``failed.unknown`` and the input is dropped); the queue is worked off right after the current
batch of packets, so routing never waits for a rule or an action.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.client import LocalClient
from brookmq.core.hooks import Hook, method_name
from brookmq.extensions.rules import actions as builtin
from brookmq.extensions.rules import events
from brookmq.extensions.rules.index import TopicIndex
from brookmq.extensions.rules.metrics import RuleMetrics
from brookmq.extensions.rules.sql import Statement
from brookmq.extensions.rules.values import SqlRuntimeError

log = logging.getLogger("brookmq.rules")

Output = dict[str, Any]


@dataclass(slots=True)
class Action:
    """One entry of a rule's ``actions``: a built-in function (``republish``, ``console``, and
    EMQX 4's ``do_nothing``), or a connector's action by its ``type:name`` (counted as discarded
    until that connector exists)."""

    spec: Any  # as given: "http:my_hook" or {"function": "republish", "args": {...}}
    kind: str  # republish | console | do_nothing | connector
    republish: builtin.Republish | None = None
    success: int = 0
    failed: int = 0


def parse_action(spec: Any) -> Action:
    if isinstance(spec, str):
        if ":" not in spec or spec.startswith(":") or spec.endswith(":"):
            raise builtin.ActionError(f"action {spec!r}: expected <type>:<name> or a function object")
        return Action(spec, "connector")
    if not isinstance(spec, dict) or not isinstance(spec.get("function"), str):
        raise builtin.ActionError("an action is a '<type>:<name>' string or {function, args}")
    function = spec["function"]
    if function == "republish":
        return Action(spec, function, builtin.republish(spec.get("args") or {}))
    if function in ("console", "do_nothing"):
        return Action(spec, function)
    raise builtin.ActionError(
        f"unknown action function {function!r}; built in: republish, console, do_nothing"
    )


@dataclass(slots=True, eq=False)  # a rule is itself: found by identity in the index
class Rule:
    id: str
    statement: Statement
    actions: list[Action]
    enable: bool = True
    metrics: RuleMetrics = field(default_factory=RuleMetrics)
    publisher: LocalClient | None = None

    @property
    def topics(self) -> list[str]:
        return [s for s in self.statement.sources if not s.startswith(("$events/", "$bridges/"))]

    @property
    def event_names(self) -> list[str]:
        return [events.BY_TOPIC[s].name for s in self.statement.sources if s in events.BY_TOPIC]

    @property
    def bridges(self) -> list[str]:
        """The ingress sources it selects from (``$bridges/mqtt:<name>``)."""
        return [s for s in self.statement.sources if s.startswith("$bridges/")]


def check_sources(statement: Statement) -> None:
    """Every ``$events/...`` source must be an event this broker raises."""
    for source in statement.sources:
        if source.startswith("$events/") and source not in events.BY_TOPIC:
            known = ", ".join(sorted(events.BY_TOPIC))
            raise builtin.ActionError(f"unknown event {source}; the events are {known}")


class RuleEngine:
    def __init__(self, broker: Broker, ignore_sys_message: bool = True, max_pending: int = 10_000) -> None:
        self.broker = broker
        self.ignore_sys_message = ignore_sys_message
        self.max_pending = max_pending
        self.rules: dict[str, Rule] = {}
        self._topics: TopicIndex[Rule] = TopicIndex()
        self._by_event: dict[str, list[Rule]] = {}
        self._by_bridge: dict[str, list[Rule]] = {}
        self._hooks: dict[str, Hook] = {}
        self._pending: deque[tuple[tuple[Rule, ...], Output, Rule | None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._republishing: Rule | None = None
        self.dropped = 0  # inputs not run for lack of room
        # Where a rule's "<type>:<name>" actions send (the connectors' actions); None: nowhere.
        self.sinks: Callable[[str], Any] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._sync_hooks()

    def stop(self) -> None:
        for hook in self._hooks.values():
            self.broker.hooks.remove(hook)
        self._hooks.clear()
        self._loop = None

    # ------------------------------------------------------------ rules

    def put(self, rule: Rule) -> None:
        """Add ``rule``, or replace the rule with its id (keeping its metrics)."""
        old = self.rules.get(rule.id)
        if old is not None:
            rule.metrics = old.metrics
            rule.publisher = old.publisher
            self._unindex(old)
        self.rules[rule.id] = rule
        for topic in rule.topics:
            self._topics.add(topic, rule)
        for name in rule.event_names:
            self._by_event.setdefault(name, []).append(rule)
        for source in rule.bridges:
            self._by_bridge.setdefault(source, []).append(rule)
        self._sync_hooks()

    def remove(self, rule_id: str) -> None:
        rule = self.rules.pop(rule_id, None)
        if rule is None:
            return
        self._unindex(rule)
        if rule.publisher is not None:
            self.broker.local_clients.remove(rule.publisher)
        self._sync_hooks()

    def _unindex(self, rule: Rule) -> None:
        for topic in rule.topics:
            self._topics.remove(topic, rule)
        for index, keys in ((self._by_event, rule.event_names), (self._by_bridge, rule.bridges)):
            for key in keys:
                listed = index.get(key, [])
                if rule in listed:
                    listed.remove(rule)
                if not listed:
                    index.pop(key, None)

    def _sync_hooks(self) -> None:
        """Listen to exactly the hook points some rule needs."""
        if self._loop is None:
            return
        wanted = {events.EVENTS[name].point: name for name in self._by_event}
        if self._topics.size:
            wanted["message.published"] = events.MESSAGE_PUBLISH
        for point in list(self._hooks):
            if point not in wanted:
                self.broker.hooks.remove(self._hooks.pop(point))
        for point, name in wanted.items():
            if point not in self._hooks:
                handler = (
                    self._on_message if name == events.MESSAGE_PUBLISH else partial(self._on_event, name)
                )
                hook = _single_point_hook(point, handler)
                self._hooks[point] = hook
                self.broker.hooks.add(hook)

    # ------------------------------------------------------------ inputs

    def _on_message(self, message: Any) -> None:
        if self.ignore_sys_message and message.topic.startswith("$SYS/"):
            return
        rules = self._topics.match(message.topic)
        if rules:
            self._queue(rules, lambda: events.message_columns(self.broker, message))

    def _on_event(self, name: str, *args: Any) -> None:
        rules = self._by_event.get(name)
        if rules:
            event = events.EVENTS[name]
            self._queue(tuple(rules), lambda: event.build(self.broker, *args))

    def ingest(self, source: str, columns: Output) -> None:
        """An input from an ingress source (``$bridges/mqtt:<name>``) for its rules."""
        rules = self._by_bridge.get(source)
        if rules:
            self._queue(tuple(rules), lambda: {"node": self.broker.node_name, **columns})

    def _queue(self, rules: tuple[Rule, ...], build: Callable[[], Output]) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            for rule in rules:
                rule.metrics.overloaded()
            if self.dropped == 1 or self.dropped % 10_000 == 0:
                log.warning("rule engine overloaded: %d inputs not run so far", self.dropped)
            return
        self._pending.append((rules, build(), self._republishing))
        if not self._scheduled and self._loop is not None:
            self._scheduled = True
            self._loop.call_soon(self._drain)

    def _drain(self) -> None:
        """Run what is queued; what the actions publish is written in one batch per connection."""
        self._scheduled = False
        now = time.monotonic()
        pending = self._pending
        broker = self.broker
        broker.batching = True
        try:
            while pending:
                rules, columns, republished_by = pending.popleft()
                for rule in rules:
                    if rule.enable and rule is not republished_by:
                        self.apply(rule, columns, now)
        finally:
            broker.batching = False
            broker.flush()

    # ------------------------------------------------------------ running a rule

    def apply(self, rule: Rule, columns: Output, now: float | None = None) -> list[Output]:
        """Run ``rule`` on one input and its actions on each output; returns the outputs."""
        metrics = rule.metrics
        metrics.matched(time.monotonic() if now is None else now)
        counts = metrics.counts
        try:
            result = rule.statement.run(columns)
        except SqlRuntimeError as exc:
            metrics.count("failed", "failed.exception")
            log.debug("rule %s failed on %s: %s", rule.id, columns.get("topic"), exc)
            return []
        except Exception:
            metrics.count("failed", "failed.exception")
            log.exception("rule %s failed", rule.id)
            return []
        outputs = [result] if type(result) is dict else (result or [])
        if not outputs:
            metrics.count("failed", "failed.no_result")
            return []
        counts["passed"] += 1
        for output in outputs:
            for action in rule.actions:
                self._run_action(rule, action, output, columns)
        return outputs

    def _run_action(self, rule: Rule, action: Action, output: Output, columns: Output) -> None:
        metrics = rule.metrics
        counts = metrics.counts
        counts["actions.total"] += 1
        if action.kind == "connector":
            sink = self.sinks(action.spec) if self.sinks is not None else None
            if sink is None:
                counts["actions.discarded"] += 1  # no such action (yet), as EMQX
                return
            sink.send(output, partial(self._answered, rule, action))
            return
        try:
            if action.kind == "console":
                builtin.console(rule.id, output, columns)
            elif action.republish is not None:
                self._republish(rule, action.republish, output, columns)
        except (builtin.ActionError, ValueError) as exc:
            action.failed += 1
            metrics.count("actions.failed", "actions.failed.unknown")
            log.info("rule %s: action %s failed: %s", rule.id, action.spec, exc)
        else:
            action.success += 1
            counts["actions.success"] += 1

    @staticmethod
    def _answered(rule: Rule, action: Action, ok: bool) -> None:
        """A connector's action finished with one output (sent, or given up)."""
        counts = rule.metrics.counts
        if ok:
            action.success += 1
            counts["actions.success"] += 1
        else:
            action.failed += 1
            counts["actions.failed"] += 1
            counts["actions.failed.unknown"] += 1

    def _republish(self, rule: Rule, republish: builtin.Republish, output: Output, columns: Output) -> None:
        topic, payload, qos, retain, properties = republish.message(output, columns)
        if rule.publisher is None:
            rule.publisher = self.broker.client(rule.id)
        self._republishing = rule
        try:
            rule.publisher.publish(topic, payload, qos, retain, properties)
        finally:
            self._republishing = None


def _single_point_hook(point: str, handler: Callable[..., None]) -> Hook:
    """A hook that overrides only ``point``'s method, calling ``handler``."""
    name = method_name(point)

    def method(self: Hook, *args: Any) -> None:
        handler(*args)

    return type(f"Rules_{name}", (Hook,), {name: method})()
