"""The conn_congestion alarm lasts at least congestion_sustain, however often a slow reader's
socket pauses and resumes, and clears once the connection can take data (or is gone)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from brookmq.core.broker import Broker

NAME = "conn_congestion/slow/bob"


def connection() -> SimpleNamespace:
    transport = SimpleNamespace(is_closing=lambda: False)
    return SimpleNamespace(
        client_id="slow",
        username="bob",
        peerhost="10.0.0.1",
        peerport=5555,
        writable=False,
        transport=transport,
    )


async def test_a_young_alarm_is_cleared_once_when_it_has_lasted() -> None:
    broker = Broker()
    broker.congestion_sustain = 0.1
    conn = connection()
    broker.congested(conn, True)
    assert broker.alarms.active[NAME].details == {
        "clientid": "slow",
        "username": "bob",
        "peername": "10.0.0.1:5555",
    }
    for _ in range(50):  # a slow reader: pause, resume, pause, ...
        conn.writable = True
        broker.congested(conn, False)
        broker.congested(conn, True)
    conn.writable = True
    broker.congested(conn, False)
    assert NAME in broker.alarms.active and len(broker._congestion_checks) == 1
    await asyncio.sleep(0.15)
    assert NAME not in broker.alarms.active and not broker._congestion_checks
    assert [a.name for a in broker.alarms.history] == [NAME]


async def test_an_alarm_stays_while_the_connection_is_still_congested() -> None:
    broker = Broker()
    broker.congestion_sustain = 0.05
    conn = connection()
    broker.congested(conn, True)
    broker.congested(conn, False)
    conn.writable = False  # paused again before the check
    await asyncio.sleep(0.1)
    assert NAME in broker.alarms.active
    conn.writable = True
    broker.congested(conn, False)  # old enough now: cleared at once
    assert NAME not in broker.alarms.active
