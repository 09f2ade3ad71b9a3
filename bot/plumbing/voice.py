"""A Voice renders for one recipient: their language, the programme's time zone, and now.

It is built from a participant or a staff user, with or without a live update, so a reply,
a reminder at send time and a notice to a coach all render through the same `render_*`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale

from bot.i18n import DEFAULT, LRI, Translator, each_line_isolated, translator
from bot.plumbing.by_number import BY_NUMBER
from bot.plumbing.messages import Button, Reply
from storage.models import Participant, StaffUser

CHANNELS_WITHOUT_BUTTONS = {"signal"}  # options are numbered lines there
STAFF_DEFAULT = "de"  # staff read German unless they chose otherwise
GERMAN = "de"


@dataclass(frozen=True)
class Voice:
    """Translator, time zone and the moment of rendering for one recipient.

    `german` is the second translator of the bilingual mode (German under each message);
    it is None until that mode exists for the recipient.
    """

    t: Translator
    tz: ZoneInfo
    now: datetime
    german: Translator | None = None  # bilingual mode: a German line under each message
    numbers: bool = False  # a chat without buttons (Signal): options are typed numbers

    @classmethod
    def for_language(cls, code: str, *, tz: ZoneInfo, now: datetime) -> Voice:
        """A voice for a language code alone (a chat that is not connected yet)."""
        return cls(translator(code), tz, now)

    @classmethod
    def for_participant(
        cls, participant: Participant, *, tz: ZoneInfo, now: datetime, fallback: str = DEFAULT
    ) -> Voice:
        """The participant's voice: their chosen language (or `fallback` before they chose),
        with German under each message when they switched the bilingual mode on."""
        code = participant.locale or fallback
        german = (
            translator(GERMAN) if participant.bilingual and not code.startswith(GERMAN) else None
        )
        return cls(translator(code), tz, now, german)

    @classmethod
    def for_staff(cls, staff: StaffUser, *, tz: ZoneInfo, now: datetime) -> Voice:
        """A staff user's voice: their language, German by default."""
        return cls(translator(staff.locale or STAFF_DEFAULT), tz, now)

    def on(self, channel: str) -> Voice:
        """This voice in a chat of `channel`: Signal has no buttons, so its sentences say to
        type numbers instead of pressing buttons."""
        numbers = channel in CHANNELS_WITHOUT_BUTTONS
        return self if numbers == self.numbers else replace(self, numbers=numbers)

    @property
    def code(self) -> str:
        """The catalog code, e.g. "ar"."""
        return self.t.code

    @property
    def locale(self) -> Locale:
        """The Babel locale for dates and lists."""
        return self.t.locale

    @property
    def rtl(self) -> bool:
        """True for right-to-left languages."""
        return self.t.rtl

    def _(self, message: str, **params: Any) -> str:
        """Translate a message and fill its named placeholders; in bilingual mode the German
        sentence follows on its own line, so participants learn the words (Termin, Kurs).
        In a chat without buttons a sentence that names them says to type numbers instead."""
        if self.numbers:
            message = BY_NUMBER.get(message, message)
        text = self.t.gettext(message)
        text = text.format(**params) if params else text
        if self.german is None:
            return text
        german = self.german.gettext(message)
        german = german.format(**params) if params else german
        return text if german == text else f"{text}\n{self._german_line(german)}"

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """Translate a message with a count; `{n}` and other placeholders are filled."""
        text = self.t.ngettext(singular, plural, n).format(n=n, **params)
        if self.german is None:
            return text
        german = self.german.ngettext(singular, plural, n).format(n=n, **params)
        return text if german == text else f"{text}\n{self._german_line(german)}"

    def _german_line(self, german: str) -> str:
        """The German sentence of the bilingual mode: inside a right-to-left message each of
        its lines is isolated left to right, so it reads "Du kannst kommen." and not
        ".kommen kannst"."""
        if not self.rtl:
            return german
        return each_line_isolated(german, LRI)

    def label(self, message: str) -> str:
        """A button's label: one line, in the recipient's language only."""
        return self.t.gettext(message)

    def isolate(self, text: str) -> str:
        """Bidi-isolate an embedded piece (address, time, name); see Translator.isolate."""
        return self.t.isolate(text)

    def free_text(self, text: str) -> str:
        """Text someone typed (a coach's answer, a broadcast), isolated line by line in a
        right-to-left message; see Translator.isolate_lines."""
        return self.t.isolate_lines(text)

    def reply(self, text: str, buttons: list[list[Button]] | None = None, **kw: Any) -> Reply:
        """A reply in this voice's language and direction."""
        return Reply(text=text, buttons=buttons or [], lang=self.code, rtl=self.rtl, **kw)
