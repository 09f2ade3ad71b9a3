"""The printed invite letter's texts, in the participant's language (and German beside it).

The admin web lays them out on one A4 page with the QR codes; the texts are here so they
go through the bot's catalogs like every other participant-facing sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.plumbing.formatting import long_date
from bot.plumbing.voice import Voice


@dataclass(frozen=True)
class LetterTexts:
    """One language's column of the letter."""

    lang: str
    rtl: bool
    title: str
    greeting: str
    about: str
    telegram_steps: list[str]
    web_hint: str
    validity: str
    help: str


def letter_texts(
    voice: Voice, *, name: str, coach: str | None, expires_at: datetime
) -> LetterTexts:
    """The letter's sentences for one voice (no bilingual second line: the letter has its
    own German column)."""
    t = voice.t
    until = voice.isolate(long_date(voice, expires_at.astimezone(voice.tz).date()))
    return LetterTexts(
        lang=voice.code,
        rtl=voice.rtl,
        # TRANSLATORS: heading of the printed invite letter.
        title=t.gettext("Your invitation to Wegweiser"),
        greeting=t.gettext("Hello {name}!").format(name=voice.isolate(name)),
        # TRANSLATORS: printed invite letter; Wegweiser is the bot's name, keep it.
        about=t.gettext(
            "Wegweiser is the chat of your programme. It shows your appointments and "
            "courses and reminds you of them."
        ),
        telegram_steps=[
            # TRANSLATORS: printed invite letter, step 1; "the code" is the QR code beside it.
            t.gettext("1. Scan the left code with your phone camera."),
            # TRANSLATORS: printed invite letter, step 2; "Start" is Telegram's button label.
            t.gettext("2. Telegram opens. Press “Start”."),
        ],
        # TRANSLATORS: printed invite letter; the right QR code opens the web chat.
        web_hint=t.gettext("No Telegram? Scan the right code. The chat opens in your browser."),
        # TRANSLATORS: printed invite letter; {date} is the last day the link works.
        validity=t.gettext("The link works once, until {date}. Do not give it to anyone.").format(
            date=until
        ),
        help=(
            t.gettext("Questions? Ask your coach: {name}").format(name=voice.isolate(coach))
            if coach
            else t.gettext("Questions? Ask your coach.")
        ),
    )
