"""The programme's end through the fake Bot API: the last-day message in the person's
language, the hand-over question, consent with exactly the data passed on, the request in
the staff web, /handover to see and withdraw, and "no" that can be changed later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.features.handover import CONSENT, ENDED_TEXT, QUESTION, end_due, plan_programme_end
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.routes import JobContext
from storage.models import (
    AuditEntry,
    HandoverRequest,
    Module,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.types import utcnow
from tests.helpers import data_of, labels, tr


@pytest.fixture
async def leaving(make_staff, make_participant, bind_chat, sessions):
    """Amina (Arabic, PfaFF) with a chat, whose coach plans her last day for today."""
    coach = await make_staff(display_name="Anna Becker", role="coach")
    async with sessions.begin() as session:
        module = Module(code="pfaff", name_de="PfaFF – Pflegeausbildung")
        session.add(module)
        await session.flush()
        module_id = module.id
    amina = await make_participant(
        display_name="Amina", locale="ar", accepted=True, coach_id=coach.id, module_id=module_id
    )
    await bind_chat(amina, 8801)
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, coach.id)
        today = utcnow().date()
        assert (
            await plan_programme_end(
                session, actor=actor, participant_ids=[amina.id], ends_on=today
            )
            == 1
        )
    return amina


async def _end_and_send(telegram, sessions, settings) -> int:
    ended = await end_due(JobContext(sessions=sessions, settings=settings, now=utcnow()))
    dispatcher = Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    )
    await dispatcher.drain()
    return ended


async def test_last_day_message_consent_and_the_request_for_staff(
    telegram, sessions, settings, leaving
):
    assert await _end_and_send(telegram, sessions, settings) == 1
    user = telegram.fake.user(chat_id=8801, language_code="ar")
    [notice] = user.messages()
    assert tr("ar", ENDED_TEXT) in notice["text"] and tr("ar", QUESTION) in notice["text"]
    assert labels(notice) == [tr("ar", "✅ Yes, please"), tr("ar", "❌ No, thank you")]
    async with sessions() as session:
        assert (await session.get(Participant, leaving.id)).status == "ended"
    # Running the job again sends nothing twice.
    assert await _end_and_send(telegram, sessions, settings) == 0

    [consent] = await user.press_and_wait("ho:yes")
    expected = tr(
        "ar",
        CONSENT,
        name="\u2068Amina\u2069",
        language="\u2068العربية\u2069",
        module="\u2068PfaFF – Pflegeausbildung\u2069",
        coach="\u2068Anna Becker\u2069",
    )
    assert consent["text"] == expected
    async with sessions() as session:  # nothing is passed on before "I agree"
        assert (await session.scalars(select(HandoverRequest))).all() == []
    [status] = await user.press_and_wait("ho:ok")
    assert "ho:wd" in data_of(status)
    async with sessions() as session:
        [request] = (await session.scalars(select(HandoverRequest))).all()
        assert request.status == "open" and request.consent_at is not None

    # /handover shows the status; withdrawing takes it back.
    [shown] = await user.exchange("/handover")
    status_text = (
        "You asked to be handed over to KIM. Your request is with the team. KIM will contact you."
    )
    assert shown["text"].startswith(tr("ar", status_text))
    [withdrawn] = await user.press_and_wait("ho:wd")
    assert "ho:yes" in data_of(withdrawn)  # can ask again
    async with sessions() as session:
        assert (await session.get(HandoverRequest, request.id)).status == "withdrawn"
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "handover.consented" in actions and "handover.withdrawn" in actions


async def test_no_is_respected_and_can_be_changed(telegram, sessions, settings, leaving):
    await _end_and_send(telegram, sessions, settings)
    user = telegram.fake.user(chat_id=8801, language_code="ar")
    assert "ho:no" in data_of(user.messages()[-1])
    [answer] = await user.press_and_wait("ho:no")
    assert answer["text"] == tr(
        "ar", "Okay. We pass on nothing. If you change your mind, send /handover."
    )
    async with sessions() as session:
        [declined] = (await session.scalars(select(HandoverRequest))).all()
        assert declined.status == "declined" and declined.consent_at is None
    [status] = await user.exchange("/handover")
    assert (
        tr("ar", "You said no to a hand-over to KIM. You can change your mind.") in status["text"]
    )
    await user.press_and_wait("ho:yes")
    await user.press_and_wait("ho:ok")
    async with sessions() as session:
        statuses = sorted(r.status for r in (await session.scalars(select(HandoverRequest))).all())
    assert statuses == ["declined", "open"]


async def test_a_planned_end_tomorrow_does_not_end_today(sessions, settings, make_participant):
    person = await make_participant(accepted=True)
    async with sessions.begin() as session:
        row = await session.get(Participant, person.id)
        row.ends_on = utcnow().date() + timedelta(days=2)
    assert await end_due(JobContext(sessions=sessions, settings=settings, now=utcnow())) == 0
    async with sessions() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []
