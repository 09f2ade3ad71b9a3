"""🔊 Listen end to end through the fake Bot API: where a current recording in the
participant's language exists, a "what comes next" entry and a group message from a ready
template carry 🔊; pressing it puts exactly one voice message in their chat. Without a
recording in their language, or with an outdated one, there is no 🔊, and an old button
gets a clear answer and nothing else."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from bot.features.broadcasts import actions
from bot.features.broadcasts.render import template_text
from bot.features.next_steps import save_text, seed_demo_content, spoken_text
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.audio import to_voice
from bot.plumbing.recordings import LISTEN, RECORDING_GONE, save_recording
from bot.web.app import create_app
from storage.models import ContentEntry, ContentNode, StaffUser
from storage.types import utcnow
from tests.audio_files import opus, sine
from tests.helpers import data_of, labels, tr
from tests.test_webchat import ChatClient


@pytest.fixture
async def web(settings, sessions, router):
    """A browser's HTTP client on the web chat (as in tests/test_webchat.py)."""
    transport = httpx.ASGITransport(app=create_app(settings, sessions, router))
    async with ChatClient(
        transport=transport, base_url="http://testserver", follow_redirects=True
    ) as client:
        yield client


@pytest.fixture
async def admin(make_staff) -> StaffUser:
    return await make_staff(role="admin")


async def _record(sessions, admin, *, subject, key, code, text, data) -> bytes:
    """Store a recording as the staff web does (converted first); its OGG/Opus bytes."""
    audio = await to_voice(data)
    async with sessions.begin() as session:
        await save_recording(
            session, actor=await session.get(StaffUser, admin.id), subject=subject, key=key,
            code=code, audio=audio, text=text, now=utcnow(),
        )  # fmt: skip
    return audio.data


def _voices(fake, chat_id: int) -> list[dict]:
    return [m for m in fake.sent(chat_id) if "voice" in m]


async def test_a_participant_listens_to_an_entry_in_their_language(
    telegram, sessions, admin, make_participant, bind_chat
):
    async with sessions.begin() as session:
        await seed_demo_content(session)
        kim = await session.scalar(select(ContentNode).where(ContentNode.key == "kim"))
        arabic = await session.scalar(
            select(ContentEntry).where(ContentEntry.key == "kim", ContentEntry.locale == "ar")
        )
        text = spoken_text(arabic)
    recorded = await _record(
        sessions, admin, subject="content", key="kim", code="ar", text=text, data=sine(2.0)
    )
    amina = await make_participant(locale="ar", accepted=True)
    await bind_chat(amina, 9801)
    user = telegram.fake.user(chat_id=9801, language_code="ar")
    await user.exchange("/next")
    [entry] = await user.press_and_wait(f"ns:{kim.id}")
    assert labels(entry)[0] == tr("ar", LISTEN)
    assert data_of(entry)[0] == f"nl:{kim.id}"
    [voice] = await user.press_and_wait(f"nl:{kim.id}")
    assert voice["voice"]["mime_type"] == "audio/ogg"
    assert voice["voice_content"] == recorded
    assert voice["caption"] == f"🔊 {arabic.title}"
    assert len(_voices(telegram.fake, 9801)) == 1  # exactly one voice message
    assert telegram.fake.count("sendVoice") == 1

    # Someone reading Persian: no recording in Persian, no 🔊.
    samira = await make_participant(locale="fa", accepted=True)
    await bind_chat(samira, 9802)
    other = telegram.fake.user(chat_id=9802, language_code="fa")
    await other.exchange("/next")
    [entry] = await other.press_and_wait(f"ns:{kim.id}")
    assert f"nl:{kim.id}" not in data_of(entry)
    gone, *_ = await other.press_and_wait(f"nl:{kim.id}", force=True)
    assert gone["text"] == tr("fa", RECORDING_GONE)
    assert _voices(telegram.fake, 9802) == []


async def test_an_outdated_recording_is_not_offered(
    telegram, sessions, admin, make_participant, bind_chat
):
    async with sessions.begin() as session:
        await seed_demo_content(session)
        kim = await session.scalar(select(ContentNode).where(ContentNode.key == "kim"))
        arabic = await session.scalar(
            select(ContentEntry).where(ContentEntry.key == "kim", ContentEntry.locale == "ar")
        )
        text = spoken_text(arabic)
    await _record(
        sessions, admin, subject="content", key="kim", code="ar", text=text, data=opus(1.0)
    )
    async with sessions.begin() as session:  # the Arabic text changes after the recording
        await save_text(
            session, actor=await session.get(StaffUser, admin.id), node_id=kim.id, code="ar",
            title="كيم", body="نص جديد عن إدارة الحالات.", now=utcnow(),
        )  # fmt: skip
    amina = await make_participant(locale="ar", accepted=True)
    await bind_chat(amina, 9803)
    user = telegram.fake.user(chat_id=9803, language_code="ar")
    await user.exchange("/next")
    [entry] = await user.press_and_wait(f"ns:{kim.id}")
    assert "نص جديد" in entry["text"]
    assert f"nl:{kim.id}" not in data_of(entry)
    gone, *_ = await user.press_and_wait(f"nl:{kim.id}", force=True)
    assert gone["text"] == tr("ar", RECORDING_GONE)
    assert _voices(telegram.fake, 9803) == []


async def test_a_group_message_from_a_template_offers_its_recording(
    telegram, sessions, settings, admin, make_participant, bind_chat
):
    recorded = await _record(
        sessions, admin, subject="template", key="bring_documents", code="ti",
        text=template_text("bring_documents", "ti"), data=sine(1.5, ".mp3"),
    )  # fmt: skip
    people = {}
    for chat_id, code in ((9811, "ti"), (9812, "de")):
        people[code] = await make_participant(locale=code, accepted=True, coach_id=admin.id)
        await bind_chat(people[code], chat_id)
    outsider = await make_participant(locale="ti", accepted=True)
    await bind_chat(outsider, 9813)
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, admin.id)
        draft = await actions.start_broadcast(session, actor=actor, now=utcnow())
        await actions.choose_segment(session, actor=actor, broadcast_id=draft.id, kind="caseload")
        await actions.set_content(
            session, actor=actor, broadcast_id=draft.id, template="bring_documents"
        )
        await actions.queue_broadcast(
            session, actor=actor, broadcast_id=draft.id, send_at=utcnow(), now=utcnow()
        )
    dispatcher = Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    )
    await dispatcher.drain()
    [tigrinya] = telegram.fake.sent(9811)
    assert labels(tigrinya) == [tr("ti", LISTEN)]
    assert data_of(tigrinya) == [f"bc:l:{draft.id}"]
    [german] = telegram.fake.sent(9812)
    assert labels(german) == []  # no German recording: no 🔊

    user = telegram.fake.user(chat_id=9811, language_code="ti")
    [voice] = await user.press_and_wait(f"bc:l:{draft.id}")
    assert voice["voice_content"] == recorded
    assert len(_voices(telegram.fake, 9811)) == 1

    # Someone the message was not sent to gets no recording by pressing a forged button.
    stranger = telegram.fake.user(chat_id=9813, language_code="ti")
    await stranger.exchange("/help")
    gone, *_ = await stranger.press_and_wait(f"bc:l:{draft.id}", force=True)
    assert gone["text"] == tr("ti", RECORDING_GONE)
    assert _voices(telegram.fake, 9813) == []


async def test_in_the_web_chat_the_recording_plays_in_the_page(
    web, sessions, admin, make_participant, make_invite
):
    """The web chat has no voice messages: the recording comes with a player."""
    async with sessions.begin() as session:
        await seed_demo_content(session)
        kim = await session.scalar(select(ContentNode).where(ContentNode.key == "kim"))
        ukrainian = await session.scalar(
            select(ContentEntry).where(ContentEntry.key == "kim", ContentEntry.locale == "uk")
        )
        text = spoken_text(ukrainian)
    recorded = await _record(
        sessions, admin, subject="content", key="kim", code="uk", text=text, data=opus(1.0)
    )
    olena = await make_participant(accepted=True, locale="uk")
    invite = await make_invite(olena)
    await web.post("/chat", data={"start": invite.token})
    page = await web.post("/chat", data={"cb": f"ns:{kim.id}"})
    assert f"nl:{kim.id}" in page.text  # the 🔊 button
    page = await web.post("/chat", data={"cb": f"nl:{kim.id}"})
    players = re.findall(r'<audio controls preload="none" src="(/chat/file/\d+)"', page.text)
    assert len(players) == 1
    played = await web.get(players[0])
    assert played.content == recorded
