"""The embedded store: one SQLite database in the data directory.

Changes are recorded on the event loop into a pending batch (a later change of
the same row replaces the earlier one; a row written and deleted before it
reached the disk is never written). A writer thread commits the batch at most
once every ``flush_interval`` (at once when the last commit is longer ago than
that), or as soon as it holds ``batch_size`` changes, then tells the broker on
the loop, which sends the acknowledgements that waited for it.

What a commit guarantees (WAL journal):
- ``synchronous = normal``: a committed transaction survives the process being
  killed; the last transactions may be lost if the machine loses power.
- ``synchronous = full``: it also survives power loss (an fsync per commit).

The database is read whole at start-up. One that cannot be read (corrupt,
truncated, zeroed, or written by a newer BrookMQ) is moved aside to
``<name>.corrupt-<timestamp>`` and the broker starts empty with an alarm. When
a commit fails (disk full, read-only) the batch stays pending and is retried;
an alarm is active until a commit succeeds again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brookmq.core.store import StoreEvents
from brookmq.storage import records as R
from brookmq.storage.tables import TableStore

log = logging.getLogger("brookmq.storage")

# 1: the first schema. 2: adds the dashboard_tokens collection. 3: config_overrides. Versions so far only add
# tables, so one step brings any older database up to date.
SCHEMA_VERSION = 3
_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_RETRY_MAX = 5.0  # seconds between attempts while commits fail

ALARM_CORRUPT = "database_corrupt"
ALARM_UNAVAILABLE = "database_unavailable"
ALARM_WRITE_FAILED = "database_write_failed"


class _Unusable(Exception):
    """The file is a database this version cannot use."""


def _all_tables() -> list[R.Table]:
    return [*R.TABLES, *(R.collection_table(name) for name in R.COLLECTIONS)]


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the schema to ``SCHEMA_VERSION``; each step runs once, in order."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _Unusable(f"schema version {version} is newer than this BrookMQ's ({SCHEMA_VERSION})")
    if version < SCHEMA_VERSION:
        with db:
            for table in _all_tables():
                columns, keys = ", ".join(table.columns), ", ".join(table.columns[: table.key])
                db.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({columns}, PRIMARY KEY ({keys}))")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


class _Batch:
    """Changes not yet committed: the latest row per key (None = delete), whole-client deletes,
    and the callbacks waiting for them."""

    __slots__ = ("callbacks", "clients", "rows")

    def __init__(self) -> None:
        self.rows: dict[tuple[str, R.Row], tuple[R.Table, R.Row, R.Row | None, bool]] = {}
        self.clients: list[str] = []
        self.callbacks: list[Callable[[], None]] = []

    def __bool__(self) -> bool:
        return bool(self.rows or self.clients or self.callbacks)

    def drop_client(self, client_id: str) -> None:
        for ident in [i for i, (t, key, _, _) in self.rows.items() if t.per_client and key[0] == client_id]:
            del self.rows[ident]

    def then(self, later: _Batch) -> _Batch:
        """This batch (which failed to commit) followed by ``later``, as one."""
        for client_id in later.clients:
            self.drop_client(client_id)
        for ident in later.rows:
            self.rows.pop(ident, None)
        self.rows.update(later.rows)
        self.clients.extend(later.clients)
        self.callbacks.extend(later.callbacks)
        return self


class SqliteStore(TableStore):
    def __init__(
        self,
        path: str | Path,
        synchronous: str = "normal",
        flush_interval: float = 0.01,
        batch_size: int = 10_000,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.synchronous = synchronous
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.problems: list[tuple[str, str]] = []  # alarms to raise once attached
        self._loaded: dict[str, list[R.Row]] = {}
        self._db = self._open()
        self._continue_counters()
        self._pending = _Batch()
        self._final = _Batch()  # what close() leaves for the writer to commit last
        self._work = threading.Event()  # there is something to commit
        self._hurry = threading.Event()  # commit now: the batch is full, or closing
        self._closing = False
        self._failing = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------ opening

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(self.path, 0o600)
        except OSError as exc:
            return self._in_memory(f"cannot create {self.path}: {exc.strerror}")
        try:
            return self._connect()
        except (sqlite3.DatabaseError, _Unusable) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and exc.sqlite_errorname not in _CORRUPT:
                return self._in_memory(f"cannot open {self.path}: {exc}")
            moved = self._move_aside()
            message = f"{self.path} could not be used ({exc}); moved to {moved.name}, starting empty"
            log.error("%s", message)
            self.problems.append((ALARM_CORRUPT, message))
            self._loaded = {}
            try:
                return self._connect()
            except (sqlite3.DatabaseError, _Unusable) as again:
                return self._in_memory(f"cannot open {self.path}: {again}")

    def _connect(self, target: str | None = None) -> sqlite3.Connection:
        db = sqlite3.connect(target or self.path, isolation_level=None, check_same_thread=False)
        try:
            if target is None:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute(f"PRAGMA synchronous = {'FULL' if self.synchronous == 'full' else 'NORMAL'}")
                result = db.execute("PRAGMA quick_check").fetchone()[0]
                if result != "ok":
                    raise _Unusable(f"integrity check: {result}")
            _migrate(db)
            self._loaded = {
                t.name: db.execute(
                    f"SELECT * FROM {t.name} ORDER BY {', '.join(t.columns[: t.key])}"
                ).fetchall()
                for t in _all_tables()
            }
        except BaseException:
            db.close()
            raise
        return db

    def _in_memory(self, why: str) -> sqlite3.Connection:
        message = f"{why}; nothing will survive a restart until this is fixed"
        log.error("%s", message)
        self.problems.append((ALARM_UNAVAILABLE, message))
        return self._connect(":memory:")

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        moved = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.rename(f"{moved}{suffix}")
        return moved

    # ------------------------------------------------ rows

    def _rows(self, table: R.Table) -> list[R.Row]:
        return self._loaded.pop(table.name, [])  # read once, at start-up

    def _largest(self, table: R.Table, column: str) -> int:
        index = table.columns.index(column)
        return max((row[index] for row in self._loaded.get(table.name, ())), default=0)

    # The pending batch belongs to the event loop's thread: recording a change takes no lock.
    # The writer thread asks the loop for the batch when it is time to commit (_take).

    def _put(self, table: R.Table, key: R.Row, row: R.Row, fresh: bool = False) -> None:
        self.writes += 1
        ident = (table.name, key)
        rows = self._pending.rows
        earlier = rows.get(ident)
        if earlier is not None:
            fresh = earlier[3]
        rows[ident] = (table, key, row, fresh)
        self._nudge(len(rows))

    def _delete(self, table: R.Table, key: R.Row) -> None:
        self.writes += 1
        ident = (table.name, key)
        rows = self._pending.rows
        earlier = rows.get(ident)
        if earlier is not None and earlier[3]:
            del rows[ident]  # it never reached the disk
            return
        rows[ident] = (table, key, None, False)
        self._nudge(len(rows))

    def _delete_client(self, client_id: str) -> None:
        self.writes += 1
        self._pending.drop_client(client_id)
        self._pending.clients.append(client_id)
        self._work.set()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._pending.callbacks.append(callback)
        self._work.set()

    def _nudge(self, size: int) -> None:
        """Wake the writer for a batch's first change, and hurry it when the batch is full
        (setting an event takes a lock: not for every change)."""
        if size >= self.batch_size:
            self._work.set()
            self._hurry.set()
        elif size == 1:
            self._work.set()

    # ------------------------------------------------ the writer

    def attach(self, events: StoreEvents) -> None:
        super().attach(events)
        self._loop = asyncio.get_running_loop()
        for name, message in self.problems:
            events.store_alarm(name, message, True)
        self._thread = threading.Thread(target=self._write_loop, name="brookmq-store", daemon=True)
        self._thread.start()
        self._work.set()  # what was recorded before (restoring the sessions)

    def _take(self) -> _Batch:
        """The pending batch, swapped for an empty one on the loop's thread."""
        taken: list[_Batch] = []
        swapped = threading.Event()

        def swap() -> None:
            taken.append(self._pending)
            self._pending = _Batch()
            swapped.set()

        self._call(swap)
        while not swapped.wait(0.1):
            if self._closing:
                return _Batch()  # close() takes the last batch itself
        return taken[0]

    def _write_loop(self) -> None:
        retry = 0.0
        last = 0.0  # when the last commit started
        carried = _Batch()  # a batch that failed to commit, to retry ahead of newer changes
        while True:
            self._work.wait()
            wait = last + self.flush_interval - time.monotonic()
            if wait > 0 and not retry:
                self._hurry.wait(wait)  # one commit per flush interval, unless the batch fills
            self._work.clear()
            self._hurry.clear()
            closing = self._closing
            batch = carried.then(self._final if closing else self._take())
            carried = _Batch()
            last = time.monotonic()
            if batch and self._commit(batch):
                retry = 0.0
                if batch.callbacks and self.events is not None:
                    self._call(self.events.committed, batch.callbacks)
            elif batch:
                carried = batch
                if closing:
                    log.error("could not commit %d changes before closing; they are lost", len(batch.rows))
                    return
                retry = min(_RETRY_MAX, retry * 2 or 0.1)
                time.sleep(retry)
                self._work.set()
            if closing:
                return

    def _commit(self, batch: _Batch) -> bool:
        db = self._db
        try:
            db.execute("BEGIN")
            for table in R.CLIENT_TABLES:
                if batch.clients:
                    db.executemany(
                        f"DELETE FROM {table.name} WHERE client_id = ?", [(c,) for c in batch.clients]
                    )
            puts: dict[R.Table, list[R.Row]] = {}
            deletes: dict[R.Table, list[R.Row]] = {}
            for table, key, row, _ in batch.rows.values():
                if row is None:
                    deletes.setdefault(table, []).append(key)
                else:
                    puts.setdefault(table, []).append(row)
            for table, keys in deletes.items():
                where = " AND ".join(f"{c} = ?" for c in table.columns[: table.key])
                db.executemany(f"DELETE FROM {table.name} WHERE {where}", keys)
            for table, rows in puts.items():
                marks = ", ".join("?" * len(table.columns))
                db.executemany(f"INSERT OR REPLACE INTO {table.name} VALUES ({marks})", rows)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if not self._failing:
                self._failing = True
                message = f"cannot write to {self.path}: {exc}; changes are kept in memory and retried"
                log.error("%s", message)
                self._alarm(ALARM_WRITE_FAILED, message, True)
            return False
        if self._failing:
            self._failing = False
            log.warning("writing to %s works again", self.path)
            self._alarm(ALARM_WRITE_FAILED, "", False)
        return True

    def _alarm(self, name: str, message: str, active: bool) -> None:
        if self.events is not None:
            self._call(self.events.store_alarm, name, message, active)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    def close(self) -> None:
        """Commit what is pending, stop the writer and close the database (on the loop's thread)."""
        self._final, self._pending = self._pending, _Batch()
        self._closing = True
        if self._thread is not None:
            self._work.set()
            self._hurry.set()
            self._thread.join()
        elif self._final:
            self._commit(self._final)
        self._db.close()
