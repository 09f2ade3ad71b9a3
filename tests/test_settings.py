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


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"REMINDER_OFFSETS_BY_KIND": "{nursing: 2d}"},
            'REMINDER_OFFSETS_BY_KIND: not JSON; write it like {"nursing": "2d,1d,2h", '
            '"course": "2h"}',
        ),
        (
            {"REMINDER_OFFSETS_BY_KIND": '{"nurse": "2d"}'},
            "REMINDER_OFFSETS_BY_KIND: unknown kind 'nurse'; use one of coaching, language, "
            "school, vocational, participation, nursing, course",
        ),
        (
            {"REMINDER_OFFSETS_BY_KIND": '{"nursing": "2d,90d"}'},
            "REMINDER_OFFSETS_BY_KIND: nursing: '90d' is out of range; use offsets from 1m to 7d",
        ),
        (
            {"REMINDER_OFFSETS": "90d"},
            "REMINDER_OFFSETS: '90d' is out of range; use offsets from 1m to 7d",
        ),
        (
            {"REMINDER_OFFSETS": "0m"},
            "REMINDER_OFFSETS: '0m' is out of range; use offsets from 1m to 7d",
        ),
        (
            {"REMINDER_OFFSETS": "2h,2h"},
            "REMINDER_OFFSETS: '2h' is listed twice; list each offset once",
        ),
        (
            {"REMINDER_OFFSETS": "1h,60m"},
            "REMINDER_OFFSETS: '60m' is the same as '1h'; list each offset once",
        ),
        (
            {"WEB_BASE_URL": "wegweiser.example.org"},
            "WEB_BASE_URL: use the absolute address participants open, "
            "e.g. https://wegweiser.example.org",
        ),
        (
            {"WEB_BASE_URL": "ftp://wegweiser.example.org"},
            "WEB_BASE_URL: use the absolute address participants open, "
            "e.g. https://wegweiser.example.org",
        ),
        (
            {"WEB_HOST": "0.0.0.0"},
            "WEB_BASE_URL: required when WEB_HOST is 0.0.0.0 (not loopback), or invite links "
            "name that address; set it to the address participants open, "
            "e.g. https://wegweiser.example.org",
        ),
        (
            {"TELEGRAM_BOT_USERNAME": "t.me/KreisBot"},
            "TELEGRAM_BOT_USERNAME: not a bot's username; use the name after t.me/, "
            "e.g. KreisHelferBot",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_the_variable_and_the_fix(monkeypatch, env, line):
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # as the operator sets it: through the environment
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert str(error.value) == line


def test_what_the_checks_accept(monkeypatch):
    monkeypatch.setenv("REMINDER_OFFSETS_BY_KIND", '{"nursing": "7d,1d,24h,2h", "course": "2h"}')
    monkeypatch.setenv("WEB_HOST", "0.0.0.0")
    monkeypatch.setenv("WEB_BASE_URL", "https://wegweiser.example.org/")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@KreisHelferBot")
    settings = load_settings(_env_file=None)
    assert [o.label for o in settings.offsets_for("nursing")] == ["7d", "1d", "24h", "2h"]
    assert settings.public_web_url == "https://wegweiser.example.org"
    assert settings.telegram_bot_username == "KreisHelferBot"
    assert settings.telegram_link_username is None  # no token: Telegram is not set up
    for loopback in ("localhost", "127.0.0.2", "::1"):
        local = load_settings(_env_file=None, web_host=loopback, web_base_url="")
        assert local.web_base_url is None


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
    telegram_line, web_link, valid = invited.stdout.splitlines()
    # No token: the letter's Telegram line says so instead of naming somebody else's bot.
    assert telegram_line == (
        "no Telegram link: TELEGRAM_BOT_TOKEN: not set, so Telegram is not set up; "
        "set it to the token from @BotFather"
    )
    token = web_link.rsplit("?start=", 1)[1]
    assert web_link == f"http://127.0.0.1:8080/chat?start={token}"
    assert valid.startswith("valid until ")
    no_telegram = run("admin", "link-chat", "--email", "coach@example.org")
    assert no_telegram.returncode == 2 and no_telegram.stderr.startswith(
        "wegweiser: configuration error: TELEGRAM_BOT_TOKEN: not set"
    )

    # A token, but no start has asked Telegram for the bot's name yet, and none is set.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    unnamed = run("admin", "link-chat", "--email", "coach@example.org")
    assert unnamed.returncode == 2 and unnamed.stderr.strip() == (
        "wegweiser: configuration error: TELEGRAM_BOT_USERNAME: the bot's name is not known "
        "yet; start `wegweiser run` once (it asks Telegram), or set TELEGRAM_BOT_USERNAME"
    )
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "KreisHelferBot")
    linked = run("admin", "link-chat", "--email", "coach@example.org")
    assert linked.returncode == 0, linked.stderr
    staff_link = linked.stdout.splitlines()[0]
    assert staff_link.startswith("https://t.me/KreisHelferBot?start=")
    staff_token = staff_link.rsplit("?start=", 1)[1]
    # What `wegweiser run` stored from getMe for this token's bot wins over the variable.
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO stored_secrets (name, value, created_at)"
            " VALUES ('telegram_username:123456', 'RealKreisBot', '2026-11-25 10:00:00')"
        )
    again = run("invite", "1")
    assert again.returncode == 0, again.stderr
    telegram_link, web_link, _valid = again.stdout.splitlines()
    assert telegram_link == web_link.replace(
        "http://127.0.0.1:8080/chat?start=", "https://t.me/RealKreisBot?start="
    )
    new_token = web_link.rsplit("?start=", 1)[1]
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT token_hash, participant_id, staff_id, revoked_at IS NULL FROM invites"
            " WHERE used_at IS NULL ORDER BY id"
        ).fetchall()

    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    assert rows == [
        (digest(token), 1, None, False),  # the new invite revoked it
        (digest(staff_token), None, 1, True),
        (digest(new_token), 1, None, True),
    ]
    unknown = run("admin", "link-chat", "--email", "nobody@example.org")
    assert unknown.returncode == 1 and "no active staff user" in unknown.stderr

    # With Signal set up, the invite also says what to send to the bot's number.
    monkeypatch.setenv("SIGNAL_RPC_URL", "http://127.0.0.1:8081")
    monkeypatch.setenv("SIGNAL_ACCOUNT", "+4923031234567")
    with_signal = run("invite", "1")
    assert with_signal.returncode == 0, with_signal.stderr
    _telegram, web_link, signal_line, _valid = with_signal.stdout.splitlines()
    signal_token = web_link.rsplit("?start=", 1)[1]
    assert signal_line == f"Signal: send “start {signal_token}” to +4923031234567"
