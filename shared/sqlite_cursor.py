"""One trip to aiosqlite's thread per SQLite statement.

SQLAlchemy's aiosqlite adapter sends each step of a statement to aiosqlite's worker thread
on its own: create the cursor, execute, fetch the rows, close the cursor — four round trips
between the event loop and the thread for a SELECT or `RETURNING`, three for a plain write.
Each trip waits for the event loop to come back to the caller, behind every other ready
task; on the one pooled connection of a service (`shared.db`) that wait is spent holding the
connection, and at 20 requests at once it was most of an amendment's time (docs/BENCHMARKS.md,
"Intake amendments under load").

`OneTripCursor` does the four steps in one function run on aiosqlite's thread (the same
sqlite3 calls aiosqlite would make, in the same order, on the same thread) and keeps the
rows, the description, the row count and the last row id it read there. Server-side cursors
(`stream()`) keep SQLAlchemy's own, row by row, class.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


def _run(
    connection: Any, operation: str, parameters: Any, many: bool
) -> tuple[Any, int, int | None, list[Any]]:
    """On aiosqlite's thread: the statement's description, row count, last row id and rows."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose `execute` is one round trip to aiosqlite's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # No cursor is opened here: `_run` opens and closes one on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            raw = self._connection._conn
            found = await self._connection._execute(_run, raw, operation, parameters, many)
        self._description, self._rowcount, self._lastrowid, rows = found
        self._rows = collections.deque(rows)

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter with `OneTripCursor` for its cursors, and
    no trip for a rollback with no transaction open (a session that only read: sqlite3
    opens a transaction only before a write)."""

    __slots__ = ()
    _cursor_cls = OneTripCursor

    def rollback(self) -> None:
        try:
            # Read while no statement of this connection is running: SQLAlchemy has awaited
            # each of them, and the pool lends the connection to one session at a time.
            idle = not self._connection._conn.in_transaction
        except Exception:
            idle = False  # closed or broken: let the driver say so
        if not idle:
            super().rollback()


def adopt(dbapi_connection: Any) -> None:
    """Make a freshly connected aiosqlite adapter use one trip per statement (the classes
    differ only by the cursor class, so the instance's class can be switched)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneTripConnection
