"""The rule SQL language: statements, fields, paths, operators and errors, as EMQX's
documentation describes them (its worked examples are here)."""

from __future__ import annotations

import json

import pytest

from brookmq.extensions.rules.sql import SqlSyntaxError, compile_sql
from brookmq.extensions.rules.values import SqlRuntimeError

MESSAGE = {
    "clientid": "c_steve",
    "username": "steve",
    "topic": "t/1",
    "qos": 1,
    "payload": json.dumps(
        {
            "date": "2020-04-24",
            "temp": 25,
            "x": {"y": 1},
            "sensors": [{"name": "a", "idx": 0}, {"name": "b", "idx": 1}, {"name": "c", "idx": 2}],
        }
    ),
    "pub_props": {"User-Property": {"foo": "bar"}},
    "flags": {"retain": False},
}


def run(sql: str, columns: dict | None = None) -> object:
    return compile_sql(sql).run(dict(MESSAGE if columns is None else columns))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('SELECT clientid, payload.date as d FROM "t/#"', {"clientid": "c_steve", "d": "2020-04-24"}),
        ("select qos, username from 't/#', 'my/other/topic'", {"qos": 1, "username": "steve"}),
        ("SELECT payload.x.y FROM 't/#'", {"payload": {"x": {"y": 1}}}),
        ("SELECT payload.temp as x FROM 't/#' WHERE x = 25", {"x": 25}),
        ("SELECT payload.temp as x FROM 't/#' WHERE x = 26", None),
        ("SELECT * FROM 't/#' WHERE payload.x.y = 1", MESSAGE),
        ("SELECT (payload.temp + 2) * 2 as num FROM 't/#'", {"num": 54}),
        ("SELECT (upper(clientid) + '_UPPER') as cid FROM 't/#'", {"cid": "C_STEVE_UPPER"}),
        ("SELECT pub_props.'User-Property'.foo as foo FROM 't/#'", {"foo": "bar"}),
        (
            "SELECT payload.sensors[1].name as first, payload.sensors[-1].idx as last FROM 't'",
            {"first": "a", "last": 2},
        ),
        ("SELECT payload.sensors[9] as none FROM 't'", {"none": None}),
        (
            "SELECT CASE WHEN payload.temp < 0 THEN 0 WHEN payload.temp > 7 THEN 7 "
            "ELSE payload.temp END as x FROM 't'",
            {"x": 7},
        ),
        ("SELECT CASE qos WHEN 0 THEN 'zero' WHEN 1 THEN 'one' END as q FROM 't'", {"q": "one"}),
        ("SELECT CASE WHEN qos > 5 THEN 1 END as q FROM 't'", {"q": None}),
        ("SELECT 1 as a, a + 1 as b FROM 't'", {"a": 1, "b": 2}),  # a field sees the ones before it
        (
            "SELECT abs(-2), 7 div 2 as d, -7 mod 2 as m, 1 / 2 as h FROM 't'",
            {"abs(-2)": 2, "d": 3, "m": -1, "h": 0.5},
        ),
        (
            "SELECT 'a' + 1 as s, \"dq\" as q, true as t, null as n FROM 't'",
            {"s": "a1", "q": "dq", "t": True, "n": None},
        ),
        ("SELECT 1 as x.y.z FROM 't'", {"x": {"y": {"z": 1}}}),
        (
            "SELECT topic(1) as lvl, clientid() as c, payload('x.y') as p FROM 't'",
            {"lvl": "t", "c": "c_steve", "p": 1},
        ),
        (
            "SELECT clientid FROM \"$events/session_subscribed\" WHERE topic =~ 't/#' and qos = 1",
            {"clientid": "c_steve"},
        ),
        ("SELECT qos FROM 't' WHERE qos in (0, 1) and not (qos = 2) and qos <> 2 and qos != 0", {"qos": 1}),
        ("SELECT qos FROM 't' WHERE qos not in (0, 1)", None),
        ("SELECT qos FROM 't' WHERE '1' = qos and qos >= '1' and username = 'steve' or false", {"qos": 1}),
        ("SELECT qos FROM 't' WHERE nothing_here = 1", None),  # undefined compares false
        ("SELECT qos FROM 't' WHERE nothing = nowhere", {"qos": 1}),  # both undefined are equal
        ("SELECT 0x1F as h, 1.5e2 as e FROM 't'", {"h": 31, "e": 150.0}),
    ],
)
def test_select(sql: str, expected: object) -> None:
    assert run(sql) == expected


def test_foreach_with_do_and_incase() -> None:
    sql = """FOREACH payload.sensors as sensor
             DO clientid, upper(sensor.name) as name, sensor.idx as idx
             INCASE sensor.idx >= 1
             FROM "t/#" """
    assert run(sql) == [
        {"clientid": "c_steve", "name": "B", "idx": 1},
        {"clientid": "c_steve", "name": "C", "idx": 2},
    ]


def test_foreach_items_are_named_item_and_carry_the_columns() -> None:
    out = run("FOREACH payload.sensors FROM \"t/#\" WHERE clientid = 'c_steve'")
    assert isinstance(out, list) and [row["item"]["name"] for row in out] == ["a", "b", "c"]
    assert out[0]["clientid"] == "c_steve"
    assert run("FOREACH payload.sensors FROM \"t/#\" WHERE clientid = 'other'") is None
    assert run("FOREACH payload.date FROM 't'") == []  # not an array: no outputs


def test_a_payload_that_is_not_json_fails_the_rule_when_a_path_goes_into_it() -> None:
    columns = {**MESSAGE, "payload": "not json"}
    assert run("SELECT payload FROM 't'", columns) == {"payload": "not json"}
    with pytest.raises(SqlRuntimeError):
        run("SELECT payload.x FROM 't'", columns)


def test_each_message_decodes_its_payload_once() -> None:
    statement = compile_sql("SELECT payload.a as a, payload.b as b FROM 't' WHERE payload.a = 1")
    assert statement.run({"payload": '{"a": 1, "b": 2}'}) == {"a": 1, "b": 2}
    assert statement.sources == ("t",) and not statement.foreach


@pytest.mark.parametrize(
    ("sql", "message", "line", "column"),
    [
        ("SELECT a FROM", "unexpected the end; expected a string", 1, 14),
        ("SELECT a FROM t", "unexpected 't'; expected a string", 1, 15),
        ("SELECT a FROM 't' WHERE @", "unexpected character '@'", 1, 25),
        ("SELECT nofn(1) FROM 't'", "unknown function nofn", 1, 8),
        ("SELECT a\nFROM 't' WHERE a = ", "unexpected the end; expected '(', '+', '-', '['", 2, 20),
        ("SELECT 1 as a[1] FROM 't'", "an alias cannot have an index", 1, 14),
        ("UPDATE t SET a = 1", "unexpected 'UPDATE'", 1, 1),
    ],
)
def test_syntax_errors_say_where_and_what_was_expected(
    sql: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        compile_sql(sql)
    assert message in str(caught.value)
    assert caught.value.line == line
    if column:
        assert caught.value.column == column
