"""Roles and states are StrEnums checked twice: SQLAlchemy refuses a value that is none of
them before the statement leaves (a write or a comparison), and the database's CHECK
constraint refuses it from any other writer. A typo is an error, not a silent no-match."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from storage.models import Broadcast, HandoverRequest, OutboxMessage, Participant, StaffUser
from storage.states import OutboxState, ParticipantStatus, StaffRole


async def test_a_typo_in_a_state_is_an_error_in_code_and_in_the_database(
    sessions, make_participant, make_staff, make_appointment
):
    coach = await make_staff(role="coach")
    person = await make_participant(coach_id=coach.id)
    await make_appointment(person)
    async with sessions.begin() as session:
        session.add(Broadcast(created_by_id=coach.id, segment={}, params={}))
        session.add(HandoverRequest(participant_id=person.id))
    async with sessions() as session:
        loaded = await session.get(Participant, person.id)
        staff = await session.get(StaffUser, coach.id)
        assert loaded.status is ParticipantStatus.ACTIVE and loaded.status == "active"
        assert staff.role is StaffRole.COACH
        # Comparing with a typo fails instead of finding nobody.
        with pytest.raises(StatementError, match="actve"):
            await session.scalars(select(Participant).where(Participant.status == "actve"))
    # Writing one fails before the database sees it.
    with pytest.raises(StatementError, match="ended_"):
        async with sessions.begin() as session:
            (await session.get(Participant, person.id)).status = "ended_"
    with pytest.raises(StatementError, match="sendt"):
        async with sessions.begin() as session:
            session.add(OutboxMessage(participant_id=person.id, template="t", state="sendt"))
    # Another writer (plain SQL, another program) meets the CHECK constraint.
    for statement in (
        "UPDATE participants SET status = 'actve'",
        "UPDATE staff_users SET role = 'superuser'",
        "UPDATE appointments SET response = 'maybe'",
        "UPDATE broadcasts SET state = 'sending'",
        "UPDATE handover_requests SET status = 'closed'",
    ):
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                await session.execute(text(statement))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO outbox (participant_id, template, params, priority, due_at,"
                    " state, attempts, ambiguous, created_at) VALUES (:p, 't', '{}', 1,"
                    " CURRENT_TIMESTAMP, 'sendt', 0, 0, CURRENT_TIMESTAMP)"
                ),
                {"p": person.id},
            )
    async with sessions() as session:
        assert (await session.get(Participant, person.id)).status is ParticipantStatus.ACTIVE
        assert await session.scalar(select(OutboxMessage.id)) is None
    assert OutboxState("inbox") is OutboxState.INBOX
