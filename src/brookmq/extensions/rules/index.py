"""Which rules a topic concerns: a topic-filter trie with a cache per topic, so a message
finds its rules in one walk however many rules there are, and no rules cost one dict miss."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")
_CACHE_LIMIT = 4096


class _Node(Generic[T]):
    __slots__ = ("children", "values")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.values: list[T] = []


class TopicIndex(Generic[T]):
    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._cache: dict[str, tuple[T, ...]] = {}
        self.size = 0

    def add(self, topic_filter: str, value: T) -> None:
        node = self._root
        for level in topic_filter.split("/"):
            node = node.children.setdefault(level, _Node())
        node.values.append(value)
        self.size += 1
        self._cache.clear()

    def remove(self, topic_filter: str, value: T) -> None:
        path = [self._root]
        for level in topic_filter.split("/"):
            child = path[-1].children.get(level)
            if child is None:
                return
            path.append(child)
        if value in path[-1].values:
            path[-1].values.remove(value)
            self.size -= 1
        levels = topic_filter.split("/")
        for i in range(len(levels) - 1, -1, -1):
            node = path[i + 1]
            if node.children or node.values:
                break
            del path[i].children[levels[i]]
        self._cache.clear()

    def match(self, topic: str) -> tuple[T, ...]:
        """The values of every filter that matches ``topic``, each once, in the order added
        per filter ('$' topics are not matched by a first-level wildcard [MQTT-4.7.2-1])."""
        found = self._cache.get(topic)
        if found is not None:
            return found
        out: list[T] = []
        self._collect(self._root, topic.split("/"), 0, topic.startswith("$"), out)
        result = tuple(dict.fromkeys(out))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[topic] = result
        return result

    def _collect(self, node: _Node[T], levels: list[str], i: int, dollar: bool, out: list[T]) -> None:
        wild = not (dollar and i == 0)
        if wild and "#" in node.children:
            out.extend(node.children["#"].values)
        if i == len(levels):
            out.extend(node.values)
            return
        child = node.children.get(levels[i])
        if child is not None:
            self._collect(child, levels, i + 1, dollar, out)
        if wild and "+" in node.children:
            self._collect(node.children["+"], levels, i + 1, dollar, out)
