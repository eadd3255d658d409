from __future__ import annotations

import pytest

from brookmq.mqtt.topics import matches, parse_shared, topic_filter_problem, topic_name_problem


@pytest.mark.parametrize(
    ("topic", "ok"),
    [
        ("a/b", True),
        ("/", True),
        ("a//b", True),
        ("$SYS/x", True),
        ("", False),
        ("a/+", False),
        ("a/#", False),
        ("a#", False),
    ],
)
def test_topic_name_validation(topic: str, ok: bool) -> None:
    # [MQTT-4.7.3-1] non-empty; [MQTT-3.3.2-2] no wildcards
    assert (topic_name_problem(topic) is None) is ok


@pytest.mark.parametrize(
    ("topic_filter", "ok"),
    [
        ("#", True),
        ("a/#", True),
        ("+", True),
        ("+/+/#", True),
        ("a/+/b", True),
        ("", False),
        ("a/#/b", False),
        ("a#", False),
        ("a/b#", False),
        ("a+", False),
        ("+a/b", False),
        ("##", False),
    ],
)
def test_topic_filter_validation(topic_filter: str, ok: bool) -> None:
    # [MQTT-4.7.1-1] '#' last and alone; [MQTT-4.7.1-2] '+' a whole level
    assert (topic_filter_problem(topic_filter) is None) is ok


def test_topic_level_limit() -> None:
    assert topic_name_problem("a/" * 127 + "a", 128) is None
    assert topic_name_problem("a/" * 128 + "a", 128) is not None
    assert topic_filter_problem("+/" * 128 + "#", 128) is not None


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/b", "a/b", True),
        ("a/+", "a/b", True),
        ("a/+", "a/b/c", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("#", "a/b", True),
        ("+/+", "/b", True),
        ("+", "", True),
        ("a/+/c", "a//c", True),
        ("a/b", "a/b/", False),
        # [MQTT-4.7.2-1] leading wildcards do not match '$' topics
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("$SYS/#", "$SYS/x", True),
    ],
)
def test_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected


def test_shared_filters() -> None:
    assert parse_shared("$share/g/a/+") == ("g", "a/+")
    assert parse_shared("$queue/a") == ("$queue", "a")
    assert parse_shared("a/b") is None
    for bad in ("$share/g", "$share//a", "$share/g/", "$share/g+/a", "$queue/"):
        with pytest.raises(ValueError):
            parse_shared(bad)
