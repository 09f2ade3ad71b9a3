"""Backing up and restoring the whole database: SQLite's online backup, PostgreSQL's pg_dump.

A backup may be taken while `wegweiser run` is serving and writing: SQLite's backup API
copies one consistent snapshot (WAL mode lets the writers go on), pg_dump reads in one
repeatable-read transaction. A restore goes into a stopped instance's database; it refuses
one that holds tables unless `force` is given.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PG_TOOLS_HINT = "install PostgreSQL's client tools (e.g. apt-get install postgresql-client)"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the user."""


async def backup(database_url: str, target: Path) -> int:
    """Write a backup of the database to `target` (a new file); its size in bytes."""
    if await asyncio.to_thread(target.exists):
        raise BackupError(f"{target} exists already; choose a new file name")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        await asyncio.to_thread(_sqlite_backup, _sqlite_file(url), target)
    else:
        await _pg_tool("pg_dump", url, "--format=custom", "--no-owner", f"--file={target}")
    return (await asyncio.to_thread(target.stat)).st_size


async def restore(database_url: str, source: Path, *, force: bool = False) -> None:
    """Restore the backup in `source` into the database; an empty one unless `force`."""
    if not await asyncio.to_thread(source.is_file):
        raise BackupError(f"{source} is not a file")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        await asyncio.to_thread(_sqlite_restore, source, _sqlite_file(url), force)
        return
    # A readable archive before anything is touched.
    await _pg_tool("pg_restore", url, "--list", str(source), check_only=True)
    if not force and await _pg_has_tables(url):
        raise BackupError(
            f"database {url.database} is not empty; restore into a new database, "
            "or add --force to replace what is in it"
        )
    clean = ["--clean", "--if-exists"] if force else []
    await _pg_tool(
        "pg_restore",
        url,
        "--no-owner",
        "--single-transaction",
        *clean,
        f"--dbname={url.database}",
        str(source),
    )


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL: an in-memory SQLite database has no file to back up")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    """SQLite's online backup API into a new file, renamed into place when complete."""
    if not source.is_file():
        raise BackupError(f"DATABASE_URL: there is no database file {source}")
    partial = target.with_name(target.name + ".partial")
    live = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy)  # one step: one snapshot, while writers go on (WAL)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {error}") from None
    finally:
        live.close()
    partial.rename(target)


def _sqlite_restore(source: Path, target: Path, force: bool) -> None:
    """Copy the backup's pages into the database file (stop the instance first)."""
    try:
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if backup.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{source} is a damaged SQLite database")
            if not _sqlite_tables(backup):
                raise BackupError(f"{source} holds no tables: not a Wegweiser backup")
            live = sqlite3.connect(target, timeout=30)
            try:
                if _sqlite_tables(live) and not force:
                    raise BackupError(
                        f"{target} is not empty; restore into a new file, "
                        "or add --force to replace what is in it"
                    )
                backup.backup(live)
                live.execute("PRAGMA journal_mode=WAL")
            finally:
                live.close()
        finally:
            backup.close()
    except sqlite3.DatabaseError as error:  # e.g. "file is not a database"
        raise BackupError(f"{source}: {error}") from None


def _sqlite_tables(connection: sqlite3.Connection) -> int:
    query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    return int(connection.execute(query).fetchone()[0])


async def _pg_has_tables(url: URL) -> bool:
    import asyncpg

    connection = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=30,
    )
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    return bool(count)


async def _pg_tool(tool: str, url: URL, *args: str, check_only: bool = False) -> str:
    """Run pg_dump or pg_restore with the URL's server and user (the password in the
    environment, not on the command line); one line of its error when it fails."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} is not on PATH; {PG_TOOLS_HINT}, the server's version or newer")
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[name] = str(value)
    process = await asyncio.create_subprocess_exec(
        path,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE if check_only else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        raise BackupError(f"{tool} failed: {lines[0] if lines else process.returncode}")
    return out.decode(errors="replace") if out else ""
