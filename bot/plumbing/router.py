"""Routes one neutral `Incoming` to its feature inside one transaction and returns the replies.

The router is generic: it walks the features' route tables (see `routes.py`), checks who may
use a route, and commits before it hands the replies back to the adapter to send.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import DEFAULT, N_, match_language
from bot.plumbing import menu
from bot.plumbing.errors import STALE_BUTTON, UserError
from bot.plumbing.faults import TurnFailed, database_back, not_arrived
from bot.plumbing.messages import Incoming, Reply
from bot.plumbing.routes import Audience, Feature, Handler, Press, Routes
from bot.plumbing.throttle import BadCodeThrottle, Throttle
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from bot.settings import Settings
from storage.db import connection_lost
from storage.identities import find_identity
from storage.models import ChannelIdentity
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_TEXT = 1000  # longer input is refused with a clear answer, never cut silently
MAX_BUTTON_DATA = 64  # Telegram's limit; longer data is forged
# NUL and other control characters (PostgreSQL refuses NUL in text); newlines and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(incoming: Incoming) -> Incoming:
    """Drop control characters from typed text and button data before anything reads them."""
    text = _CONTROL.sub("", incoming.text) if incoming.text is not None else None
    data = _CONTROL.sub("", incoming.callback) if incoming.callback is not None else None
    return replace(incoming, text=text, callback=data)


class Router:
    """Turns each incoming event into replies; one transaction per event, commit before send.

    `welcome` answers a chat that may not use what it asked for yet (not connected, or
    onboarding unfinished): the onboarding feature shows the step the user is at.
    """

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        features: Sequence[Feature],
        welcome: Handler,
        throttle: BadCodeThrottle | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.routes = Routes(features)
        self.welcome = welcome
        self.throttle = throttle or BadCodeThrottle(Throttle(sessions, clock))
        self.clock = clock

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one event; the transaction is committed before the replies are returned.

        A turn that loses its database connection is tried once more, as soon as the
        database answers again (within `database_outage_seconds`): the channel will not
        deliver the update twice. If it fails again, the user is told what to send again.
        Any other error is raised as `TurnFailed`, without a message that could quote them.
        """
        incoming = clean(incoming)
        voices: list[Voice] = []  # the chat owner's voice, once a try got that far
        for last_try in (False, True):
            try:
                return await self._turn(incoming, voices)
            except Exception as error:
                if not connection_lost(error):
                    raise TurnFailed.of(error) from None
                # The type only: a driver's message may quote the statement's values.
                log.warning(
                    "a %s turn lost its database connection (%s)",
                    incoming.channel,
                    type(error).__name__,
                )
            if last_try or not await database_back(
                self.sessions, self.settings.database_outage_seconds
            ):
                break
        log.warning("a %s update not handled; the user is asked to repeat it", incoming.channel)
        voice = voices[-1] if voices else self._voice(incoming, None, self.clock())
        return [not_arrived(voice, incoming)]

    async def _turn(self, incoming: Incoming, voices: list[Voice]) -> list[Reply]:
        """One try at the event, in one transaction."""
        async with self.sessions() as session:
            identity = await find_identity(
                session, channel=incoming.channel, external_id=incoming.chat_id
            )
            now = self.clock()
            voices.append(self._voice(incoming, identity, now))
            turn = Turn(
                session,
                self.settings,
                incoming,
                identity,
                voices[-1],
                now,
                self.routes,
                self.throttle,
            )
            if identity is not None and identity.blocked_at is not None:
                identity.blocked_at = None  # they write to us, so they unblocked the bot
            try:
                replies = await self._dispatch(turn)
                await session.commit()
            except UserError as error:
                # Render before the rollback: it expires the loaded rows the menu reads.
                replies = [turn.reply(turn._(error.message, **error.params))]
                if error.show_menu and turn.audiences != {Audience.ANYONE}:
                    replies.append(menu.main_menu(turn))
                await session.rollback()
        return replies

    def _voice(self, incoming: Incoming, identity: ChannelIdentity | None, now: datetime) -> Voice:
        """The chat owner's voice; the client's language before anything is stored."""
        tz = self.settings.tz
        client = match_language(incoming.language_code) or DEFAULT
        if identity is not None and identity.staff is not None:
            return Voice.for_staff(identity.staff, tz=tz, now=now)
        if identity is not None and identity.participant is not None:
            return Voice.for_participant(identity.participant, tz=tz, now=now, fallback=client)
        return Voice.for_language(client, tz=tz, now=now)

    async def _dispatch(self, turn: Turn) -> list[Reply]:
        incoming = turn.incoming
        if incoming.text is not None and len(incoming.text) > MAX_TEXT:
            raise UserError(
                N_("This message is too long. Please write at most {limit} characters."),
                limit=MAX_TEXT,
            )
        if incoming.callback is not None:
            return await self._button(turn, incoming.callback)
        name = incoming.command
        if name is not None:
            return await self._command(turn, name)
        if turn.audiences == {Audience.ANYONE}:
            return await self.welcome(turn)
        if incoming.audio is not None and self.routes.audio is not None:
            return await self.routes.audio(turn)
        if incoming.other is not None:
            return menu.not_text(turn)
        awaiting = turn.identity.awaiting if turn.identity else None
        answer = self.routes.parse_answer(awaiting) if awaiting and incoming.text else None
        if answer is not None and answer[0].audience in turn.audiences:
            route, ident = answer
            return await route.handler(turn, ident, incoming.text)
        return menu.not_understood(turn)

    async def _command(self, turn: Turn, name: str) -> list[Reply]:
        command = self.routes.commands.get(name.lstrip("/"))
        if command is None or command.audience not in turn.audiences:
            if turn.audiences == {Audience.ANYONE}:
                return await self.welcome(turn)
            return menu.unknown_command(turn)
        turn.close_question()  # a command ends any open question
        return await command.handler(turn)

    async def _button(self, turn: Turn, data: str) -> list[Reply]:
        parsed = self.routes.parse_button(data) if len(data) <= MAX_BUTTON_DATA else None
        if parsed is None:
            log.info("unknown button data from a %s chat", turn.incoming.channel)
            raise UserError(STALE_BUTTON)
        route = parsed.route if isinstance(parsed, Press) else parsed
        if route.audience not in turn.audiences:
            return await self.welcome(turn)
        if not isinstance(parsed, Press):
            log.info("malformed button data from a %s chat", turn.incoming.channel)
            raise UserError(route.bad_argument or STALE_BUTTON)
        # Buttons leave an open question open: a press in another tab or an old message
        # must not swallow the reason the user is typing.
        return await route.handler(turn, *parsed.args)
