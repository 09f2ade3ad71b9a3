"""Invites: one-time tokens that bind a chat to an enrolled participant."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.i18n import N_
from storage import audit
from storage.invites import add_invite, find_invite
from storage.models import Invite, Participant

TOKEN_BYTES = 24  # 192 bits; URL-safe base64 gives 32 characters, within Telegram's 64
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")

BAD_CODE = N_(
    "This code is not valid. Please check the link from your coach, "
    "or ask your coach for a new one."
)
ALREADY_USED = N_(
    "This link was already used. Each link works only once. "
    "If that was not you, please tell your coach. "
    "Your coach can give you a new link."
)
EXPIRED = N_("This link has expired. Please ask your coach for a new link.")


@dataclass(frozen=True)
class NewInvite:
    """A freshly made invite: the token exists only here, never in storage."""

    participant_id: int
    token: str
    expires_at: datetime

    def telegram_link(self, bot_username: str) -> str:
        """The deep link that opens the bot with this token."""
        return f"https://t.me/{bot_username}?start={self.token}"

    def web_link(self, base_url: str) -> str:
        """The same invite for the web chat."""
        return f"{base_url.rstrip('/')}/chat?start={self.token}"


def hash_token(token: str) -> str:
    """SHA-256 of the token; enough for 192 random bits, no salt needed."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    session: AsyncSession,
    *,
    participant: Participant,
    now: datetime,
    valid_days: int,
    created_by_id: int | None = None,
) -> NewInvite:
    """Make a one-time invite for a participant who can still join."""
    if participant.status != "active":
        raise ValueError(f"participant {participant.id} is {participant.status}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + timedelta(days=valid_days)
    invite = await add_invite(
        session,
        participant_id=participant.id,
        token_hash=hash_token(token),
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    actor = f"staff:{created_by_id}" if created_by_id else "system"
    await audit.record(
        session, actor=actor, action="invite.created", object_type="invite", object_id=invite.id
    )
    return NewInvite(participant.id, token, expires_at)


async def redeem_invite(session: AsyncSession, *, token: str, now: datetime) -> Invite:
    """Check a token and mark its invite used; raise UserError saying what is wrong."""
    if not TOKEN_SHAPE.match(token):
        raise UserError(BAD_CODE, show_menu=False)
    invite = await find_invite(session, token_hash=hash_token(token), for_update=True)
    if invite is None:
        raise UserError(BAD_CODE, show_menu=False)
    if invite.used_at is not None:
        raise UserError(ALREADY_USED, show_menu=False)
    if invite.revoked_at is not None or invite.expires_at <= now:
        raise UserError(EXPIRED, show_menu=False)
    invite.used_at = now
    return invite
