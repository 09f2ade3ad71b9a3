"""Configuration: defaults, validation, and one clear line per wrong variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import ConfigError, load_settings


def test_defaults_follow_the_design():
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./wegweiser.db"
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8080)
    assert settings.timezone == "Europe/Berlin" and str(settings.tz) == "Europe/Berlin"
    assert settings.telegram_bot_token is None and not settings.webhook_mode


def test_plain_postgres_urls_get_the_async_driver():
    settings = load_settings(_env_file=None, database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"web_port": "eighty"}, "WEB_PORT"),
        ({"web_port": 70000}, "WEB_PORT"),
        ({"timezone": "Mars/Olympus"}, "TIMEZONE"),
        ({"database_url": "mysql://x"}, "DATABASE_URL"),
        ({"telegram_bot_token": "changeme"}, "TELEGRAM_BOT_TOKEN"),
        ({"telegram_webhook_secret": "short"}, "TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_wrong_values_name_the_variable(overrides, variable):
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None, **overrides)
    assert str(error.value).startswith(f"{variable}: ")
    assert "\n" not in str(error.value)


def test_cli_prints_one_line_not_a_traceback(tmp_path):
    env = {
        **os.environ,
        "WEB_PORT": "not-a-port",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "wegweiser: configuration error: WEB_PORT: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]
    assert "Traceback" not in result.stderr


def test_cli_upgrade_and_invite(tmp_path, monkeypatch, capsys):
    """`wegweiser db upgrade`, `admin create`, `invite` and `admin link-chat` on a fresh SQLite
    file: each printed link carries a token whose hash is stored as an open invite.

    The commands run in this process through `bot.cli.main` (the console script's entry
    point); the test above covers the interpreter start in a subprocess.
    """
    import hashlib
    import io
    import sqlite3
    from types import SimpleNamespace

    from bot.cli import main

    db = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str = "") -> SimpleNamespace:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout
    missing = run("invite", "42")
    assert missing.returncode == 1 and "no active participant with id 42" in missing.stderr

    created = run(
        "admin",
        "create",
        "--email",
        "Coach@Example.org",
        "--name",
        "Miriam",
        "--role",
        "coach",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO participants (display_name, coach_id, status, bilingual, created_at)"
            " VALUES ('Amina', 1, 'active', 0, '2026-11-25 10:00:00')"
        )
    invited = run("invite", "1")
    assert invited.returncode == 0, invited.stderr
    telegram_link, web_link, valid = invited.stdout.splitlines()
    token = telegram_link.rsplit("?start=", 1)[1]
    assert web_link.endswith(f"/chat?start={token}") and valid.startswith("valid until ")
    linked = run("admin", "link-chat", "--email", "coach@example.org")
    assert linked.returncode == 0, linked.stderr
    staff_token = linked.stdout.splitlines()[0].rsplit("?start=", 1)[1]
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT token_hash, participant_id, staff_id, used_at FROM invites ORDER BY id"
        ).fetchall()
    assert rows == [
        (hashlib.sha256(token.encode()).hexdigest(), 1, None, None),
        (hashlib.sha256(staff_token.encode()).hexdigest(), None, 1, None),
    ]
    unknown = run("admin", "link-chat", "--email", "nobody@example.org")
    assert unknown.returncode == 1 and "no active staff user" in unknown.stderr
