"""Engine, sessions and schema upgrades."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage.sqlite_driver import OneTripSqlite

MIGRATIONS = Path(__file__).parent / "migrations"
# Up to 32 updates run at once. The pool hands out the connection used last, so a few stay
# warm (on SQLite each connection has a thread that must wake; LIFO keeps the rest asleep),
# and it keeps 15, so peaks do not open and close connections all the time
# (bench.sqlite_trips). hide_parameters: an error never prints a query's values (names, texts).
_POOL: dict[str, Any] = {
    "pool_use_lifo": True,
    "pool_size": 15,
    "max_overflow": 5,
    "hide_parameters": True,
}


def make_engine(database_url: str) -> AsyncEngine:
    """Create the async engine; SQLite gets foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        # Every Session ends its transaction itself (commit, rollback or close), so the
        # pool's extra ROLLBACK on return is a wasted round trip to SQLite's thread.
        engine = create_async_engine(
            database_url,
            module=OneTripSqlite(),  # one trip to aiosqlite's thread per statement
            connect_args={"timeout": 30},
            pool_reset_on_return=None,
            # SQLAlchemy 2.1's default for a database file; 2.0's aiosqlite had no pool.
            poolclass=AsyncAdaptedQueuePool,
            **_POOL,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL cannot corrupt the database; a power cut may lose the last
            # commits, a crash of the process loses nothing. Commits stop waiting for fsync.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_async_engine(database_url, **_POOL)
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled PostgreSQL connection the server has closed, before anyone uses it.

    A restarted or killed server closes its end; asyncpg sees that on the event loop while
    the connection sits in the pool, so the check costs no round trip. SQLAlchemy's
    pool_pre_ping asked the server instead (BEGIN, a ping, ROLLBACK: three round trips
    before every /help, as many as the turn itself). DisconnectionError makes the pool
    open a new connection.
    """
    is_closed = getattr(dbapi_connection.driver_connection, "is_closed", None)  # asyncpg's
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this connection")


# SQLite has no connection to lose, but these pass: worth one more try on a new connection.
_SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk I/O error",
)
# asyncpg's connect errors arrive as they are, not wrapped by SQLAlchemy.
_CONNECT_ERRORS = (
    ConnectionError,  # refused, reset, broken pipe
    TimeoutError,
    DisconnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # the server is starting or shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)


def connection_lost(error: BaseException) -> bool:
    """Whether `error` says the database was unreachable or dropped the connection, so the
    same work may succeed on a new connection (not that the database refused a statement).

    Errors on an open connection arrive as SQLAlchemy's, marked `connection_invalidated`;
    a failed connect raises the driver's own error, or asyncio's plain OSError ("Multiple
    exceptions") when every address of the host refused.
    """
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, InterfaceError):
            return True
        return isinstance(error, OperationalError) and str(error.orig).startswith(
            _SQLITE_TRANSIENT
        )
    return isinstance(error, _CONNECT_ERRORS) or type(error) is OSError


def dialect_insert(session: AsyncSession) -> Callable[..., Any]:
    """The `insert()` of the session's database, which has `on_conflict_do_*`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


async def begin_writing(session: AsyncSession) -> None:
    """Make the session's new transaction a writer from its first statement.

    On SQLite a transaction that has read cannot become a writer once another connection
    has committed since that read: SQLite answers "database is locked" at once
    (SQLITE_BUSY_SNAPSHOT; waiting cannot help, the snapshot is stale). A savepoint
    (`begin_nested`) opens such a reading transaction. BEGIN IMMEDIATE takes the write lock
    now, waiting out other writers for the busy timeout, so every later read sees the
    latest data and every write goes through. PostgreSQL locks rows as it writes: nothing
    to do there. Call it before anything else runs in the session.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def at_head(connection: Connection) -> bool:
    """True if the database is at the newest revision already."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic on the given engine.

    SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy of a
    parent table would cascade-delete its children, so they are off while it migrates and
    checked afterwards.
    """
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as connection:
        if revision == "head" and await connection.run_sync(at_head):
            return  # nothing to do: a start with a current schema stays cheap
        if sqlite:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            await connection.run_sync(_upgrade, revision)
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
            await connection.commit()
        except BaseException:
            await connection.rollback()
            raise
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
