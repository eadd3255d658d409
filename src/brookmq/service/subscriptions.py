"""Every client's subscriptions, and the routing table's topics (``/subscriptions``, ``/topics``).

Both are listed in a stable order: sessions in the order they were made, each session's
subscriptions in the order it made them; topics in the order they got their first route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.session import Session, Subscription
from brookmq.mqtt.topics import matches, parse_shared, topic_filter_problem
from brookmq.service.clients import Clients, subscription_info
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.paging import Page, page_of


@dataclass(slots=True)
class SubscriptionQuery:
    clientid: str | None = None
    qos: int | None = None
    topic: str | None = None  # exact, as the client wrote it
    share_group: str | None = None
    match_topic: str | None = None  # subscriptions this filter covers; fuzzy: no count

    def tests(self) -> list[Callable[[Subscription], bool]]:
        out: list[Callable[[Subscription], bool]] = []
        if self.qos is not None:
            qos = self.qos
            out.append(lambda s: s.qos == qos)
        if self.topic is not None:
            topic = self.topic
            out.append(lambda s: s.topic_filter == topic)
        if self.share_group is not None:
            group = self.share_group
            out.append(lambda s: s.group == group)
        if self.match_topic is not None:
            pattern = self.match_topic
            if parse_shared_safely(pattern) or topic_filter_problem(pattern):
                raise Invalid("match_topic_invalid")
            out.append(lambda s: matches(pattern, s.real_filter))
        return out


def parse_shared_safely(topic_filter: str) -> bool:
    try:
        return parse_shared(topic_filter) is not None
    except ValueError:
        return True


class Subscriptions:
    def __init__(self, broker: Broker, clients: Clients) -> None:
        self.broker = broker
        self.clients = clients

    def find(self, query: SubscriptionQuery, page: int, limit: int) -> Page:
        tests = query.tests()
        broker = self.broker
        if query.clientid is not None:
            session = broker.sessions.get(query.clientid)
            sessions: Iterator[Session] = iter([session] if session is not None else [])
        else:
            sessions = self.clients.listed()
        pairs = ((s, sub) for s in sessions for sub in s.subscriptions.values())
        if tests:
            pairs = ((s, sub) for s, sub in pairs if all(test(sub) for test in tests))
        rows = (subscription_info(broker, s, sub) for s, sub in pairs)
        if query.match_topic is not None:
            return page_of(rows, page, limit)
        if query.clientid is None and not tests:
            count = sum(len(s.subscriptions) for s in self.clients.listed())
            return page_of(rows, page, limit, count)
        listed = list(rows)
        return page_of(iter(listed), page, limit, len(listed))


class Topics:
    """The routing table: one route per distinct (real) filter on this node."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def find(self, topic: str | None, page: int, limit: int) -> Page:
        filters = self.broker.router.filters
        node = self.broker.node_name
        if topic is not None:
            real = _real(topic)
            rows = [{"topic": real, "node": node}] if real in filters else []
            return page_of(iter(rows), page, limit, len(rows))
        return page_of(({"topic": t, "node": node} for t in filters), page, limit, len(filters))

    def get(self, topic: str) -> list[dict[str, Any]]:
        real = _real(topic)
        if real not in self.broker.router.filters:
            raise NotFound("Topic not found", "topic")
        return [{"topic": real, "node": self.broker.node_name}]


def _real(topic: str) -> str:
    try:
        shared = parse_shared(topic)
    except ValueError:
        raise Invalid("topic_filter_invalid") from None
    real = shared[1] if shared else topic
    if topic_filter_problem(real):
        raise Invalid("topic_filter_invalid")
    return real
