"""The main menu, help and answers to things the bot does not understand."""

from __future__ import annotations

from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.i18n import N_

# TRANSLATORS: help text. Commands after "/" must stay in English as they are.
HELP = N_(
    "I help you with your programme.\n"
    "/menu – the main menu\n"
    "/appointments – your next appointments\n"
    "/courses – your courses\n"
    "/language – change the language\n"
    "/privacy – what we store about you\n"
    "/help – this help\n"
    "You can also press the buttons. For other questions, please talk to your coach."
)


def main_menu(turn: Turn, *, edit: bool = False) -> Reply:
    """The main menu: one button per thing a participant can do."""
    participant = turn.participant
    name = turn.t.isolate(participant.display_name) if participant else ""
    # TRANSLATORS: {name} is the participant's first name.
    text = turn._("Hello {name}! What do you need?", name=name)
    rows = [
        [Button(turn._("📅 My appointments"), "mn:ap")],
        [Button(turn._("📚 My courses"), "mn:co")],
        [Button(turn._("🌐 Language"), "mn:lang"), Button(turn._("🔒 My data"), "mn:priv")],
        [Button(turn._("❓ Help"), "mn:help")],
    ]
    return turn.reply(text, rows, edit=edit)


def menu_button(turn: Turn) -> list[list[Button]]:
    """A single "back to the menu" button row."""
    return [[Button(turn._("☰ Menu"), "mn:menu")]]


def cmd_help(turn: Turn) -> list[Reply]:
    """What the bot can do and the commands, in plain words."""
    text = turn._(HELP)
    buttons = menu_button(turn) if turn.participant else []
    return [turn.reply(text, buttons)]


def not_understood(turn: Turn) -> list[Reply]:
    """Free text the bot cannot handle: say so and offer the menu."""
    text = turn._("Sorry, I did not understand that. Please use the buttons.")
    return [turn.reply(text), main_menu(turn)]


def unknown_command(turn: Turn) -> list[Reply]:
    """A /command the bot does not know."""
    return [
        turn.reply(turn._("I do not know this command. Send /help to see what I can do.")),
        main_menu(turn),
    ]


def not_text(turn: Turn) -> list[Reply]:
    """A sticker, photo or voice message: the bot reads only text and buttons."""
    return [
        turn.reply(turn._("I can only read text and buttons. Please use the buttons.")),
        main_menu(turn),
    ]
