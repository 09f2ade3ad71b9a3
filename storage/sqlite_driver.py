"""SQLite for the async engine with one trip to aiosqlite's thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips for one SELECT (open a cursor, execute,
fetch, close) and one more for a COMMIT that has nothing to commit. Each trip wakes the
connection's thread, which then fights the event loop for the GIL: on a busy loop that
cost a /help turn more CPU than all of its other work together (bench/dispatch.py).

Here a statement runs whole on the connection's thread (cursor, execute, fetch every row,
close) and comes back in one trip, with what SQLAlchemy reads of the cursor afterwards.
The thread also reports whether SQLite has a transaction open, so COMMIT and ROLLBACK of a
turn that only read skip their trip: sqlite3 itself does nothing for them then.

Used through `make_engine(..., module=OneTripSqlite())`; SQLAlchemy's dialect is unchanged.
Server-side cursors (`stream()`) keep SQLAlchemy's own cursor.

It leans on private parts of aiosqlite (`Connection._execute`, `_conn`) and of SQLAlchemy's
adapter (2.0 and 2.1; pyproject.toml bounds both). Where aiosqlite lacks them, the module
warns once and hands out SQLAlchemy's own connections: slower, the same results.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite
import sqlalchemy
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

try:
    from sqlalchemy.util.concurrency import await_  # SQLAlchemy 2.1
except ImportError:  # 2.0 calls it await_only
    from sqlalchemy.util.concurrency import await_only as await_

log = logging.getLogger(__name__)

# What one trip brings back: description, rows, rowcount, lastrowid, in a transaction.
_Outcome = tuple[Any, list[Any], int, int | None, bool]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the whole statement, every row, and the cursor closed."""
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
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


class OneTripCursor:
    """A DBAPI cursor whose statements each take one trip to the connection's thread."""

    server_side = False

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        self._adapt_connection = adapt_connection
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        adapt = self._adapt_connection
        connection: Any = adapt._connection  # aiosqlite.Connection
        try:
            # aiosqlite's own cursor sends its calls through _execute the same way.
            outcome: _Outcome = await_(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            adapt.in_transaction = True  # unknown after a failure: let COMMIT/ROLLBACK run
            adapt._handle_exception(error)
        self.description, rows, self.rowcount, self.lastrowid, adapt.in_transaction = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: str, parameters: Any = None) -> None:
        """Run one statement and keep its rows."""
        self._trip(operation, parameters, False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        """Run one statement for each set of parameters."""
        self._trip(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's hook to close the cursor early: it was closed on the thread already."""

    def close(self) -> None:
        """Forget rows not fetched."""
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        """Not used by SQLite."""

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` rows."""
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> list[Any]:
        """Every row left."""
        rows = list(self._rows)
        self._rows.clear()
        return rows


class _StreamingCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """SQLAlchemy's server-side cursor; what it does to the transaction is not tracked."""

    __slots__ = ()

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        adapt_connection.in_transaction = True
        super().__init__(adapt_connection)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with one-trip cursors and no empty COMMIT."""

    __slots__ = ("in_transaction",)

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.in_transaction = True  # unknown until the first statement tells

    def cursor(self, server_side: bool = False) -> Any:
        """A one-trip cursor, or SQLAlchemy's server-side one for `stream()`."""
        return _StreamingCursor(self) if server_side else OneTripCursor(self)

    def commit(self) -> None:
        """COMMIT, unless SQLite said after the last statement that nothing is open."""
        if self.in_transaction:
            super().commit()
            self.in_transaction = False

    def rollback(self) -> None:
        """ROLLBACK, unless nothing is open."""
        if self.in_transaction:
            super().rollback()
            self.in_transaction = False


class OneTripSqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for `create_async_engine(..., module=...)`: aiosqlite, one trip each."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.one_trip = _has_private_api()

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        """Open a connection as SQLAlchemy's adapter does, wrapped in ours if we can."""
        plain = super().connect(*arg, **kw)
        if not self.one_trip:
            return plain
        return OneTripConnection(self, plain._connection)


def _has_private_api() -> bool:
    """True if aiosqlite and SQLAlchemy's adapter have what the one-trip cursor uses; else
    False, with one warning: SQLAlchemy's own aiosqlite connections are used then."""
    missing = [
        name
        for owner, name in (
            (aiosqlite.Connection, "_execute"),
            (aiosqlite.Connection, "_conn"),
            (AsyncAdapt_aiosqlite_connection, "_handle_exception"),
        )
        if not hasattr(owner, name)
    ]
    if missing:
        log.warning(
            "aiosqlite %s or SQLAlchemy %s lacks %s: SQLite runs on SQLAlchemy's own "
            "aiosqlite adapter (several trips to the connection's thread per statement)",
            aiosqlite.__version__,
            sqlalchemy.__version__,
            ", ".join(missing),
        )
    return not missing
