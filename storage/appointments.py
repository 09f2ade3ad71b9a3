"""Queries for appointments and course enrolments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appointment, Enrolment


async def upcoming_appointments(
    session: AsyncSession, *, participant_id: int, start: datetime, end: datetime | None = None
) -> list[Appointment]:
    """The participant's appointments that are not cancelled and start in [start, end)."""
    query = select(Appointment).where(
        Appointment.participant_id == participant_id,
        Appointment.cancelled_at.is_(None),
        Appointment.starts_at >= start,
    )
    if end is not None:
        query = query.where(Appointment.starts_at < end)
    return list((await session.scalars(query.order_by(Appointment.starts_at))).all())


async def get_appointment(
    session: AsyncSession, *, appointment_id: int, for_update: bool = False
) -> Appointment | None:
    """One appointment by id, optionally locked for a state change."""
    query = select(Appointment).where(Appointment.id == appointment_id)
    if for_update:
        query = query.with_for_update(of=Appointment)
    return await session.scalar(query)


async def enrolments_of(session: AsyncSession, *, participant_id: int) -> list[Enrolment]:
    """The participant's course enrolments with their courses, by title."""
    query = select(Enrolment).where(Enrolment.participant_id == participant_id)
    enrolments = (await session.scalars(query)).unique().all()
    return sorted(enrolments, key=lambda e: e.course.title)


async def get_enrolment(
    session: AsyncSession, *, participant_id: int, course_id: int
) -> Enrolment | None:
    """The participant's enrolment in one course, or None."""
    return await session.scalar(
        select(Enrolment).where(
            Enrolment.participant_id == participant_id, Enrolment.course_id == course_id
        )
    )
