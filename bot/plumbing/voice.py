"""A Voice renders for one recipient: their language, the programme's time zone, and now.

It is built from a participant or a staff user, with or without a live update, so a reply,
a reminder at send time and a notice to a coach all render through the same `render_*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale

from bot.i18n import DEFAULT, Translator, translator
from bot.plumbing.messages import Button, Reply
from storage.models import Participant, StaffUser

STAFF_DEFAULT = "de"  # staff read German unless they chose otherwise


@dataclass(frozen=True)
class Voice:
    """Translator, time zone and the moment of rendering for one recipient.

    `german` is the second translator of the bilingual mode (German under each message);
    it is None until that mode exists for the recipient.
    """

    t: Translator
    tz: ZoneInfo
    now: datetime
    german: Translator | None = None

    @classmethod
    def for_language(cls, code: str, *, tz: ZoneInfo, now: datetime) -> Voice:
        """A voice for a language code alone (a chat that is not connected yet)."""
        return cls(translator(code), tz, now)

    @classmethod
    def for_participant(
        cls, participant: Participant, *, tz: ZoneInfo, now: datetime, fallback: str = DEFAULT
    ) -> Voice:
        """The participant's voice: their chosen language (or `fallback` before they chose)."""
        return cls(translator(participant.locale or fallback), tz, now)

    @classmethod
    def for_staff(cls, staff: StaffUser, *, tz: ZoneInfo, now: datetime) -> Voice:
        """A staff user's voice: their language, German by default."""
        return cls(translator(staff.locale or STAFF_DEFAULT), tz, now)

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
        """Translate a message and fill its named placeholders."""
        text = self.t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """Translate a message with a count; `{n}` and other placeholders are filled."""
        return self.t.ngettext(singular, plural, n).format(n=n, **params)

    def isolate(self, text: str) -> str:
        """Bidi-isolate an embedded piece (address, time, name) in right-to-left text."""
        return self.t.isolate(text)

    def reply(self, text: str, buttons: list[list[Button]] | None = None, **kw: Any) -> Reply:
        """A reply in this voice's language and direction."""
        return Reply(text=text, buttons=buttons or [], lang=self.code, rtl=self.rtl, **kw)
