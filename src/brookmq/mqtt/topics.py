"""Topic names and filters: validation (section 4.7) and matching."""

from __future__ import annotations

SHARE_PREFIX = "$share/"
QUEUE_PREFIX = "$queue/"
QUEUE_GROUP = "$queue"


def _string_problem(text: str) -> str | None:
    """What the codec refuses in a UTF-8 Encoded String, for text that did not come through it
    (the management API, the in-process client)."""
    if "\x00" in text:
        return "contains U+0000"  # [MQTT-1.5.4-2]
    if len(text) > 16383 and len(text.encode("utf-8", "surrogatepass")) > 65535:
        return "is longer than 65535 bytes"  # [MQTT-1.5.4]
    return None


def topic_name_problem(topic: str, max_levels: int = 0) -> str | None:
    """Why ``topic`` is not a valid topic name, or None."""
    if not topic:
        return "topic name is empty"  # [MQTT-4.7.3-1]
    problem = _string_problem(topic)
    if problem:
        return f"topic name {problem}"
    if "+" in topic or "#" in topic:
        return "topic name contains a wildcard"  # [MQTT-3.3.2-2]
    if max_levels and topic.count("/") >= max_levels:
        return f"topic has more than {max_levels} levels"
    return None


def topic_filter_problem(topic_filter: str, max_levels: int = 0) -> str | None:
    """Why ``topic_filter`` is not a valid filter, or None. Shared prefixes must be split off first."""
    if not topic_filter:
        return "topic filter is empty"  # [MQTT-4.7.3-1]
    problem = _string_problem(topic_filter)
    if problem:
        return f"topic filter {problem}"
    levels = topic_filter.split("/")
    if max_levels and len(levels) > max_levels:
        return f"topic filter has more than {max_levels} levels"
    last = len(levels) - 1
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != last):
            return "'#' must be the last level and alone in it"  # [MQTT-4.7.1-1]
        if "+" in level and level != "+":
            return "'+' must occupy a whole level"  # [MQTT-4.7.1-2]
    return None


def is_sys(topic: str) -> bool:
    """A ``$SYS/...`` topic: only the broker (and superusers) may publish there."""
    return topic.startswith("$SYS/") or topic == "$SYS"


def has_wildcard(topic_filter: str) -> bool:
    return "+" in topic_filter or "#" in topic_filter


def parse_shared(topic_filter: str) -> tuple[str, str] | None:
    """``(group, filter)`` for ``$share/<group>/<filter>`` and ``$queue/<filter>``, else None.

    Raises ValueError for a malformed shared filter [MQTT-4.8.2-1/2].
    """
    if topic_filter.startswith(SHARE_PREFIX):
        group, sep, real = topic_filter[len(SHARE_PREFIX) :].partition("/")
        if not sep or not group or not real:
            raise ValueError("shared subscription needs $share/<group>/<filter>")
        if "+" in group or "#" in group:
            raise ValueError("share name must not contain wildcards")
        return group, real
    if topic_filter.startswith(QUEUE_PREFIX):
        real = topic_filter[len(QUEUE_PREFIX) :]
        if not real:
            raise ValueError("$queue/ needs a filter")
        return QUEUE_GROUP, real
    return None


def matches(topic_filter: str, topic: str) -> bool:
    """Does ``topic_filter`` match ``topic``? ``$`` topics escape leading wildcards [MQTT-4.7.2-1]."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    for i, level in enumerate(f_levels):
        if level == "#":
            return True
        if i >= len(t_levels):
            return False
        if level != "+" and level != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)
