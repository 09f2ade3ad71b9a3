"""No log record carries what a user typed, on either database: when a turn fails, neither
the query's parameters nor the database's own message (PostgreSQL quotes the value: 'invalid
input syntax for type integer: "…"') reach a log, traceback included."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text

from bot.channels.telegram import SOMETHING_WRONG
from bot.features import FEATURES
from bot.logs import formatter
from bot.plumbing.messages import Reply
from bot.plumbing.routes import Audience, Command, Feature, Routes
from bot.plumbing.turn import Turn
from bot.settings import ConfigError, load_settings
from tests.helpers import printed, tr

CANARY = "canary-5b1e77-Amina-Unna"


async def cmd_fail(turn: Turn) -> list[Reply]:
    """A turn whose statement fails on the typed value, as a too long or malformed value
    does (SQLite cannot be made to refuse a value, so it fails on a missing table)."""
    if turn.session.get_bind().dialect.name == "postgresql":
        statement = text("SELECT CAST(:typed AS INTEGER)")
    else:
        statement = text("SELECT :typed FROM no_such_table")
    await turn.session.execute(statement, {"typed": turn.incoming.argument})
    return []


FAILING = Feature(
    name="failing",
    commands=(Command("fail", "Fails", cmd_fail, audience=Audience.ANYONE, listed=False),),
)


async def test_a_failing_turn_logs_no_value_the_user_typed(telegram, caplog):
    caplog.set_level(logging.INFO)
    telegram.router.routes = Routes([*FEATURES, FAILING])
    chat = telegram.fake.user(chat_id=7701, language_code="fr")
    [answer] = await chat.exchange(f"/fail {CANARY}")
    assert answer["text"] == tr("fr", SOMETHING_WRONG)
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.exc_info is not None  # the failure is logged, with where it happened
    assert "cmd_fail" in printed(error)
    leaks = [r.name for r in caplog.records if CANARY in printed(r)]
    assert leaks == []


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_one_line_per_event_in_either_format_and_no_user_text(telegram, caplog, log_format):
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))  # what LOG_FORMAT configures
    logging.getLogger().addHandler(handler)
    try:
        telegram.router.routes = Routes([*FEATURES, FAILING])
        chat = telegram.fake.user(chat_id=7702, language_code="fr")
        await chat.exchange(f"/fail {CANARY}")  # an error with a traceback
        await chat.exchange(CANARY)  # a stranger's text
        await chat.press_and_wait(f"xx:{CANARY}", force=True)  # unknown button data
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(caplog.records) >= 2  # one line per event
    assert CANARY not in stream.getvalue()
    if log_format == "json":
        events = [json.loads(line) for line in lines]
        assert {"time", "level", "logger", "message"} <= set(events[0])
        [error] = [event for event in events if event["level"] == "ERROR"]
    else:
        [error] = [{"traceback": line} for line in lines if " ERROR " in line]
    assert "cmd_fail" in error["traceback"]  # where it failed, on the event's own line


def test_an_unknown_log_format_is_one_line():
    with pytest.raises(ConfigError, match=r"^LOG_FORMAT: "):
        load_settings(_env_file=None, log_format="xml")
