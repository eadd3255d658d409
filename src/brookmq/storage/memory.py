"""A store that keeps its rows in memory: nothing survives the process, but
everything survives a broker built anew on the same store (how the scenario
tests restart a broker), and every change "commits" at once."""

from __future__ import annotations

from collections.abc import Callable

from brookmq.storage import records as R
from brookmq.storage.tables import TableStore


class MemoryStore(TableStore):
    def __init__(self) -> None:
        super().__init__()
        self._tables: dict[str, dict[R.Row, R.Row]] = {}

    def _table(self, table: R.Table) -> dict[R.Row, R.Row]:
        return self._tables.setdefault(table.name, {})

    def _rows(self, table: R.Table) -> list[R.Row]:
        rows = self._table(table)
        return [rows[key] for key in sorted(rows)]

    def _largest(self, table: R.Table, column: str) -> int:
        index = table.columns.index(column)
        return max((row[index] for row in self._table(table).values()), default=0)

    def _put(self, table: R.Table, key: R.Row, row: R.Row, fresh: bool = False) -> None:
        self.writes += 1
        self._table(table)[key] = row

    def _delete(self, table: R.Table, key: R.Row) -> None:
        self.writes += 1
        self._table(table).pop(key, None)

    def _delete_client(self, client_id: str) -> None:
        self.writes += 1
        for table in R.CLIENT_TABLES:
            rows = self._table(table)
            for key in [k for k in rows if k[0] == client_id]:
                del rows[key]

    def after_commit(self, callback: Callable[[], None]) -> None:
        callback()  # every change is already "committed"

    def reopen(self) -> MemoryStore:
        """The same rows in a new store, as a restarted broker would find them."""
        again = MemoryStore()
        again._tables = {name: dict(rows) for name, rows in self._tables.items()}
        again._continue_counters()
        return again

    def close(self) -> None:
        pass
