"""Admins manage staff accounts: invite by a one-time set-password link, change the role,
deactivate (and hand the caseload to another coach), unlock after failed logins, reset a
password. Called by the staff web and `wegweiser admin`.

`actor` is the admin who acts, or None for the command line (whoever runs it holds the
server). Every change is audited; a refused request raises UserError (an `admin` msgid)
before it writes anything.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.staff.accounts import ROLES, create_staff, password_problem
from bot.i18n import A_
from bot.plumbing.errors import UserError
from bot.plumbing.throttle import LoginThrottle
from storage import audit
from storage.invites import revoke_open_invites
from storage.models import StaffUser
from storage.staff import (
    add_password_link,
    count_active_admins,
    end_web_sessions,
    find_open_password_link,
    reassign_caseload,
    revoke_password_links,
    use_password_link,
)
from storage.states import StaffRole

TOKEN_BYTES = 24  # 192 bits, like participants' invites
LINK_HOURS = 72  # a set-password link works once, for three days
LINK_NOT_VALID = A_(
    "This link does not work (any more): it was used, has expired or was replaced by a "
    "newer one. Ask an admin for a new link."
)
NOT_FOUND = A_("This staff account does not exist.")


@dataclass(frozen=True)
class PasswordLink:
    """A fresh set-password link: the token exists only here, never in storage."""

    token: str
    staff_id: int
    expires_at: datetime

    def url(self, base_url: str) -> str:
        """The address to open (once)."""
        return f"{base_url.rstrip('/')}/admin/set-password/{self.token}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _name(actor: StaffUser | None) -> str:
    """The audit log's name for who acts."""
    return f"staff:{actor.id}" if actor is not None else "cli"


def _require_admin(actor: StaffUser | None) -> None:
    if actor is not None and (actor.role != "admin" or not actor.active):
        raise UserError(A_("Only admins may open this page."))


async def _staff(session: AsyncSession, staff_id: int) -> StaffUser:
    staff = await session.get(StaffUser, staff_id)
    if staff is None:
        raise UserError(NOT_FOUND)
    return staff


async def _keep_an_admin(session: AsyncSession, staff: StaffUser) -> None:
    """Refuse to take away the last active admin (nobody could manage accounts then)."""
    if staff.role == "admin" and staff.active and await count_active_admins(session) <= 1:
        raise UserError(A_("This is the last active admin. Make another person admin first."))


async def _new_link(
    session: AsyncSession,
    *,
    staff: StaffUser,
    purpose: str,
    actor: StaffUser | None,
    now: datetime,
) -> PasswordLink:
    """Revoke the staff user's older links and make a new one."""
    await revoke_password_links(session, staff_id=staff.id, now=now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = await add_password_link(
        session,
        staff_id=staff.id,
        token_hash=_hash(token),
        purpose=purpose,
        expires_at=now + timedelta(hours=LINK_HOURS),
        created_by_id=actor.id if actor is not None else None,
    )
    return PasswordLink(token, staff.id, link.expires_at)


async def invite_staff(
    session: AsyncSession,
    *,
    actor: StaffUser | None,
    email: str,
    display_name: str,
    role: str = "coach",
    now: datetime,
) -> tuple[StaffUser, PasswordLink]:
    """Add a staff account without a password and a link with which they set one."""
    _require_admin(actor)
    staff = await create_staff(
        session,
        email=email,
        display_name=display_name,
        role=role,
        password=None,
        actor=_name(actor),
    )
    return staff, await _new_link(session, staff=staff, purpose="invite", actor=actor, now=now)


async def reset_password(
    session: AsyncSession, *, actor: StaffUser | None, staff_id: int, now: datetime
) -> PasswordLink:
    """A new set-password link; the old password and every login of the account stop
    working at once, and older links too."""
    _require_admin(actor)
    staff = await _staff(session, staff_id)
    if not staff.active:
        raise UserError(A_("This account is deactivated. Activate it first."))
    had_password = staff.password_hash is not None
    staff.password_hash = None
    ended = await end_web_sessions(session, staff_id=staff.id)
    purpose = "reset" if had_password else "invite"
    link = await _new_link(session, staff=staff, purpose=purpose, actor=actor, now=now)
    await audit.record(
        session,
        actor=_name(actor),
        action="staff.password_reset",
        object_type="staff",
        object_id=staff.id,
        detail={"sessions_ended": ended},
    )
    return link


async def change_role(
    session: AsyncSession, *, actor: StaffUser | None, staff_id: int, role: str
) -> StaffUser:
    """Make a staff user an admin or a coach."""
    _require_admin(actor)
    if role not in ROLES:
        raise UserError(A_("Choose the role admin or coach."), field="role")
    staff = await _staff(session, staff_id)
    if staff.role == role:
        return staff
    if role != "admin":
        await _keep_an_admin(session, staff)
    staff.role = StaffRole(role)
    await audit.record(
        session,
        actor=_name(actor),
        action="staff.role_changed",
        object_type="staff",
        object_id=staff.id,
        detail={"role": role},
    )
    return staff


async def deactivate_staff(
    session: AsyncSession, *, actor: StaffUser | None, staff_id: int, now: datetime
) -> StaffUser:
    """Close an account: it cannot log in, its logins end at once, its open links stop
    working and its linked chat no longer acts as staff. Its participants stay with it
    until an admin hands them over (`reassign_caseload`)."""
    _require_admin(actor)
    staff = await _staff(session, staff_id)
    if actor is not None and actor.id == staff.id:
        raise UserError(A_("You cannot deactivate your own account."))
    if not staff.active:
        return staff
    await _keep_an_admin(session, staff)
    staff.active = False
    ended = await end_web_sessions(session, staff_id=staff.id)
    await revoke_password_links(session, staff_id=staff.id, now=now)
    await revoke_open_invites(session, staff_id=staff.id, now=now)
    await audit.record(
        session,
        actor=_name(actor),
        action="staff.deactivated",
        object_type="staff",
        object_id=staff.id,
        detail={"sessions_ended": ended},
    )
    return staff


async def reactivate_staff(
    session: AsyncSession, *, actor: StaffUser | None, staff_id: int
) -> StaffUser:
    """Open a deactivated account again (with its old password, if it had one)."""
    _require_admin(actor)
    staff = await _staff(session, staff_id)
    if staff.active:
        return staff
    staff.active = True
    await audit.record(
        session,
        actor=_name(actor),
        action="staff.reactivated",
        object_type="staff",
        object_id=staff.id,
    )
    return staff


async def hand_over_caseload(
    session: AsyncSession,
    *,
    actor: StaffUser | None,
    from_id: int,
    to_id: int | None,
    now: datetime,
) -> tuple[int, int, int]:
    """Give one staff user's participants, courses and their coming appointments to another
    active one; how many of each moved."""
    _require_admin(actor)
    source = await _staff(session, from_id)
    target = await session.get(StaffUser, to_id) if to_id is not None else None
    if target is None or not target.active or target.id == source.id:
        raise UserError(A_("Choose another active staff member to take over."), field="to")
    moved = await reassign_caseload(session, from_id=source.id, to_id=target.id, now=now)
    await audit.record(
        session,
        actor=_name(actor),
        action="staff.caseload_handed_over",
        object_type="staff",
        object_id=source.id,
        detail={
            "to": target.id,
            "participants": moved[0],
            "courses": moved[1],
            "appointments": moved[2],
        },
    )
    return moved


async def unlock_staff(
    session: AsyncSession, *, actor: StaffUser | None, staff_id: int, throttle: LoginThrottle
) -> int:
    """Lift the lock after failed logins, from every address; how many tries were counted."""
    _require_admin(actor)
    staff = await _staff(session, staff_id)
    tries = await throttle.unlock(staff.email, within=session)
    await audit.record(
        session,
        actor=_name(actor),
        action="staff.unlocked",
        object_type="staff",
        object_id=staff.id,
        detail={"tries": tries},
    )
    return tries


async def password_link_owner(session: AsyncSession, *, token: str, now: datetime) -> StaffUser:
    """The active staff user an open set-password link belongs to; else UserError."""
    link = await find_open_password_link(session, token_hash=_hash(token[:100]), now=now)
    staff = await session.get(StaffUser, link.staff_id) if link is not None else None
    if staff is None or not staff.active:
        raise UserError(LINK_NOT_VALID)
    return staff


def check_new_password(new: str, again: str) -> None:
    """UserError unless the two entries match and follow the password rules."""
    problem = password_problem(new)
    if problem:
        raise UserError(problem, field="new")
    if new != again:
        raise UserError(A_("The two new passwords differ."), field="again")


async def set_password_with_link(
    session: AsyncSession, *, token: str, password_hash: str, now: datetime
) -> StaffUser:
    """Use a set-password link once: the account gets the (already hashed) password, every
    other login of it ends. Of two racing uses exactly one succeeds."""
    staff = await password_link_owner(session, token=token, now=now)
    if await use_password_link(session, token_hash=_hash(token[:100]), now=now) is None:
        raise UserError(LINK_NOT_VALID)
    staff.password_hash = password_hash
    await end_web_sessions(session, staff_id=staff.id)
    await revoke_password_links(session, staff_id=staff.id, now=now)
    await audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="staff.password_set",
        object_type="staff",
        object_id=staff.id,
    )
    return staff
