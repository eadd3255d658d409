"""The subscription trie: who receives a message published to a topic.

Normal subscriptions and shared-subscription groups hang off the trie node of
their filter. ``match`` walks the trie once per distinct topic and caches the
result until the next subscription change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brookmq.core.shared import SharedGroup

if TYPE_CHECKING:
    from brookmq.core.session import Session, Subscription

MatchEntry = tuple["Session", tuple["Subscription", ...]]
MatchResult = tuple[list[MatchEntry], list[SharedGroup]]

_CACHE_LIMIT = 16384
_NO_GROUPS: dict[str, SharedGroup] = {}  # shared, never written: most nodes have no groups
_EMPTY: MatchResult = ([], [])


class _Node:
    __slots__ = ("children", "groups", "subs")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.subs: dict[Session, Subscription] = {}
        self.groups: dict[str, SharedGroup] = _NO_GROUPS  # replaced by a real dict on first use


class Router:
    def __init__(self, strategy: str = "round_robin") -> None:
        self._root = _Node()
        self._cache: dict[str, MatchResult] = {}
        self.strategy = strategy
        self.filters: dict[str, int] = {}  # filter -> number of subscriptions on it (routes)
        self.subscription_count = 0
        self.shared_count = 0

    def add(self, session: Session, sub: Subscription) -> None:
        node = self._node(sub.real_filter, create=True)
        assert node is not None
        if sub.group is None:
            fresh = session not in node.subs
            node.subs[session] = sub
        else:
            if node.groups is _NO_GROUPS:
                node.groups = {}
            group = node.groups.get(sub.group)
            if group is None:
                group = node.groups[sub.group] = SharedGroup(sub.group, sub.real_filter, self.strategy)
            fresh = session not in group.members
            group.members[session] = sub
            self.shared_count += fresh
        if fresh:
            self.subscription_count += 1
            self.filters[sub.real_filter] = self.filters.get(sub.real_filter, 0) + 1
        self._cache.clear()

    def remove(self, session: Session, sub: Subscription) -> None:
        node = self._node(sub.real_filter, create=False)
        if node is None:
            return
        if sub.group is None:
            found = node.subs.pop(session, None) is not None
        else:
            group = node.groups.get(sub.group)
            found = group is not None and group.members.pop(session, None) is not None
            if found:
                self.shared_count -= 1
                assert group is not None
                group.forget(session)
                if not group.members:
                    del node.groups[sub.group]
        if found:
            self.subscription_count -= 1
            left = self.filters[sub.real_filter] - 1
            if left:
                self.filters[sub.real_filter] = left
            else:
                del self.filters[sub.real_filter]
                self._prune(sub.real_filter)
        self._cache.clear()

    def match(self, topic: str) -> MatchResult:
        result = self._cache.get(topic)
        if result is not None:
            return result
        nodes: list[_Node] = []
        self._collect(self._root, topic.split("/"), 0, topic.startswith("$"), nodes)
        entries: list[MatchEntry] = []
        groups: list[SharedGroup] = []
        by_session: dict[Session, list[Subscription]] | None = None
        for node in nodes:
            if node.groups:
                groups.extend(node.groups.values())
            if node.subs:
                if by_session is None and len(nodes) == 1:
                    entries = [(s, (sub,)) for s, sub in node.subs.items()]
                    continue
                if by_session is None:
                    by_session = {}
                for s, sub in node.subs.items():
                    by_session.setdefault(s, []).append(sub)
        if by_session is not None:
            entries = [(s, tuple(subs)) for s, subs in by_session.items()]
        result = (entries, groups) if entries or groups else _EMPTY
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[topic] = result
        return result

    def _collect(self, node: _Node, levels: list[str], i: int, dollar: bool, out: list[_Node]) -> None:
        children = node.children
        # '$' topics are not matched by a wildcard in the first level [MQTT-4.7.2-1].
        wild = not (dollar and i == 0)
        if wild:
            hash_node = children.get("#")
            if hash_node is not None and (hash_node.subs or hash_node.groups):
                out.append(hash_node)
        if i == len(levels):
            if node.subs or node.groups:
                out.append(node)
            return
        child = children.get(levels[i])
        if child is not None:
            self._collect(child, levels, i + 1, dollar, out)
        if wild:
            plus = children.get("+")
            if plus is not None:
                self._collect(plus, levels, i + 1, dollar, out)

    def _node(self, topic_filter: str, create: bool) -> _Node | None:
        node = self._root
        for level in topic_filter.split("/"):
            child = node.children.get(level)
            if child is None:
                if not create:
                    return None
                child = node.children[level] = _Node()
            node = child
        return node

    def _prune(self, topic_filter: str) -> None:
        path = [self._root]
        levels = topic_filter.split("/")
        for level in levels:
            child = path[-1].children.get(level)
            if child is None:
                return
            path.append(child)
        for i in range(len(levels) - 1, -1, -1):
            node = path[i + 1]
            if node.children or node.subs or node.groups:
                return
            del path[i].children[levels[i]]
