"""Joining in the chat: the invite link, the language menu and the privacy notice.

Handlers parse, call an action, and render with the turn's voice. A staff invite links a
coach's own chat instead; they get their menu at once (staff accepted the terms at work).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.onboarding.invites import ALREADY_CONNECTED, redeem_invite
from bot.i18n import BY_CODE, LANGUAGES, N_, match_language
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.messages import Button, Reply
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.identities import unbind_identity
from storage.invites import reopen_invite
from storage.models import ChannelIdentity, Participant, StaffUser
from storage.outbox import release_held

log = logging.getLogger(__name__)

NOT_CONNECTED = N_(
    "Welcome to Wegweiser! To use this bot you need your personal link from your coach. "
    "Please open that link. You can also send /start and your code."
)

# TRANSLATORS: privacy notice; plain, short sentences for readers with little schooling.
# Keep the bullet points. "/privacy" and "/delete" are commands and must stay as they are.
# Nothing is deleted by itself: what is stored stays until the person or the staff delete it.
# Voice messages: Telegram keeps its own copy of what went through it; we cannot erase that.
PRIVACY_NOTICE = N_(
    "Before we start, please read this:\n"
    "• We store your first name, your language and this chat. "
    "We need this to send you your appointments.\n"
    "• We also store your answers to appointments, the reasons you give when you cannot "
    "come, and your messages to your coach. We keep them until your data is deleted.\n"
    "• We keep voice messages with your coach like your messages, until your data is "
    "deleted. /delete deletes them too. Telegram may keep its own copy. We cannot delete "
    "that copy.\n"
    "• We do not store your residence status, your nationality or your birthday.\n"
    "• Chats here are not fully private. So we only write when and where, never why.\n"
    "• With /privacy you can see what we store. With /delete you can delete everything "
    "yourself at any time. Or ask your coach to delete it.\n"
    "Do you agree?"
)

TOO_MANY_CODES = N_(
    "Too many wrong codes. Please wait 15 minutes and try again, or ask your coach for a new link."
)

# TRANSLATORS: to a coach (staff) who opened their own link; {name} is the coach's name.
STAFF_LINKED = N_(
    "Hello {name}! This chat is now linked to your staff account. "
    "Notices about your participants will come here."
)


# ---------------------------------------------------------------- actions (no rendering)


async def choose_language(
    session: AsyncSession, *, participant: Participant, code: str, now: datetime
) -> bool:
    """Store a connected participant's language; False if it was that already."""
    if code not in BY_CODE:
        raise UserError(N_("This language is not available. Please choose one from the list."))
    if participant.locale == code:
        return False
    participant.locale = code
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="participant.language",
        object_type="participant",
        object_id=participant.id,
        detail={"locale": code},
    )
    return True


async def choose_staff_language(
    session: AsyncSession, *, staff: StaffUser, code: str, now: datetime
) -> None:
    """Store the language a staff user reads notices in."""
    if code not in BY_CODE:
        raise UserError(N_("This language is not available. Please choose one from the list."))
    if staff.locale != code:
        staff.locale = code
        await audit.record(
            session,
            actor=f"staff:{staff.id}",
            action="staff.language",
            object_type="staff",
            object_id=staff.id,
            detail={"locale": code},
        )


async def set_bilingual(
    session: AsyncSession, *, participant: Participant, on: bool, now: datetime
) -> None:
    """Bilingual mode: every message also in German, so participants learn the words."""
    if participant.bilingual == on:
        raise UserError(
            N_("German is shown already.") if on else N_("German is not shown already."),
            show_menu=False,
        )
    participant.bilingual = on
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="participant.bilingual",
        object_type="participant",
        object_id=participant.id,
        detail={"on": on},
    )


async def accept_privacy(
    session: AsyncSession, *, participant: Participant, code: str, now: datetime
) -> None:
    """Consent given: store the chosen language and the moment of consent."""
    if participant.privacy_accepted_at is not None:
        raise UserError(N_("You have already agreed."))
    participant.locale = code
    participant.privacy_accepted_at = now
    # What was planned for them meanwhile (a new appointment, its reminders) goes now.
    await release_held(session, participant_id=participant.id, now=now)
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="privacy.accepted",
        object_type="participant",
        object_id=participant.id,
    )


async def resume_broadcasts(
    session: AsyncSession, *, participant: Participant, now: datetime
) -> None:
    """/start after /stop: general messages (broadcasts) reach this participant again."""
    participant.broadcasts_stopped_at = None
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="broadcasts.resumed",
        object_type="participant",
        object_id=participant.id,
    )


async def decline_privacy(
    session: AsyncSession, *, identity: ChannelIdentity, now: datetime
) -> None:
    """No consent: unbind this chat and reopen exactly the invite that bound it."""
    participant = identity.participant
    if participant is None or participant.privacy_accepted_at is not None:
        raise UserError(N_("You have already agreed."))
    if identity.invite_id is not None:
        await reopen_invite(session, invite_id=identity.invite_id, now=now)
    await unbind_identity(session, identity_id=identity.id)
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="privacy.declined",
        object_type="participant",
        object_id=participant.id,
    )


# ---------------------------------------------------------------- chat handlers


async def cmd_start(turn: Turn) -> list[Reply]:
    """`/start [token]`: bind the chat with an invite, or carry on where the user is."""
    token = turn.incoming.argument
    if turn.identity is not None:
        if token:
            return [turn.reply(turn._(ALREADY_CONNECTED)), *await resume(turn)]
        participant = turn.participant
        if participant is not None and participant.broadcasts_stopped_at is not None:
            await resume_broadcasts(turn.session, participant=participant, now=turn.now)
            # TRANSLATORS: after /start, for someone who had sent /stop before.
            text = turn._("Welcome back. You get general messages again.")
            return [turn.reply(text), *await resume(turn)]
        return await resume(turn)
    if not token:
        return [turn.reply(turn._(NOT_CONNECTED))]
    throttle = turn.throttle
    key = f"{turn.incoming.channel}:{turn.incoming.chat_id}"
    if not await throttle.allowed(key, within=turn.session):
        log.info("bad-code throttle hit for a %s chat", turn.incoming.channel)
        raise UserError(TOO_MANY_CODES, show_menu=False)
    try:
        # A savepoint: a refused code undoes what redeeming did, but the count below stays.
        async with turn.session.begin_nested():
            identity = await redeem_invite(
                turn.session,
                token=token,
                channel=turn.incoming.channel,
                external_id=turn.incoming.chat_id,
                now=turn.now,
            )
    except UserError as error:
        if error.message == ALREADY_CONNECTED:
            raise
        await throttle.failed(key, within=turn.session)
        return [turn.reply(turn._(error.message, **error.params))]
    turn.identity = identity
    if identity.participant is not None and identity.participant.locale:
        # A second chat of someone who chose a language already: speak it.
        turn.voice = Voice.for_participant(identity.participant, tz=turn.voice.tz, now=turn.now)
    if identity.staff is not None:
        turn.voice = Voice.for_staff(identity.staff, tz=turn.voice.tz, now=turn.now)
        name = turn.voice.isolate(identity.staff.display_name)
        return [turn.reply(turn._(STAFF_LINKED, name=name)), menu.main_menu(turn)]
    return [language_menu(turn, greeting=True)]


async def resume(turn: Turn) -> list[Reply]:
    """Show the step the user is at: language and privacy first, then the main menu."""
    if turn.staff is not None and turn.staff.active:
        return [menu.main_menu(turn)]
    participant = turn.participant
    if participant is None:
        return [turn.reply(turn._(NOT_CONNECTED))]
    if participant.privacy_accepted_at is None:
        return [language_menu(turn, greeting=True)]
    return [menu.main_menu(turn)]


async def cmd_language(turn: Turn) -> list[Reply]:
    """/language and the menu's language button."""
    return [language_menu(turn)]


def language_menu(turn: Turn, *, greeting: bool = False, edit: bool = False) -> Reply:
    """The 14 languages by their native names, two a row; the current one is ticked."""
    current = _current_language(turn)
    buttons = [
        Button(
            ("✓ " if language.code == current else "") + language.native_name,
            f"lang:{language.code}",
        )
        for language in LANGUAGES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    participant = turn.participant
    reads_german = (current or "").startswith("de")
    if participant is not None and participant.privacy_accepted_at and not reads_german:
        if participant.bilingual:
            # TRANSLATORS: button: stop showing the German line under each message.
            rows.append([Button(turn.voice.label("➖ Stop showing German"), "bi:0")])
        else:
            # TRANSLATORS: button: show each message in German too, to learn the words.
            rows.append([Button(turn.voice.label("➕ Also show German (Deutsch)"), "bi:1")])
    if greeting:
        # TRANSLATORS: first message after opening the invite link; keep it short and warm.
        text = turn._(
            "Hello! I am Wegweiser, the bot of your programme. Please choose your language."
        )
    else:
        text = turn._("Please choose your language.")
    return turn.reply(text, rows, edit=edit)


def _current_language(turn: Turn) -> str | None:
    owner = turn.staff or turn.participant
    if owner is not None and owner.locale:
        return owner.locale
    return match_language(turn.incoming.language_code)


async def cb_language(turn: Turn, code: str) -> list[Reply]:
    """A language button: store it (once privacy is accepted) or show the notice in it."""
    turn.voice = Voice.for_language(code, tz=turn.voice.tz, now=turn.now)
    if turn.staff is not None:
        await choose_staff_language(turn.session, staff=turn.staff, code=code, now=turn.now)
        return [turn.reply(turn._("Done. I will write to you in English."), edit=True)]
    participant = turn.participant
    if participant is None:
        return [turn.reply(turn._(NOT_CONNECTED), edit=True)]
    if participant.privacy_accepted_at is None:
        # Nothing is stored before consent: the choice travels in the buttons.
        return [privacy_notice(turn, code)]
    await choose_language(turn.session, participant=participant, code=code, now=turn.now)
    return [
        turn.reply(turn._("Done. I will write to you in English."), edit=True),
        menu.main_menu(turn),
    ]


def privacy_notice(turn: Turn, code: str) -> Reply:
    """The plain-language privacy notice with agree / do not agree."""
    text = turn._(PRIVACY_NOTICE)
    buttons = [
        [Button(turn.voice.label("✅ Yes, I agree"), f"pv:ok:{code}")],
        [Button(turn.voice.label("❌ No"), f"pv:no:{code}")],
    ]
    return turn.reply(text, buttons, edit=True)


async def cb_accept(turn: Turn, code: str) -> list[Reply]:
    """✅ on the privacy notice: store language and consent, show the main menu."""
    turn.voice = Voice.for_language(code, tz=turn.voice.tz, now=turn.now)
    participant = turn.participant
    if participant is None:
        return [turn.reply(turn._(NOT_CONNECTED), edit=True)]
    await accept_privacy(turn.session, participant=participant, code=code, now=turn.now)
    return [
        turn.reply(turn._("Thank you! You are connected now."), edit=True),
        menu.main_menu(turn),
    ]


async def cb_decline(turn: Turn, code: str) -> list[Reply]:
    """❌ on the privacy notice: unbind this chat; its own link works again."""
    turn.voice = Voice.for_language(code, tz=turn.voice.tz, now=turn.now)
    if turn.identity is None or turn.participant is None:
        return [turn.reply(turn._(NOT_CONNECTED), edit=True)]
    await decline_privacy(turn.session, identity=turn.identity, now=turn.now)
    turn.identity = None
    return [
        turn.reply(
            turn._(
                "OK. We did not store anything, and this chat is not connected. "
                "If you change your mind, open your link again. "
                "Your coach can help you without this bot too."
            ),
            edit=True,
        )
    ]


async def cb_bilingual(turn: Turn, on: int) -> list[Reply]:
    """➕ / ➖ German too: switch the bilingual mode and answer in the new way."""
    participant = turn.participant
    assert participant is not None
    await set_bilingual(turn.session, participant=participant, on=bool(on), now=turn.now)
    turn.voice = Voice.for_participant(participant, tz=turn.voice.tz, now=turn.now)
    if on:
        text = turn._("Done. Every message now also comes in German.")
    else:
        text = turn._("Done. Messages now come only in your language.")
    return [turn.reply(text, edit=True), menu.main_menu(turn)]
