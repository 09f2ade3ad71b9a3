"""The state of one update while it is handled: who, in which language, which transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Button, Incoming, Reply
from bot.i18n import Translator
from bot.settings import Settings
from storage.models import ChannelIdentity, Participant


@dataclass
class Turn:
    """One update in flight: its transaction, the sender and their translator."""

    session: AsyncSession
    settings: Settings
    incoming: Incoming
    identity: ChannelIdentity | None
    t: Translator
    now: datetime

    @property
    def participant(self) -> Participant | None:
        """The bound participant, if this chat is bound."""
        return self.identity.participant if self.identity else None

    @property
    def actor(self) -> str:
        """Audit-log actor for this turn."""
        participant = self.participant
        return f"participant:{participant.id}" if participant else "anonymous"

    def _(self, message: str, **params: Any) -> str:
        """Translate a message and fill its named placeholders."""
        text = self.t.gettext(message)
        return text.format(**params) if params else text

    def reply(self, text: str, buttons: list[list[Button]] | None = None, **kw: Any) -> Reply:
        """A reply in this turn's language."""
        return Reply(text=text, buttons=buttons or [], lang=self.t.code, rtl=self.t.rtl, **kw)
