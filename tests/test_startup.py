"""A start that fails clearly: one line naming the setting and the fix, no traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.app import link_bot_username, with_bot_username
from bot.settings import ConfigError
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


async def test_a_bot_username_that_is_not_the_tokens_bot(tmp_path, fake_telegram):
    """`wegweiser run` asks Telegram whose token it has before anything starts: a
    TELEGRAM_BOT_USERNAME naming another bot would print letters that lead there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.db",
        "WEB_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_API_URL": fake_telegram.base_url,
        "TELEGRAM_BOT_USERNAME": "WegweiserBot",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "run"),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), 60)  # the fake answers meanwhile
    result = subprocess.CompletedProcess([], process.returncode or 0, "", err.decode())
    assert one_line(result) == (
        "TELEGRAM_BOT_USERNAME: WegweiserBot is not the bot of TELEGRAM_BOT_TOKEN, which is "
        "@WegweiserTestBot; set TELEGRAM_BOT_USERNAME=WegweiserTestBot or leave it empty"
    )
    assert fake_telegram.count("getMe") == 1
    assert fake_telegram.count("getUpdates") == fake_telegram.count("setMyCommands") == 0


async def test_the_bot_username_comes_from_telegram(settings, sessions, fake_telegram):
    """The start stores what getMe says; the CLI's links (another process) read it there."""
    bot = {"telegram_bot_token": fake_telegram.token, "telegram_api_url": fake_telegram.base_url}
    configured = settings.model_copy(update={**bot, "telegram_bot_username": "wegweisertestbot"})
    started = await with_bot_username(configured, sessions)  # Telegram ignores the case
    assert started.telegram_bot_username == "WegweiserTestBot"
    assert started.telegram_link_username == "WegweiserTestBot"
    fake_telegram.bot_username = "RenamedBot"  # a new name: the next start stores it
    unset = settings.model_copy(update=bot)
    assert (await with_bot_username(unset, sessions)).telegram_bot_username == "RenamedBot"
    assert await link_bot_username(unset, sessions) == "RenamedBot"
    other_bot = settings.model_copy(update={"telegram_bot_token": "654321:OTHER-TOKEN"})
    with pytest.raises(ConfigError, match=r"^TELEGRAM_BOT_USERNAME: the bot's name is not known"):
        await link_bot_username(other_bot, sessions)  # never the name of the old token's bot
    wrong = settings.model_copy(update={**bot, "telegram_bot_token": "123456:WRONG-TOKEN"})
    with pytest.raises(ConfigError) as refused:
        await with_bot_username(wrong, sessions)
    assert str(refused.value) == (
        "TELEGRAM_BOT_TOKEN: Telegram does not accept this token; "
        "copy it again from @BotFather (/mybots, API Token)"
    )
    assert await with_bot_username(settings, sessions) is settings  # no token: nothing to ask


def test_reminder_offsets_that_are_not_json():
    line = one_line(run("db", "upgrade", REMINDER_OFFSETS_BY_KIND="{nursing: 2d}"))
    assert line.startswith("REMINDER_OFFSETS_BY_KIND: not JSON; write it like {")
