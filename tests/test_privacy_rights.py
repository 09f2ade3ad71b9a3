"""Privacy rights end to end: /privacy says what is stored and who sees it; /delete erases
the person everywhere, in their language, and leaves nothing in any column or log line."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, Text, select

from bot.features.privacy import DELETE_QUESTION, DELETED
from storage.models import (
    Base,
    ChannelIdentity,
    CoachMessage,
    Enrolment,
    HandoverRequest,
    Invite,
    OutboxMessage,
    Participant,
    SignalMenu,
    VoiceMessage,
    WebChatEntry,
    WebChatKey,
)
from storage.types import utcnow
from tests.helpers import data_of, labels, tr

NAME = "Zainab Qasemi"
REASON = "my sister's wedding in Dortmund"
CHAT = 7301
WEB = "w" + "7" * 40
SIGNAL = "5e1f0000-aaaa-4bbb-8ccc-zainab000001"
RECORDING = b"OggS zainab's voice"


async def _texts_everywhere(sessions) -> list[str]:
    """Every text and JSON value of every row of every table, as strings."""
    found: list[str] = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            if not columns:
                continue
            for row in (await session.execute(select(*columns))).all():
                found.extend(
                    json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                    for value in row
                    if value is not None
                )
    return found


@pytest.fixture
async def person(make_staff, make_participant, bind_chat, make_appointment, make_course, sessions):
    """A participant with a chat, a declined appointment with a reason, a course, an open
    invite, pushes and a hand-over request: data in every table that can hold some."""
    coach = await make_staff(display_name="Miriam Hoffmann")
    participant = await make_participant(
        display_name=NAME, locale="fa", accepted=True, coach_id=coach.id
    )
    await bind_chat(participant, CHAT)
    declined = await make_appointment(
        participant, response="declined", response_note=REASON, response_at=utcnow()
    )
    await make_appointment(participant, starts_in=timedelta(days=3))
    await make_course(slots=[(0, "09:00", "12:00")], participants=[participant])
    async with sessions.begin() as session:
        session.add(
            Invite(
                participant_id=participant.id,
                token_hash="f" * 64,
                expires_at=utcnow() + timedelta(days=3),
            )
        )
        session.add(
            OutboxMessage(
                staff_id=coach.id,
                template="appointment.answer",
                subject_type="appointment",
                subject_id=declined.id,
                params={"response": "declined"},
            )
        )
        session.add(
            OutboxMessage(
                participant_id=participant.id,
                template="appointment.reminder",
                subject_type="appointment",
                subject_id=declined.id,
                params={"offset": "2h"},
            )
        )
        session.add(HandoverRequest(participant_id=participant.id, consent_at=utcnow()))
        # Her other chats: a web chat with its stored transcript, and Signal with its menu.
        session.add(ChannelIdentity(participant_id=participant.id, channel="web", external_id=WEB))
        session.add(WebChatKey(chat_id=WEB))
        session.add(WebChatEntry(chat_id=WEB, sender="bot", text=f"Hallo {NAME}!"))
        session.add(
            ChannelIdentity(participant_id=participant.id, channel="signal", external_id=SIGNAL)
        )
        session.add(SignalMenu(chat_id=SIGNAL, options=["ap:c:1"]))
        session.add(
            CoachMessage(participant_id=participant.id, direction="in", body=f"{REASON}, sorry")
        )
        # A voice message to her coach: the recording is a message without text.
        spoken = CoachMessage(participant_id=participant.id, direction="in", body="")
        session.add(spoken)
        await session.flush()
        session.add(
            VoiceMessage(
                message_id=spoken.id,
                participant_id=participant.id,
                duration_seconds=4,
                size_bytes=len(RECORDING),
                mime_type="audio/ogg",
                content=RECORDING,
            )
        )
    return participant


async def test_privacy_says_who_sees_the_data(telegram, person):
    user = telegram.fake.user(chat_id=CHAT, language_code="fa")
    [reply] = await user.exchange("/privacy")
    assert (
        tr(
            "fa",
            "Who sees it: your coach and the programme team. Nobody else.\n"
            "To delete everything: /delete",
        )
        in reply["text"]
    )
    assert NAME in reply["text"]


async def test_delete_asks_first_and_no_keeps_everything(telegram, person, sessions):
    user = telegram.fake.user(chat_id=CHAT, language_code="fa")
    [question] = await user.exchange("/delete")
    assert question["text"] == tr("fa", DELETE_QUESTION)
    assert labels(question) == [
        tr("fa", "🗑 Yes, delete everything"),
        tr("fa", "↩️ No, keep my data"),
    ]
    [kept] = await user.press_and_wait("pv:dn")
    assert kept["text"] == tr("fa", "Good. Nothing was deleted.")
    async with sessions() as session:
        assert (await session.get(Participant, person.id)).display_name == NAME


async def test_delete_erases_every_trace_and_keeps_only_anonymous_counts(
    telegram, person, sessions, caplog
):
    caplog.set_level(logging.INFO)
    before = await _texts_everywhere(sessions)
    assert any(NAME in value for value in before) and any(REASON in v for v in before)

    user = telegram.fake.user(chat_id=CHAT, language_code="fa")
    [question] = await user.exchange("/delete")
    assert "pv:dy" in data_of(question)
    [done] = await user.press_and_wait("pv:dy")
    assert done["text"] == tr("fa", DELETED)  # still in their language

    after = await _texts_everywhere(sessions)
    for secret in (NAME, "Zainab", REASON, str(CHAT), SIGNAL):
        leaks = [value for value in after if secret in value]
        assert leaks == [], f"{secret!r} still stored: {leaks[:3]}"
    async with sessions() as session:
        row = await session.get(Participant, person.id)
        assert row.status == "deleted" and row.module_id == person.module_id  # counts stay
        for model in (
            Enrolment,
            Invite,
            HandoverRequest,
            OutboxMessage,
            WebChatEntry,
            CoachMessage,
            VoiceMessage,
        ):
            assert (await session.scalars(select(model))).all() == []
    # Writing again: the chat is a stranger now and is told how to join.
    [again] = await user.exchange("/appointments")
    assert NAME not in again["text"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (NAME, REASON, str(CHAT)):
        assert secret not in logged


async def test_the_export_carries_the_voice_recording(person, sessions):
    """Art. 15: the recording is in the export, as base64 with its kind and length."""
    import base64

    from bot.features.privacy import export_participant

    async with sessions() as session:
        data = await export_participant(session, participant_id=person.id)
    [written, spoken] = data["messages_with_the_coach"]
    assert written["voice"] is None
    assert spoken["voice"]["mime_type"] == "audio/ogg" and spoken["voice"]["seconds"] == 4
    assert base64.b64decode(spoken["voice"]["base64"]) == RECORDING
    json.dumps(data)  # JSON-ready


async def test_a_forged_delete_press_from_a_stranger_erases_nothing(telegram, person, sessions):
    stranger = telegram.fake.user(chat_id=9999, language_code="de")
    await stranger.exchange("/start")  # any message to press on
    [answer] = await stranger.press_and_wait("pv:dy", force=True)
    assert NAME not in answer["text"]
    async with sessions() as session:
        assert (await session.get(Participant, person.id)).display_name == NAME


async def test_database_errors_do_not_print_the_values(sessions, make_participant):
    """An error message (which ends up in a log) names the query, never its values."""
    from sqlalchemy.exc import IntegrityError

    from storage.models import ChannelIdentity

    person = await make_participant()
    secret = "chat-4711-of-someone"
    async with sessions.begin() as session:
        session.add(
            ChannelIdentity(participant_id=person.id, channel="telegram", external_id=secret)
        )
    with pytest.raises(IntegrityError) as caught:
        async with sessions.begin() as session:
            session.add(
                ChannelIdentity(participant_id=person.id, channel="telegram", external_id=secret)
            )
    assert secret not in str(caught.value)
