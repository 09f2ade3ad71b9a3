"""What we store: `/privacy` shows a participant their own data."""

from __future__ import annotations

from babel.dates import format_date

from bot.i18n import BY_CODE, N_
from bot.plumbing import menu
from bot.plumbing.messages import Reply
from bot.plumbing.routes import ButtonRoute, Command, Feature, MenuEntry
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage.identities import count_identities
from storage.models import Participant


def render_privacy(voice: Voice, participant: Participant, chats: int) -> Reply:
    """Exactly what is stored about the participant, in their language."""
    accepted = participant.privacy_accepted_at
    accepted_on = (
        format_date(accepted.astimezone(voice.tz), format="long", locale=voice.locale)
        if accepted
        else "–"
    )
    coach = participant.coach.display_name if participant.coach else "–"
    language = BY_CODE[participant.locale].native_name if participant.locale else "–"
    # TRANSLATORS: the list of stored data. Keep the placeholders in curly brackets.
    text = voice._(
        "This is what we store about you:\n"
        "• Name: {name}\n"
        "• Language: {language}\n"
        "• Connected chats: {chats}\n"
        "• Your coach: {coach}\n"
        "• You agreed on: {date}\n"
        "We also store your appointments and courses. "
        "We do not store your residence status, nationality or birthday.",
        name=voice.isolate(participant.display_name),
        language=voice.isolate(language),
        chats=chats,
        coach=voice.isolate(coach),
        date=voice.isolate(accepted_on),
    )
    return voice.reply(text, menu.menu_button(voice))


async def cmd_privacy(turn: Turn) -> list[Reply]:
    """/privacy and the menu's "My data" button."""
    participant = turn.participant
    assert participant is not None
    chats = await count_identities(turn.session, participant_id=participant.id)
    return [render_privacy(turn.voice, participant, chats)]


FEATURE = Feature(
    name="privacy",
    commands=(Command("privacy", N_("What we store about you"), cmd_privacy, rank=90),),
    buttons=(ButtonRoute("mn:priv", cmd_privacy),),
    menu=(MenuEntry(N_("🔒 My data"), "mn:priv", row=2),),
)
