"""Staff: accounts (Argon2 passwords) and a coach's own linked chat."""

from __future__ import annotations

from bot.features.staff import chat
from bot.i18n import N_
from bot.plumbing.blocked import BLOCKED_NOTICE
from bot.plumbing.routes import Audience, ButtonRoute, Command, Feature, MenuEntry

FEATURE = Feature(
    name="staff",
    commands=(
        # TRANSLATORS: a coach's (staff) command: stop getting notices in this chat.
        Command("unlink", N_("Disconnect this chat"), chat.cmd_unlink, Audience.STAFF, rank=85),
    ),
    buttons=(
        ButtonRoute(chat.UNLINK, chat.cb_unlink, (), Audience.STAFF),
        ButtonRoute("mn:unlink", chat.cmd_unlink, (), Audience.STAFF),
    ),
    templates={BLOCKED_NOTICE: chat.blocked_notice},
    menu=(
        # TRANSLATORS: a coach's (staff) menu button.
        MenuEntry(N_("🔌 Disconnect this chat"), "mn:unlink", row=1, audience=Audience.STAFF),
    ),
)
