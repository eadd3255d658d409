"""The SQLite store's own promises: file permissions, a database it cannot use never
stops the broker, a failing disk loses nothing committed and nothing pending."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest
from tests.contract.test_store_contract import Events, message

from brookmq.storage.sqlite import (
    ALARM_CORRUPT,
    ALARM_UNAVAILABLE,
    ALARM_WRITE_FAILED,
    SCHEMA_VERSION,
    SqliteStore,
)


async def committed(store: SqliteStore) -> None:
    done = asyncio.Event()
    store.after_commit(done.set)
    await asyncio.wait_for(done.wait(), 5)


async def open_store(path: Path, **kwargs: object) -> tuple[SqliteStore, Events]:
    store = SqliteStore(path, **kwargs)  # type: ignore[arg-type]
    events = Events()
    store.attach(events)
    return store, events


async def write_retained(path: Path, *topics: str) -> None:
    store, _ = await open_store(path)
    for topic in topics:
        store.save_retained(message(topic, b"payload" * 100, retain=True))
    await committed(store)
    store.close()


async def test_the_data_directory_is_0700_and_the_database_files_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "brookmq.db"
    await write_retained(path, "r")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for name in ("brookmq.db", "brookmq.db-wal", "brookmq.db-shm"):
        file = path.parent / name
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, name


def _zeroed(path: Path) -> None:
    path.write_bytes(b"\x00" * path.stat().st_size)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 200)


def _newer(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")


@pytest.mark.parametrize("damage", [_zeroed, _truncated, _garbage, _newer], ids=lambda f: f.__name__[1:])
async def test_a_database_it_cannot_use_is_moved_aside_with_an_alarm_and_it_starts_empty(
    tmp_path: Path, damage
) -> None:
    path = tmp_path / "brookmq.db"
    await write_retained(path, *(f"r/{i}" for i in range(200)))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)  # checkpointed at close
    damage(path)
    store, events = await open_store(path)
    assert (ALARM_CORRUPT, True) in events.alarms
    assert store.load_retained() == []
    moved = [m for m in tmp_path.glob("brookmq.db.corrupt-*") if m.name[-1].isdigit()]  # not its -wal/-shm
    assert len(moved) == 1 and moved[0].stat().st_size > 0
    store.save_retained(message("fresh", b"x", retain=True))  # and it works
    await committed(store)
    store.close()
    again, events = await open_store(path)
    assert [m.topic for m in again.load_retained()] == ["fresh"]
    assert events.alarms == []
    again.close()


async def test_a_database_that_cannot_be_created_leaves_the_broker_running_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    store, events = await open_store(blocker / "brookmq.db")
    assert (ALARM_UNAVAILABLE, True) in events.alarms
    store.save_retained(message("r", b"x", retain=True))
    await committed(store)  # commits still complete, to memory
    store.close()


async def test_a_full_disk_raises_an_alarm_keeps_the_changes_and_acks_and_retries(tmp_path: Path) -> None:
    path = tmp_path / "brookmq.db"
    store, events = await open_store(path)
    store.save_retained(message("before", b"x", retain=True))
    await committed(store)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
    store.save_retained(message("during", b"y" * 100_000, retain=True))
    acked = asyncio.Event()
    store.after_commit(acked.set)
    for _ in range(100):
        await asyncio.sleep(0.02)
        if (ALARM_WRITE_FAILED, True) in events.alarms:
            break
    assert (ALARM_WRITE_FAILED, True) in events.alarms
    assert not acked.is_set()  # nothing is acknowledged that is not on disk
    store._db.execute("PRAGMA max_page_count = 1073741823")  # space again
    await asyncio.wait_for(acked.wait(), 5)
    assert events.alarms[-1] == (ALARM_WRITE_FAILED, False)
    store.close()
    again, _ = await open_store(path)
    assert sorted(m.topic for m in again.load_retained()) == ["before", "during"]
    again.close()


async def test_changes_are_committed_in_groups(tmp_path: Path) -> None:
    store, events = await open_store(tmp_path / "brookmq.db", flush_interval=0.05)
    waiters = []
    for i in range(1000):
        store.save_retained(message(f"r/{i}", b"x", retain=True))
        done = asyncio.Event()
        store.after_commit(done.set)
        waiters.append(done.wait())
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert events.commits <= 3
    store.close()


async def test_a_full_batch_commits_without_waiting_for_the_interval(tmp_path: Path) -> None:
    store, _ = await open_store(tmp_path / "brookmq.db", flush_interval=30, batch_size=10)
    store.save_retained(message("first", b"x", retain=True))
    await committed(store)  # after an idle spell the first commit is at once; the next is 30 s away
    for i in range(10):
        store.save_retained(message(f"r/{i}", b"x", retain=True))
    await asyncio.wait_for(committed(store), 5)  # ... unless the batch fills
    store.close()


async def test_a_version_1_database_is_brought_up_to_date_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "brookmq.db"
    await write_retained(path, "kept")
    with sqlite3.connect(path) as db:  # what session 2's BrookMQ wrote: no dashboard_tokens table
        db.execute("DROP TABLE c_dashboard_tokens")
        db.execute("PRAGMA user_version = 1")
    store, events = await open_store(path)
    assert events.alarms == []
    assert [m.topic for m in store.load_retained()] == ["kept"]
    store.collection("dashboard_tokens").put("t", {"username": "admin", "exp": 1.0})
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM c_dashboard_tokens").fetchone()[0] == 1
