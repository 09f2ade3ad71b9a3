"""Broadcasts: a coach or admin writes to a course, a module, a caseload or everyone."""

from __future__ import annotations

from bot.features.broadcasts import chat, render
from bot.features.broadcasts.actions import MESSAGE
from bot.i18n import N_
from bot.plumbing.routes import (
    AnswerRoute,
    Audience,
    ButtonRoute,
    Command,
    Feature,
    MenuEntry,
    ident,
    small,
)

STAFF = Audience.STAFF

FEATURE = Feature(
    name="broadcasts",
    commands=(
        # TRANSLATORS: a coach's (staff) command.
        Command("broadcast", N_("Send a message to a group"), chat.cmd_broadcast, STAFF, rank=20),
        # TRANSLATORS: a coach's (staff) command.
        Command("report", N_("How my messages went"), chat.cmd_report, STAFF, rank=21),
        Command("stop", N_("No more general messages"), chat.cmd_stop, rank=95),
    ),
    buttons=(
        ButtonRoute("mn:bc", chat.cmd_broadcast, (), STAFF),
        ButtonRoute("mn:rep", chat.cmd_report, (), STAFF),
        ButtonRoute("bc:gl", chat.cb_caseload, (ident,), STAFF),
        ButtonRoute("bc:gc", chat.cb_course, (ident, ident), STAFF),
        ButtonRoute("bc:gm", chat.cb_module, (ident, ident), STAFF),
        ButtonRoute("bc:ge", chat.cb_everyone, (ident,), STAFF),
        ButtonRoute("bc:t", chat.cb_template, (ident, small(9)), STAFF),
        ButtonRoute("bc:f", chat.cb_free_text, (ident,), STAFF),
        ButtonRoute("bc:d", chat.cb_date, (ident, small(60)), STAFF),
        ButtonRoute("bc:now", chat.cb_send_now, (ident,), STAFF),
        ButtonRoute("bc:h1", chat.cb_in_an_hour, (ident,), STAFF),
        ButtonRoute("bc:tm", chat.cb_tomorrow, (ident,), STAFF),
        ButtonRoute("bc:x", chat.cb_discard, (ident,), STAFF),
        ButtonRoute("bc:stop", chat.cb_stop_rest, (ident,), STAFF),
        ButtonRoute("bc:l", chat.cb_listen, (ident,)),
    ),
    answers=(
        AnswerRoute("bc:text", chat.answer_text, STAFF),
        AnswerRoute("bc:place", chat.answer_place, STAFF),
    ),
    menu=(
        # TRANSLATORS: a coach's (staff) menu button.
        MenuEntry(N_("📢 Send a message"), "mn:bc", row=0, audience=STAFF),
        # TRANSLATORS: a coach's (staff) menu button.
        MenuEntry(N_("📊 Delivery report"), "mn:rep", row=0, audience=STAFF),
    ),
    templates={MESSAGE: render.broadcast_message},
)
