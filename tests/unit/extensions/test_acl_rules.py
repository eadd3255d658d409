"""Rule topics, the rules file format and the API's rule documents."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from brookmq.extensions.authz.acl_file import RulesError, parse_rules
from brookmq.extensions.authz.rules import TopicPattern, first_verdict, rule_from_doc
from brookmq.extensions.authz.sources import default_rules


def who(client_id: str = "c", username: str | None = "u", peerhost: str = "10.1.2.3") -> SimpleNamespace:
    return SimpleNamespace(client_id=client_id, username=username, peerhost=peerhost)


@pytest.mark.parametrize(
    ("rule", "asked", "covered"),
    [
        ("a/b", "a/b", True),
        ("a/b", "a/c", False),
        ("a/+", "a/b", True),
        ("a/+", "a/b/c", False),
        ("a/+", "a/+", True),
        ("a/+", "a/#", False),  # a/# reaches a/b/c, which a/+ does not
        ("a/#", "a", True),
        ("a/#", "a/+/c", True),
        ("a/#", "a/#", True),
        ("a/b/#", "a/#", False),
        ("#", "anything/at/all", True),
        ("#", "$SYS/x", False),  # wildcards first never reach $ topics
        ("+/x", "$SYS/x", False),
        ("$SYS/#", "$SYS/brokers/+/version", True),
        ("a/b", "a/+", False),
        ("+", "", True),
    ],
)
def test_a_filter_covers_what_it_matches_entirely(rule: str, asked: str, covered: bool) -> None:
    assert TopicPattern(rule).covers(who(), asked, allow=True) is covered


def test_eq_compares_the_text_itself() -> None:
    assert TopicPattern("a/#", eq=True).covers(who(), "a/#", True)
    assert not TopicPattern("a/#", eq=True).covers(who(), "a/b", True)


@pytest.mark.parametrize(
    ("rule", "client", "asked", "allow", "covered"),
    [
        ("u/%u/#", who(username="alice"), "u/alice/x", True, True),
        ("u/${username}/#", who(username="alice"), "u/alice/x", True, True),
        ("d/%c", who(client_id="dev-1"), "d/dev-1", True, True),
        ("d/${clientid}/+", who(client_id="dev-1"), "d/dev-1/t", True, True),
        ("u/%u/#", who(username="+"), "u/bob/x", True, False),
        ("u/%u/#", who(username="+"), "u/+/x", True, False),
        ("u/%u/#", who(username="#"), "u/x", True, False),
        ("u/%u/#", who(username="a/b"), "u/a/b/c", True, False),
        ("u/%u/#", who(username="a/b"), "u/a/b/c", False, True),  # a deny rule still reaches it
        ("u/%u/#", who(username=None), "u//x", True, False),
        ("pre-%u-post", who(username="x"), "pre-x-post", True, True),
    ],
)
def test_placeholders_are_literal(rule, client, asked, allow, covered) -> None:
    assert TopicPattern(rule).covers(client, asked, allow) is covered


def test_the_default_rules_are_emqx_defaults() -> None:
    rules = parse_rules(default_rules())
    assert len(rules) == 4
    local, remote, dashboard = who(peerhost="127.0.0.1"), who(), who(username="dashboard")
    assert first_verdict(rules, remote, "subscribe", "#", 0, False) is False
    assert first_verdict(rules, remote, "subscribe", "$SYS/x", 0, False) is False
    assert first_verdict(rules, remote, "subscribe", "a/#", 0, False) is True
    assert first_verdict(rules, remote, "publish", "$SYS/x", 0, False) is True  # deny is subscribe only
    assert first_verdict(rules, local, "subscribe", "#", 0, False) is True
    assert first_verdict(rules, who(peerhost="::ffff:127.0.0.1"), "subscribe", "#", 0, False) is True
    assert first_verdict(rules, dashboard, "subscribe", "$SYS/#", 0, False) is True


def test_every_form_of_who_and_action() -> None:
    rules = parse_rules(
        """
        % comments run to the end of the line
        {allow, {user, "a"}, pubsub, ["t/1"]}.
        {allow, {client, {re, "^sensor-\\\\d+$"}}, {publish, [{qos, [0, 1]}, {retain, false}]}, ["t/2"]}.
        {allow, {ipaddrs, ["10.0.0.0/8", "192.0.2.1"]}, subscribe, [{eq, "t/#"}]}.
        {allow, {'and', [{username, "b"}, {clientid, "c"}]}, all, ["t/3"]}.
        {allow, {'or', [{username, "x"}, {ipaddr, "198.51.100.0/24"}]}, publish, ["t/4"]}.
        {deny, all}.
        """
    )
    verdict = first_verdict
    assert verdict(rules, who(username="a"), "subscribe", "t/1", 0, False) is True
    assert verdict(rules, who(client_id="sensor-12"), "publish", "t/2", 1, False) is True
    assert verdict(rules, who(client_id="sensor-12"), "publish", "t/2", 2, False) is False
    assert verdict(rules, who(client_id="sensor-12"), "publish", "t/2", 1, True) is False
    assert verdict(rules, who(client_id="sensor-x"), "publish", "t/2", 1, False) is False
    assert verdict(rules, who(peerhost="10.9.9.9"), "subscribe", "t/#", 0, False) is True
    assert verdict(rules, who(peerhost="10.9.9.9"), "subscribe", "t/x", 0, False) is False
    assert verdict(rules, who(username="b", client_id="c"), "publish", "t/3", 0, False) is True
    assert verdict(rules, who(username="b", client_id="d"), "publish", "t/3", 0, False) is False
    assert verdict(rules, who(username="q", peerhost="198.51.100.9"), "publish", "t/4", 0, False) is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{allow, all, publish, ["a"]}', "line 1: a rule must end with '.'"),
        ("\n\n{maybe, all}.", "line 3: permission must be allow or deny"),
        ('{allow, all, publish, ["a/#/b"]}.', "'#' must be the last level"),
        ('{allow, all, publish, ["a+"]}.', "a wildcard must fill a whole level"),
        ("{allow, all, publish, []}.", "topics must be a non-empty list"),
        ('{allow, {username, {re, "("}}, publish, ["a"]}.', "bad regular expression"),
        ('{allow, {ipaddr, "300.1.1.1"}, publish, ["a"]}.', "300.1.1.1"),
        ('{allow, {group, "x"}, publish, ["a"]}.', "cannot tell who"),
        ('{allow, all, write, ["a"]}.', "action must be publish, subscribe or all"),
        ('{allow, all, {publish, [{qos, 3}]}, ["a"]}.', "qos must be 0, 1, 2"),
        ('{allow, all, publish, ["a"]', "expected ',' or '}'"),
        ("{allow, all} @", "line 1: unexpected '@'"),
    ],
)
def test_mistakes_in_the_rules_file_name_their_line(text: str, message: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(text)
    assert message in str(err.value)


def test_api_rules_are_checked_and_normalized() -> None:
    rule, normal = rule_from_doc({"topic": "t/#", "permission": "deny", "action": "subscribe", "qos": 1})
    assert normal == {
        "topic": "t/#",
        "permission": "deny",
        "action": "subscribe",
        "qos": [1],
        "retain": "all",
    }
    assert rule.verdict(who(), "subscribe", "t/x", 1, False) is False
    assert rule.verdict(who(), "subscribe", "t/x", 0, False) is None
    for doc, field in [
        ({"topic": "t", "permission": "maybe", "action": "all"}, "rules[0].permission"),
        ({"topic": "t", "permission": "allow", "action": "read"}, "rules[0].action"),
        ({"topic": "", "permission": "allow", "action": "all"}, "rules[0].topic"),
        ({"topic": "a/#/b", "permission": "allow", "action": "all"}, "rules[0].topic"),
        ({"topic": "t", "permission": "allow", "action": "all", "qos": [3]}, "rules[0].qos"),
        ({"topic": "t", "permission": "allow", "action": "all", "retain": "yes"}, "rules[0].retain"),
        ({"topic": "t", "permission": "allow", "action": "all", "who": "x"}, "rules[0].who"),
        ("t", "rules[0]"),
    ]:
        with pytest.raises(ValueError, match="^" + re.escape(field)):
            rule_from_doc(doc)
