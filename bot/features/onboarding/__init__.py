"""Onboarding: invite links for participants and staff, language choice, privacy notice."""

from __future__ import annotations

from bot.features.onboarding import chat
from bot.i18n import N_
from bot.plumbing.routes import (
    Audience,
    ButtonRoute,
    Command,
    Feature,
    MenuEntry,
    language,
    small,
)

BAD_LANGUAGE = N_("This language is not available. Please choose one from the list.")

FEATURE = Feature(
    name="onboarding",
    commands=(
        # TRANSLATORS: description of /start, which takes the code from the coach's link.
        Command(
            "start", N_("Connect with your code"), chat.cmd_start, Audience.ANYONE, listed=False
        ),
        Command(
            "language", N_("Change the language"), chat.cmd_language, Audience.ANYONE, rank=80
        ),
    ),
    buttons=(
        ButtonRoute("lang", chat.cb_language, (language,), Audience.ANYONE, BAD_LANGUAGE),
        ButtonRoute("pv:ok", chat.cb_accept, (language,), Audience.ANYONE),
        ButtonRoute("pv:no", chat.cb_decline, (language,), Audience.ANYONE),
        ButtonRoute("mn:lang", chat.cmd_language, (), Audience.CONNECTED),
        ButtonRoute("bi", chat.cb_bilingual, (small(1),)),
    ),
    menu=(MenuEntry(N_("🌐 Language"), "mn:lang", row=2, audience=Audience.CONNECTED),),
)

welcome = chat.resume
