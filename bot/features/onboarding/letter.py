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
    telegram_steps: list[str]  # empty when Telegram is not set up
    web_hint: str
    signal_step: str | None  # None when Signal is not set up
    validity: str
    help: str


def letter_texts(
    voice: Voice,
    *,
    name: str,
    coach: str | None,
    expires_at: datetime,
    telegram: bool = True,
    signal_number: str | None = None,
) -> LetterTexts:
    """The letter's sentences for one voice (no bilingual second line: the letter has its
    own German column). Without Telegram there are no Telegram steps and the web chat's code
    is the only one; with Signal (`signal_number`, the bot's number) a step says what to
    send there."""
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
        ]
        if telegram
        else [],
        # TRANSLATORS: printed invite letter; the right QR code opens the web chat.
        web_hint=t.gettext("No Telegram? Scan the right code. The chat opens in your browser.")
        if telegram
        # TRANSLATORS: printed invite letter with one QR code, which opens the web chat.
        else t.gettext("Scan the code with your phone camera. The chat opens in your browser."),
        # TRANSLATORS: printed invite letter; {number} is the bot's Signal phone number. The
        # message to send ("start" and a code) is printed below this line.
        signal_step=t.gettext("With Signal: send this message to {number}:").format(
            number=voice.isolate(signal_number)
        )
        if signal_number
        else None,
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
