"""Staff accounts: creating them and checking their passwords (Argon2)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_
from bot.plumbing.errors import UserError
from storage import audit
from storage.models import StaffUser
from storage.staff import end_web_sessions, find_staff_by_email

ROLES = ("admin", "coach")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD = 12
MAX_EMAIL = 254
MAX_NAME = 100
MAX_PASSWORD = 200
_hasher = PasswordHasher()
# Verifying against this keeps unknown e-mails as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("not a real password")
# Argon2 takes ~100 ms of CPU: it runs in a thread, never on the event loop that serves
# every chat, and at most this many at once, so a crowd of guessers cannot take all cores.
_HASHING = asyncio.Semaphore(2)


async def hash_password(password: str) -> str:
    """The Argon2 hash of a password, computed off the event loop."""
    async with _HASHING:
        return await asyncio.to_thread(_hasher.hash, password)


async def _verify(stored: str, password: str) -> bool:
    async with _HASHING:
        try:
            return await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable (an `admin` msgid), or None."""
    if not password.strip():
        return A_("The password must not be only spaces.")
    if len(password) < MIN_PASSWORD:
        return A_("The password needs at least 12 characters.")
    if len(password) > MAX_PASSWORD:
        return A_("The password may have at most 200 characters.")
    return None


async def create_staff(
    session: AsyncSession,
    *,
    email: str,
    display_name: str,
    role: str,
    password: str | None,
    actor: str = "system",
) -> StaffUser:
    """Add a staff user (without a password: they set one through a link); raise UserError
    with an `admin` msgid if the input is wrong."""
    email = email.strip().lower()
    name = display_name.strip()
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        raise UserError(A_("The e-mail address looks wrong."), field="email")
    if not name:
        raise UserError(A_("The name must not be empty."), field="name")
    if len(name) > MAX_NAME:
        raise UserError(A_("The name may have at most {n} characters."), n=MAX_NAME, field="name")
    if role not in ROLES:
        raise UserError(A_("Choose the role admin or coach."), field="role")
    problem = password_problem(password) if password is not None else None
    if problem:
        raise UserError(problem)
    if await find_staff_by_email(session, email=email) is not None:
        raise UserError(
            A_("A staff account with this e-mail address exists already."), field="email"
        )
    user = StaffUser(
        email=email,
        display_name=name,
        role=role,
        password_hash=await hash_password(password) if password else None,
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="staff.created",
        object_type="staff",
        object_id=user.id,
        detail={"role": role},
    )
    return user


async def login_candidate(session: AsyncSession, *, email: str) -> tuple[int | None, str]:
    """The id and password hash to check for an e-mail address; for an unknown or inactive
    account (None, a dummy hash), so both take as long as a wrong password."""
    user = await find_staff_by_email(session, email=email.strip()[:254])
    if user is None or not user.active or not user.password_hash:
        return None, _DUMMY_HASH
    return user.id, user.password_hash


async def check_password(candidate: tuple[int | None, str], password: str) -> int | None:
    """The staff id if the password matches the candidate's hash, else None. Needs no
    database connection, so none is held during the ~100 ms check."""
    staff_id, stored = candidate
    if len(password) > MAX_PASSWORD or not await _verify(stored, password):
        return None
    return staff_id


async def authenticate(session: AsyncSession, *, email: str, password: str) -> StaffUser | None:
    """The active staff user with these credentials, or None (checked off the event loop)."""
    staff_id = await check_password(await login_candidate(session, email=email), password)
    return await session.get(StaffUser, staff_id) if staff_id is not None else None


async def change_password(
    session: AsyncSession, *, staff: StaffUser, current: str, new: str, now: datetime
) -> None:
    """Set a new password after checking the current one; every other login ends.

    Raises UserError with an `admin` msgid when the current password is wrong or the new
    one is too weak."""
    if not staff.password_hash or not await _verify(staff.password_hash, current):
        raise UserError(A_("The current password is not right."))
    problem = password_problem(new)
    if problem:
        raise UserError(problem)
    staff.password_hash = await hash_password(new)
    await end_web_sessions(session, staff_id=staff.id)
    await audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="staff.password_changed",
        object_type="staff",
        object_id=staff.id,
    )
