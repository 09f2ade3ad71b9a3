"""The main menu and /help, built from every feature's route table."""

from __future__ import annotations

from bot.i18n import N_
from bot.plumbing import menu
from bot.plumbing.messages import Reply
from bot.plumbing.routes import Audience, ButtonRoute, Command, Feature, MenuEntry
from bot.plumbing.turn import Turn


async def cmd_menu(turn: Turn) -> list[Reply]:
    """/menu and the ☰ button."""
    return [menu.main_menu(turn)]


async def cmd_help(turn: Turn) -> list[Reply]:
    """/help: the commands that work for this chat now."""
    return [menu.help_text(turn)]


FEATURE = Feature(
    name="home",
    commands=(
        Command("menu", N_("Main menu"), cmd_menu, Audience.CONNECTED, rank=0),
        Command("help", N_("Help"), cmd_help, Audience.ANYONE, rank=99),
    ),
    buttons=(
        ButtonRoute(menu.MENU_BUTTON, cmd_menu, (), Audience.CONNECTED),
        ButtonRoute("mn:help", cmd_help, (), Audience.CONNECTED),
    ),
    menu=(MenuEntry(N_("❓ Help"), "mn:help", row=3, audience=Audience.CONNECTED),),
)
