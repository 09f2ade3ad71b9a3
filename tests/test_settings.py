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
        ({"telegram_webhook_url": "https://x.example/hook"}, "TELEGRAM_WEBHOOK_SECRET"),
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


def test_cli_upgrade_and_invite(tmp_path):
    """`wegweiser db upgrade` then `wegweiser invite` against a fresh SQLite file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout
    missing = run("invite", "42")
    assert missing.returncode == 1 and "no active participant with id 42" in missing.stderr
