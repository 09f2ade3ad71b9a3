"""What we store: `/privacy` shows a participant their own data."""

from __future__ import annotations

from babel.dates import format_date

from bot.core import menu
from bot.core.messages import Reply
from bot.core.turn import Turn
from bot.i18n import BY_CODE
from storage.identities import count_identities


async def cmd_privacy(turn: Turn) -> list[Reply]:
    """List exactly what is stored about the participant."""
    participant = turn.participant
    assert participant is not None
    t = turn.t
    accepted = participant.privacy_accepted_at
    accepted_on = (
        format_date(accepted.astimezone(turn.settings.tz), format="long", locale=t.locale)
        if accepted
        else "–"
    )
    coach = participant.coach.display_name if participant.coach else "–"
    language = BY_CODE[participant.locale].native_name if participant.locale else "–"
    # TRANSLATORS: the list of stored data. Keep the placeholders in curly brackets.
    text = turn._(
        "This is what we store about you:\n"
        "• Name: {name}\n"
        "• Language: {language}\n"
        "• Connected chats: {chats}\n"
        "• Your coach: {coach}\n"
        "• You agreed on: {date}\n"
        "We also store your appointments and courses. "
        "We do not store your residence status, nationality or birthday.",
        name=t.isolate(participant.display_name),
        language=t.isolate(language),
        chats=await count_identities(turn.session, participant_id=participant.id),
        coach=t.isolate(coach),
        date=t.isolate(accepted_on),
    )
    return [turn.reply(text, menu.menu_button(turn))]
