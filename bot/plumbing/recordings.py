"""Recorded spoken versions of texts: saving, replacing and removing one (admins), and
whether one still matches its text.

A recording remembers a fingerprint of the text it was recorded for (`text_version`). When
the text changes, the recording is "outdated", like a translation older than its German
source: the staff web marks it, and participants are not offered it (they would hear
something other than what they read).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_, N_
from bot.plumbing.audio import CheckedAudio
from bot.plumbing.errors import UserError
from storage import audit
from storage.models import Recording, StaffUser
from storage.recordings import recording

SUBJECTS = ("content", "template")

# TRANSLATORS: a button under a text or a group message: hear it read aloud (a recording).
LISTEN = N_("🔊 Listen")
# TRANSLATORS: after pressing 🔊, when the recording was deleted or the text changed since.
RECORDING_GONE = N_("This recording is no longer available. Please read the text.")


def text_version(text: str) -> str:
    """A fingerprint of a text (whitespace at the ends does not count)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def recording_status(found: Recording | None, text: str | None) -> str:
    """ "none", "outdated" (the text changed since, or is gone) or "current"."""
    if found is None:
        return "none"
    if text is None or found.text_version != text_version(text):
        return "outdated"
    return "current"


async def save_recording(
    session: AsyncSession,
    *,
    actor: StaffUser,
    subject: str,
    key: str,
    code: str,
    audio: CheckedAudio,
    text: str,
    now: datetime,
) -> Recording:
    """Store (or replace) the recording of a text in one language, for the text as it is."""
    if actor.role != "admin":
        raise UserError(A_("Only admins may edit the texts."))
    if subject not in SUBJECTS:
        raise UserError(A_("This entry does not exist."))
    found = await recording(session, subject=subject, key=key, locale=code)
    if found is None:
        found = Recording(subject=subject, key=key, locale=code)
        session.add(found)
    found.audio = audio.data
    found.seconds = max(1, round(audio.seconds))
    found.size = len(audio.data)
    found.text_version = text_version(text)
    found.uploaded_by_id = actor.id
    found.uploaded_at = now
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="recording.saved",
        object_type=subject,
        object_id=found.id,
        detail={"language": code, "seconds": found.seconds},
    )
    return found


async def delete_recording(
    session: AsyncSession, *, actor: StaffUser, subject: str, key: str, code: str
) -> None:
    """Remove the recording of a text in one language."""
    if actor.role != "admin":
        raise UserError(A_("Only admins may edit the texts."))
    found = await recording(session, subject=subject, key=key, locale=code)
    if found is None:
        raise UserError(A_("There is no recording in this language."))
    await session.delete(found)
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="recording.deleted",
        object_type=subject,
        object_id=found.id,
        detail={"language": code},
    )
