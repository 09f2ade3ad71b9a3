"""Joining: invite link, language choice and the privacy notice."""

from __future__ import annotations

import logging

from bot.core import menu
from bot.core.errors import STALE_BUTTON, UserError
from bot.core.invites import EXPIRED, redeem_invite
from bot.core.messages import Button, Reply
from bot.core.throttle import BadCodeThrottle
from bot.core.turn import Turn
from bot.i18n import BY_CODE, LANGUAGES, N_, match_language, translator
from storage import audit
from storage.identities import bind_identity, unbind_identity
from storage.invites import latest_used_invite

log = logging.getLogger(__name__)

NOT_CONNECTED = N_(
    "Welcome to Wegweiser! To use this bot you need your personal link from your coach. "
    "Please open that link. You can also send /start and your code."
)

# TRANSLATORS: privacy notice; plain, short sentences for readers with little schooling.
# Keep the bullet points. "/privacy" is a command and must stay as it is.
PRIVACY_NOTICE = N_(
    "Before we start, please read this:\n"
    "• We store your first name, your language and this chat. "
    "We need this to send you your appointments.\n"
    "• We do not store your residence status, your nationality or your birthday.\n"
    "• Chats here are not fully private. So we only write when and where, never why.\n"
    "• With /privacy you can see what we store. Your coach can delete it at any time.\n"
    "Do you agree?"
)

TOO_MANY_CODES = N_(
    "Too many wrong codes. Please wait 15 minutes and try again, or ask your coach for a new link."
)


async def cmd_start(turn: Turn, throttle: BadCodeThrottle) -> list[Reply]:
    """`/start [token]`: bind the chat with an invite, or carry on where the user is."""
    token = turn.incoming.argument
    if turn.identity is not None:
        if token:
            return [
                turn.reply(turn._("This chat is already connected to Wegweiser.")),
                *resume(turn),
            ]
        return resume(turn)
    if not token:
        return [turn.reply(turn._(NOT_CONNECTED))]
    key = f"{turn.incoming.channel}:{turn.incoming.chat_id}"
    if not await throttle.allowed(key):
        log.info("bad-code throttle hit for a %s chat", turn.incoming.channel)
        raise UserError(
            TOO_MANY_CODES,
            show_menu=False,
        )
    try:
        invite = await redeem_invite(turn.session, token=token, now=turn.now)
    except UserError:
        await throttle.failed(key)
        raise
    identity = await bind_identity(
        turn.session,
        participant_id=invite.participant_id,
        channel=turn.incoming.channel,
        external_id=turn.incoming.chat_id,
    )
    await turn.session.refresh(identity, ["participant"])
    if identity.participant.status != "active":
        await throttle.failed(key)
        raise UserError(EXPIRED, show_menu=False)
    await audit.record(
        turn.session,
        actor=f"participant:{invite.participant_id}",
        action="invite.used",
        object_type="invite",
        object_id=invite.id,
        detail={"channel": turn.incoming.channel},
    )
    turn.identity = identity
    return [language_menu(turn, greeting=True)]


def resume(turn: Turn) -> list[Reply]:
    """Show the step the user is at: language and privacy first, then the main menu."""
    participant = turn.participant
    if participant is None:
        return [turn.reply(turn._(NOT_CONNECTED))]
    if participant.privacy_accepted_at is None:
        return [language_menu(turn, greeting=True)]
    return [menu.main_menu(turn)]


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
    if greeting:
        # TRANSLATORS: first message after opening the invite link; keep it short and warm.
        text = turn._(
            "Hello! I am Wegweiser, the bot of your programme. Please choose your language."
        )
    else:
        text = turn._("Please choose your language.")
    return turn.reply(text, rows, edit=edit)


def _current_language(turn: Turn) -> str | None:
    participant = turn.participant
    if participant is not None and participant.locale:
        return participant.locale
    return match_language(turn.incoming.language_code)


async def cb_language(turn: Turn, code: str) -> list[Reply]:
    """A language button: store it (once privacy is accepted) or show the notice in it."""
    if code not in BY_CODE:
        raise UserError(N_("This language is not available. Please choose one from the list."))
    turn.t = translator(code)
    participant = turn.participant
    if participant is None:
        return [turn.reply(turn._(NOT_CONNECTED), edit=True)]
    if participant.privacy_accepted_at is None:
        # Nothing is stored before consent: the choice travels in the buttons.
        return [privacy_notice(turn, code)]
    if participant.locale != code:
        participant.locale = code
        await audit.record(
            turn.session,
            actor=turn.actor,
            action="participant.language",
            object_type="participant",
            object_id=participant.id,
            detail={"locale": code},
        )
    return [
        turn.reply(turn._("Done. I will write to you in English."), edit=True),
        menu.main_menu(turn),
    ]


def privacy_notice(turn: Turn, code: str) -> Reply:
    """The plain-language privacy notice with agree / do not agree."""
    text = turn._(PRIVACY_NOTICE)
    buttons = [
        [Button(turn._("✅ Yes, I agree"), f"pv:ok:{code}")],
        [Button(turn._("❌ No"), f"pv:no:{code}")],
    ]
    return turn.reply(text, buttons, edit=True)


async def cb_privacy(turn: Turn, answer: str, code: str) -> list[Reply]:
    """Agree: store language and consent. Decline: unbind the chat and reopen the invite."""
    if code not in BY_CODE or answer not in {"ok", "no"}:
        raise UserError(STALE_BUTTON)
    turn.t = translator(code)
    participant = turn.participant
    if participant is None:
        return [turn.reply(turn._(NOT_CONNECTED), edit=True)]
    if participant.privacy_accepted_at is not None:
        return [turn.reply(turn._("You have already agreed."), edit=True), menu.main_menu(turn)]
    if answer == "ok":
        participant.locale = code
        participant.privacy_accepted_at = turn.now
        await audit.record(
            turn.session,
            actor=turn.actor,
            action="privacy.accepted",
            object_type="participant",
            object_id=participant.id,
        )
        return [
            turn.reply(turn._("Thank you! You are connected now."), edit=True),
            menu.main_menu(turn),
        ]
    invite = await latest_used_invite(turn.session, participant_id=participant.id)
    if invite is not None and invite.expires_at > turn.now:
        invite.used_at = None  # the same link works again if they change their mind
    assert turn.identity is not None
    await unbind_identity(turn.session, identity_id=turn.identity.id)
    await audit.record(
        turn.session,
        actor=turn.actor,
        action="privacy.declined",
        object_type="participant",
        object_id=participant.id,
    )
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
