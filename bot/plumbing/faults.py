"""Faults of a turn: a lost database connection (wait for the database, then tell the user
exactly what to send again: Telegram and Signal do not deliver it twice), and errors that
are passed on without their message, which may quote what the user typed."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import N_
from bot.plumbing.messages import Incoming, Reply
from bot.plumbing.voice import Voice

log = logging.getLogger(__name__)

PROBE_EVERY = 0.25  # seconds between two looks at a database that is away
PROBE_TIMEOUT = 2.0  # one look never hangs longer (a host that drops packets)
QUOTED = 300  # characters of the lost text quoted back; the rest is "…"

# TRANSLATORS: a participant's message was lost by a fault of the bot's server (its database
# was away). {text} is what they typed, shown on its own line so they can send it again.
TEXT_LOST = N_(
    "Because of a fault on our side, your message did not reach us. "
    "Please send it again in a minute:\n{text}"
)
# TRANSLATORS: a participant pressed a button while the bot's server had a fault; nothing
# was done.
PRESS_LOST = N_(
    "Because of a fault on our side, your button press did not reach us. "
    "Please press the button again in a minute."
)
# TRANSLATORS: a participant opened their invite link (or sent its code) while the bot's
# server had a fault; the link still works.
INVITE_LOST = N_(
    "Because of a fault on our side, your invite link did not work yet. "
    "Please open it again in a minute."
)
# TRANSLATORS: a photo, sticker or file arrived while the bot's server had a fault.
OTHER_LOST = N_("Sorry, something went wrong on our side. Please try again in a minute.")


class TurnFailed(Exception):
    """An unexpected error of a turn, passed on with its traceback but not its message.

    A database's message may quote a value the user typed (PostgreSQL's "invalid input
    syntax for type integer: ..." or a unique key's DETAIL), and so may a Python error;
    whoever logs this logs the error's type and SQLSTATE only.
    """

    @classmethod
    def of(cls, error: BaseException) -> TurnFailed:
        """The stand-in for `error`: its type, SQLSTATE and traceback."""
        kind = type(error)
        code = getattr(error, "sqlstate", None) or getattr(
            getattr(error, "orig", None), "sqlstate", None
        )
        name = f"{kind.__module__}.{kind.__qualname__}"
        failed = cls(f"{name} (SQLSTATE {code})" if code else name)
        return failed.with_traceback(error.__traceback__)


async def database_back(sessions: async_sessionmaker[AsyncSession], within: float) -> bool:
    """Wait up to `within` seconds until the database answers on a new connection."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT), sessions() as session:
                await session.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means "not back yet"
            pass
        if loop.time() + PROBE_EVERY >= deadline:
            return False
        await asyncio.sleep(PROBE_EVERY)


def not_arrived(voice: Voice, incoming: Incoming) -> Reply:
    """What to tell a user whose update could not be handled: what exactly to repeat."""
    voice = voice.on(incoming.channel)
    if incoming.callback is not None:
        return voice.reply(voice._(PRESS_LOST))
    if incoming.command == "/start" and incoming.argument:
        return voice.reply(voice._(INVITE_LOST))  # never echo an invite code
    if incoming.text:
        quoted = incoming.text if len(incoming.text) <= QUOTED else incoming.text[:QUOTED] + "…"
        return voice.reply(voice._(TEXT_LOST, text=voice.isolate(quoted)))
    return voice.reply(voice._(OTHER_LOST))
