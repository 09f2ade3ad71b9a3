"""A start that fails clearly: one line naming the setting and the fix, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.web.app import create_app
from storage.db import make_engine, make_sessionmaker

ROOT = Path(__file__).parents[1]
PREFIX = "wegweiser: configuration error: "


def run(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=60,
        input=stdin,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr[-1500:]
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(PREFIX)
    return line.removeprefix(PREFIX)


def test_an_unreachable_database():
    line = one_line(
        run("run", DATABASE_URL="postgresql+asyncpg://wegweiser:secret@127.0.0.1:1/wegweiser")
    )
    assert line.startswith("DATABASE_URL: cannot open the database")
    assert "secret" not in line  # never print the password


def test_a_sqlite_folder_that_cannot_be_written(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):
        pytest.skip("running as root: every folder is writable, so there is nothing to refuse")
    line = one_line(run("run", DATABASE_URL=f"sqlite+aiosqlite:///{locked}/w.db"))
    assert line.startswith("DATABASE_URL: cannot write the SQLite file")


def test_a_missing_folder_for_sqlite(tmp_path):
    line = one_line(run("run", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/no/such/w.db"))
    assert line.startswith("DATABASE_URL: cannot write the SQLite file in")


def test_a_web_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(
            run(
                "run",
                DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/w.db",
                WEB_PORT=str(port),
            )
        )
    assert line == (
        f"WEB_PORT: 127.0.0.1:{port} is in use by another program. "
        "Stop it, or choose another WEB_PORT."
    )


async def test_a_postgresql_schema_that_is_not_migrated(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite migrates itself on start; this is about PostgreSQL")
    admin = make_engine(database_url.rsplit("/", 1)[0] + "/postgres")
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("DROP DATABASE IF EXISTS wegweiser_empty"))
        await connection.execute(text("CREATE DATABASE wegweiser_empty"))
    await admin.dispose()
    empty = database_url.rsplit("/", 1)[0] + "/wegweiser_empty"
    line = one_line(run("run", DATABASE_URL=empty))
    assert line == "DATABASE_URL: the database schema is not up to date. Run: wegweiser db upgrade"


def test_version_and_admin_create_refusals(tmp_path):
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("wegweiser ")
    database = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.db"}
    for args, stdin, message in [
        (["--email", "a@example.org", "--name", "  "], "a long enough password\n", "--name"),
        (["--email", "not-an-email", "--name", "A"], "a long enough password\n", "e-mail"),
        (["--email", "a@example.org", "--name", "A"], "              \n", "only spaces"),
    ]:
        result = run("admin", "create", *args, "--password-stdin", stdin=stdin, **database)
        assert result.returncode == 1 and message in result.stderr, result.stderr


async def test_readyz_checks_the_database_and_the_schema(settings, sessions, router, tmp_path):
    app = create_app(settings, sessions, router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as web:
        ready = await web.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"database": "ok", "schema": "current", "web chat": "ok"}
        assert (await web.get("/healthz")).text == "ok"
    broken = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(settings, make_sessionmaker(broken), router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as web:
        ready = await web.get("/readyz")
    await broken.dispose()
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"


def test_the_demo_checks_its_port_before_it_prints_links(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            "demo", "--port", str(port), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/d.db"
        )
    assert one_line(result).startswith(f"WEB_PORT: 127.0.0.1:{port} is in use")
    assert "start=" not in result.stdout  # no invite link that would lead nowhere
