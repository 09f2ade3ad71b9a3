"""Recordings of texts: stored per language with the text they were recorded for; a changed
text makes them outdated; only admins store or remove one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.plumbing.audio import to_voice
from bot.plumbing.errors import UserError
from bot.plumbing.recordings import (
    delete_recording,
    recording_status,
    save_recording,
    text_version,
)
from storage.models import AuditEntry, Recording, StaffUser
from storage.recordings import recording, recordings_of
from tests.audio_files import opus

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


async def test_a_recording_is_stored_replaced_and_removed(sessions, make_staff):
    admin_id = (await make_staff(role="admin")).id
    async with sessions.begin() as session:
        admin = await session.get(StaffUser, admin_id)
        await _stored_replaced_removed(session, admin)


async def _stored_replaced_removed(session, admin):
    audio = await to_voice(opus(1.0))
    await save_recording(
        session, actor=admin, subject="content", key="kim", code="ar",
        audio=audio, text="KIM\nText", now=NOW,
    )  # fmt: skip
    await save_recording(
        session, actor=admin, subject="content", key="kim", code="ar",
        audio=audio, text="KIM\nNeu", now=NOW,
    )  # fmt: skip
    assert await session.scalar(select(func.count()).select_from(Recording)) == 1
    found = await recording(session, subject="content", key="kim", locale="ar", with_audio=True)
    assert found is not None and found.audio == audio.data and found.seconds == 1
    assert found.text_version == text_version("KIM\nNeu")
    listed = await recordings_of(session, subject="content", keys=["kim", "other"])
    assert list(listed) == [("kim", "ar")]
    await delete_recording(session, actor=admin, subject="content", key="kim", code="ar")
    assert await session.scalar(select(func.count()).select_from(Recording)) == 0
    actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["recording.saved", "recording.saved", "recording.deleted"]


async def test_a_changed_text_makes_the_recording_outdated(sessions, make_staff):
    admin_id = (await make_staff(role="admin")).id
    async with sessions.begin() as session:
        admin = await session.get(StaffUser, admin_id)
        await _outdated(session, admin)


async def _outdated(session, admin):
    saved = await save_recording(
        session, actor=admin, subject="template", key="room_changed", code="fa",
        audio=await to_voice(opus(1.0)), text="Neuer Raum: {place}", now=NOW,
    )  # fmt: skip
    assert recording_status(saved, "Neuer Raum: {place}") == "current"
    assert recording_status(saved, " Neuer Raum: {place}\n") == "current"
    assert recording_status(saved, "Neuer Raum ab heute: {place}") == "outdated"
    assert recording_status(saved, None) == "outdated"
    assert recording_status(None, "Neuer Raum: {place}") == "none"


async def test_a_coach_may_not_store_or_remove_a_recording(sessions, make_staff):
    coach_id = (await make_staff()).id
    async with sessions.begin() as session:
        coach = await session.get(StaffUser, coach_id)
        await _refused(session, coach)


async def _refused(session, coach):
    with pytest.raises(UserError):
        await save_recording(
            session, actor=coach, subject="content", key="kim", code="ar",
            audio=await to_voice(opus(1.0)), text="x", now=NOW,
        )  # fmt: skip
    with pytest.raises(UserError):
        await delete_recording(session, actor=coach, subject="content", key="kim", code="ar")
    assert await session.scalar(select(func.count()).select_from(Recording)) == 0
