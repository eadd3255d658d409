"""The retained-message index: one message per topic, found by topic filter."""

from __future__ import annotations

from collections.abc import Iterator

from brookmq.core.message import Message


class _Node:
    __slots__ = ("children", "message")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.message: Message | None = None


class RetainedIndex:
    def __init__(self) -> None:
        self._root = _Node()
        self.count = 0

    def set(self, message: Message) -> None:
        node = self._root
        for level in message.topic.split("/"):
            child = node.children.get(level)
            if child is None:
                child = node.children[level] = _Node()
            node = child
        if node.message is None:
            self.count += 1
        node.message = message

    def delete(self, topic: str) -> bool:
        path = [self._root]
        levels = topic.split("/")
        for level in levels:
            child = path[-1].children.get(level)
            if child is None:
                return False
            path.append(child)
        if path[-1].message is None:
            return False
        path[-1].message = None
        self.count -= 1
        for i in range(len(levels) - 1, -1, -1):
            node = path[i + 1]
            if node.children or node.message is not None:
                break
            del path[i].children[levels[i]]
        return True

    def get(self, topic: str) -> Message | None:
        node = self._root
        for level in topic.split("/"):
            child = node.children.get(level)
            if child is None:
                return None
            node = child
        return node.message

    def messages(self) -> Iterator[Message]:
        """Every retained message, ``$`` topics too, in an order that holds while nothing changes."""
        return self._subtree(self._root)

    def match(self, topic_filter: str) -> list[Message]:
        """Every retained message whose topic ``topic_filter`` matches."""
        out: list[Message] = []
        self._walk(self._root, topic_filter.split("/"), 0, out)
        return out

    def _walk(self, node: _Node, levels: list[str], i: int, out: list[Message]) -> None:
        if i == len(levels):
            if node.message is not None:
                out.append(node.message)
            return
        level = levels[i]
        if level == "#":
            # '#' also matches the parent level itself [MQTT-4.7.1-2]; never '$' topics at the root.
            if i and node.message is not None:
                out.append(node.message)
            for name, child in node.children.items():
                if i == 0 and name.startswith("$"):
                    continue
                out.extend(self._subtree(child))
        elif level == "+":
            for name, child in node.children.items():
                if i == 0 and name.startswith("$"):
                    continue
                self._walk(child, levels, i + 1, out)
        else:
            exact = node.children.get(level)
            if exact is not None:
                self._walk(exact, levels, i + 1, out)

    def _subtree(self, node: _Node) -> Iterator[Message]:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.message is not None:
                yield n.message
            stack.extend(n.children.values())
