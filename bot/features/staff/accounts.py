"""Staff accounts: creating them and checking their passwords (Argon2)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.models import StaffUser
from storage.staff import find_staff_by_email

ROLES = ("admin", "coach")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verifying against this keeps unknown e-mails as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("not a real password")


async def create_staff(
    session: AsyncSession, *, email: str, display_name: str, role: str, password: str | None
) -> StaffUser:
    """Add a staff user; raise ValueError with a readable reason if the input is wrong."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise ValueError("e-mail address looks wrong")
    if not display_name.strip():
        raise ValueError("the name must not be empty")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if password is not None and not password.strip():
        raise ValueError("the password must not be only spaces")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    if await find_staff_by_email(session, email=email) is not None:
        raise ValueError(f"a staff user with e-mail {email} exists already")
    user = StaffUser(
        email=email,
        display_name=display_name.strip(),
        role=role,
        password_hash=_hasher.hash(password) if password else None,
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session, actor="system", action="staff.created", object_type="staff", object_id=user.id
    )
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> StaffUser | None:
    """The active staff user with these credentials, or None."""
    user = await find_staff_by_email(session, email=email.strip())
    stored = user.password_hash if user and user.active and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if stored is not _DUMMY_HASH else None
