"""Routes one neutral `Incoming` to its flow inside one transaction and returns the replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import appointments, calendar_export, courses, menu, onboarding, privacy
from bot.core.errors import STALE_BUTTON, UserError
from bot.core.messages import Incoming, Reply
from bot.core.throttle import BadCodeThrottle
from bot.core.turn import Turn
from bot.i18n import DEFAULT, N_, match_language, translator
from bot.settings import Settings
from storage.identities import find_identity
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_TEXT = 1000  # longer input is refused with a clear answer, never cut silently

Flow = Callable[[Turn], Awaitable[list[Reply]]]


async def _menu(turn: Turn) -> list[Reply]:
    return [menu.main_menu(turn)]


async def _language(turn: Turn) -> list[Reply]:
    return [onboarding.language_menu(turn)]


async def _help(turn: Turn) -> list[Reply]:
    return menu.cmd_help(turn)


# Commands of a connected participant who has accepted the privacy notice.
COMMANDS: dict[str, Flow] = {
    "/menu": _menu,
    "/appointments": appointments.cmd_appointments,
    "/courses": courses.cmd_courses,
    "/privacy": privacy.cmd_privacy,
}

# Main-menu buttons ("mn:<key>").
MENU_BUTTONS: dict[str, Flow] = {
    "menu": _menu,
    "ap": appointments.cmd_appointments,
    "co": courses.cmd_courses,
    "lang": _language,
    "help": _help,
    "priv": privacy.cmd_privacy,
}


class Router:
    """Turns each incoming event into replies; one transaction per event, commit before send."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        throttle: BadCodeThrottle | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.throttle = throttle or BadCodeThrottle()
        self.clock = clock

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one event; the transaction is committed before the replies are returned."""
        async with self.sessions() as session:
            identity = await find_identity(
                session, channel=incoming.channel, external_id=incoming.chat_id
            )
            participant = identity.participant if identity else None
            code = (
                (participant.locale if participant else None)
                or match_language(incoming.language_code)
                or DEFAULT
            )
            turn = Turn(session, self.settings, incoming, identity, translator(code), self.clock())
            try:
                replies = await self._dispatch(turn)
                await session.commit()
            except UserError as error:
                # Render before the rollback: it expires the loaded rows the menu reads.
                replies = [turn.reply(turn._(error.message, **error.params))]
                if error.show_menu and turn.participant is not None:
                    replies.append(menu.main_menu(turn))
                await session.rollback()
        return replies

    async def _dispatch(self, turn: Turn) -> list[Reply]:
        incoming = turn.incoming
        if incoming.text is not None and len(incoming.text) > MAX_TEXT:
            raise UserError(
                N_("This message is too long. Please write at most {limit} characters."),
                limit=MAX_TEXT,
            )
        if incoming.callback is not None:
            return await self._button(turn, incoming.callback)
        command = incoming.command
        if command == "/start":
            return await onboarding.cmd_start(turn, self.throttle)
        if command == "/help":
            return menu.cmd_help(turn)
        if command == "/language":
            return [onboarding.language_menu(turn)]
        participant = turn.participant
        if participant is None or participant.privacy_accepted_at is None:
            return onboarding.resume(turn)
        awaiting = turn.identity.awaiting if turn.identity else None
        if command is not None and turn.identity is not None:
            turn.identity.awaiting = None  # a command ends any open question
        if command in COMMANDS:
            return await COMMANDS[command](turn)
        if command is not None:
            return menu.unknown_command(turn)
        if incoming.other is not None:
            return menu.not_text(turn)
        if awaiting and awaiting.startswith("ap:reason:") and incoming.text:
            return await appointments.receive_reason(
                turn, awaiting.removeprefix("ap:reason:"), incoming.text
            )
        return menu.not_understood(turn)

    async def _button(self, turn: Turn, data: str) -> list[Reply]:
        prefix, _, rest = data.partition(":")
        if prefix == "lang":
            return await onboarding.cb_language(turn, rest)
        if prefix == "pv":
            answer, _, code = rest.partition(":")
            return await onboarding.cb_privacy(turn, answer, code)
        participant = turn.participant
        if participant is None or participant.privacy_accepted_at is None:
            return onboarding.resume(turn)
        if turn.identity is not None and not data.startswith("ap:s:"):
            turn.identity.awaiting = None  # any button but Skip ends an open question
        if prefix == "mn" and rest in MENU_BUTTONS:
            return await MENU_BUTTONS[rest](turn)
        if prefix == "ap":
            return await self._appointment_button(turn, rest)
        if prefix == "co":
            action, _, course_id = rest.partition(":")
            if action in {"m", "u"}:
                return await courses.cb_mute(turn, course_id, muted=action == "m")
        log.info("unknown button data from a %s chat", turn.incoming.channel)
        raise UserError(STALE_BUTTON)

    async def _appointment_button(self, turn: Turn, rest: str) -> list[Reply]:
        action, _, argument = rest.partition(":")
        if action == "p":
            return await appointments.cmd_appointments(
                turn, int(argument) if argument.isdigit() and len(argument) < 4 else 0
            )
        if action == "c":
            return await appointments.cb_confirm(turn, argument)
        if action == "x":
            return await appointments.cb_decline(turn, argument)
        if action == "s":
            return await appointments.cb_skip_reason(turn, argument)
        if action == "r":
            return await appointments.cb_other_time(turn, argument)
        if action == "d":
            appointment_id, _, day = argument.partition(":")
            return await appointments.cb_toggle_day(turn, appointment_id, day)
        if action == "dd":
            return await appointments.cb_days_done(turn, argument)
        if action == "i":
            return await calendar_export.cb_calendar(turn, argument)
        log.info("unknown appointment button from a %s chat", turn.incoming.channel)
        raise UserError(STALE_BUTTON)
