"""The state of one update while it is handled: who, in which voice, which transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.plumbing.messages import Button, Incoming, Reply
from bot.plumbing.routes import Audience, Routes
from bot.plumbing.throttle import BadCodeThrottle
from bot.plumbing.voice import Voice
from bot.settings import Settings
from storage.models import ChannelIdentity, Participant, StaffUser


@dataclass
class Turn:
    """One update in flight: its transaction, the chat's owner and the voice to answer in."""

    session: AsyncSession
    settings: Settings
    incoming: Incoming
    identity: ChannelIdentity | None
    voice: Voice
    now: datetime
    routes: Routes
    throttle: BadCodeThrottle

    def __setattr__(self, name: str, value: Any) -> None:
        # A Signal chat has no buttons: every voice this turn answers in (the router's, or
        # one onboarding builds after a language choice) tells to type numbers instead.
        if name == "voice":
            value = value.on(self.incoming.channel)
        super().__setattr__(name, value)

    @property
    def participant(self) -> Participant | None:
        """The participant this chat is bound to, if any."""
        return self.identity.participant if self.identity else None

    @property
    def staff(self) -> StaffUser | None:
        """The staff user this chat is linked to, if any."""
        return self.identity.staff if self.identity else None

    @property
    def audiences(self) -> set[Audience]:
        """Which routes this chat may use now."""
        participant, staff = self.participant, self.staff
        if staff is not None and staff.active:
            return {Audience.ANYONE, Audience.CONNECTED, Audience.STAFF}
        if participant is not None and participant.privacy_accepted_at is not None:
            return {Audience.ANYONE, Audience.CONNECTED, Audience.PARTICIPANT}
        return {Audience.ANYONE}

    @property
    def actor(self) -> str:
        """Audit-log actor for this turn: ids only."""
        if self.staff is not None:
            return f"staff:{self.staff.id}"
        participant = self.participant
        return f"participant:{participant.id}" if participant else "anonymous"

    def _(self, message: str, **params: Any) -> str:
        """Translate in this turn's voice."""
        return self.voice._(message, **params)

    def reply(self, text: str, buttons: list[list[Button]] | None = None, **kw: Any) -> Reply:
        """A reply in this turn's voice."""
        return self.voice.reply(text, buttons, **kw)

    def ask(self, question: str) -> None:
        """Remember that the next free text answers `question`, e.g. "ap:reason:12"."""
        assert self.identity is not None
        self.identity.awaiting = question

    def close_question(self) -> None:
        """Forget any open question of this chat."""
        # Only when one is open: assigning None to None still makes the row dirty, and the
        # flush that follows cost /help a third of its time.
        if self.identity is not None and self.identity.awaiting is not None:
            self.identity.awaiting = None
