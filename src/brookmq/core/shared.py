"""Shared subscription groups and EMQX's dispatch strategies."""

from __future__ import annotations

import random
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brookmq.core.message import Message
    from brookmq.core.session import Session, Subscription

STRATEGIES = ("random", "round_robin", "sticky", "hash_clientid", "hash_topic")


class SharedGroup:
    """The members of one ``$share/<group>/<filter>``; each message goes to one of them."""

    __slots__ = ("_next", "_sticky", "filter", "members", "name", "strategy")

    def __init__(self, name: str, topic_filter: str, strategy: str) -> None:
        self.name = name
        self.filter = topic_filter
        self.strategy = strategy
        self.members: dict[Session, Subscription] = {}
        self._next = 0
        self._sticky: Session | None = None

    def forget(self, session: Session) -> None:
        if self._sticky is session:
            self._sticky = None

    def pick(self, message: Message, exclude: Session | None = None) -> tuple[Session, Subscription] | None:
        """Choose the member for ``message``; members with a live connection come first."""
        candidates = [s for s in self.members if s is not exclude and s.connection is not None]
        if not candidates:
            candidates = [s for s in self.members if s is not exclude]
            if not candidates:
                return None
        strategy = self.strategy
        if strategy == "round_robin":
            chosen = candidates[self._next % len(candidates)]
            self._next += 1
        elif strategy == "random":
            chosen = random.choice(candidates)
        elif strategy == "sticky":
            chosen = self._sticky if self._sticky in candidates else random.choice(candidates)
            self._sticky = chosen
        elif strategy == "hash_clientid":
            key = (message.origin or "").encode()
            chosen = candidates[zlib.crc32(key) % len(candidates)]
        else:  # hash_topic
            chosen = candidates[zlib.crc32(message.topic.encode()) % len(candidates)]
        return chosen, self.members[chosen]
