"""The main menu, help, and the answers to things the bot does not understand.

Built from the route tables, so a new feature's commands and menu entries show up here and
in Telegram's command menu without editing this file.
"""

from __future__ import annotations

from itertools import groupby

from bot.i18n import N_
from bot.plumbing.messages import Button, Reply
from bot.plumbing.routes import Audience
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice

MENU_BUTTON = "mn:menu"

# TRANSLATORS: first line of /help for a connected participant or coach.
HELP_INTRO = N_("I help you with your programme. These are my commands:")
# TRANSLATORS: last line of /help. "coach" is the person who supports the participant.
HELP_OUTRO = N_("You can also press the buttons. For other questions, please talk to your coach.")
# TRANSLATORS: /help before the chat is connected; commands after it are listed below.
HELP_NOT_CONNECTED = N_(
    "To use this bot you need your personal link from your coach. Please open that link. "
    "You can also send /start and your code. Until then you can use:"
)

# TRANSLATORS: KIM is the municipal case management; keep the name "KIM".
PROGRAMME_ENDED = N_(
    "Your programme has ended, so there are no appointments here any more. "
    "You can still get help: the case management KIM of Kreis Unna supports you. "
    "Please ask at the integration centre."
)


def main_menu(turn: Turn, *, edit: bool = False) -> Reply:
    """The main menu for this chat's owner: the menu entries of every feature they may use."""
    voice, audiences = turn.voice, turn.audiences
    entries = [entry for entry in turn.routes.menu if entry.audience in audiences]
    rows = [
        [Button(voice.label(entry.label), entry.data) for entry in row]
        for _, row in groupby(sorted(entries, key=lambda e: e.row), key=lambda e: e.row)
    ]
    owner = turn.staff or turn.participant
    name = voice.isolate(owner.display_name) if owner else ""
    # TRANSLATORS: {name} is the first name of the person using the bot.
    text = voice._("Hello {name}! What do you need?", name=name)
    return voice.reply(text, rows, edit=edit)


def menu_button(voice: Voice) -> list[list[Button]]:
    """A single "back to the menu" button row."""
    return [[Button(voice.label("☰ Menu"), MENU_BUTTON)]]


def help_text(turn: Turn) -> Reply:
    """What this chat can do: only the commands that work for it now."""
    voice, audiences = turn.voice, turn.audiences
    # The command is isolated so "/menu" keeps its slash in front in right-to-left text.
    lines = [
        f"{voice.isolate('/' + command.name)} – {voice._(command.description)}"
        for command in turn.routes.listed_commands(audiences)
    ]
    if audiences == {Audience.ANYONE}:
        return voice.reply("\n".join([voice._(HELP_NOT_CONNECTED), *lines]))
    text = "\n".join([voice._(HELP_INTRO), *lines, voice._(HELP_OUTRO)])
    return voice.reply(text, menu_button(voice))


def programme_ended(voice: Voice) -> Reply:
    """The pointer for a participant whose programme is over."""
    return voice.reply(voice._(PROGRAMME_ENDED), menu_button(voice))


def not_understood(turn: Turn) -> list[Reply]:
    """Free text the bot cannot handle: say so and offer the menu."""
    text = turn._("Sorry, I did not understand that. Please use the buttons.")
    return [turn.reply(text), main_menu(turn)]


def unknown_command(turn: Turn) -> list[Reply]:
    """A /command the bot does not know (or that does not work for this chat)."""
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
