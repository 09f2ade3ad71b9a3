"""Voice messages between a participant and their coach, end to end through the fake Bot
API: the participant's voice reaches the coach's linked chat exactly once as a voice
message with "↩️ Reply"; the coach's spoken answer reaches the participant as a voice
message; outside "write to my coach" it is sent only after one confirmation; a voice
message over the limits gets a clear answer and nothing is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.features.contact import NOT_ARRIVED, TOO_LONG, prune_drafts
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.messages import MAX_AUDIO_SECONDS
from storage.identities import bind_identity
from storage.models import CoachMessage, VoiceMessage
from tests.helpers import data_of, labels, tr

SPOKEN = b"OggS\x00\x02 dawit asks about monday"
ANSWERED = b"OggS\x00\x02 miriam says yes"


async def _drain(telegram, sessions, settings) -> None:
    await Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    ).drain()


@pytest.fixture
async def people(make_staff, make_participant, bind_chat, sessions, telegram, settings):
    """Dawit (Tigrinya) with coach Miriam (German, linked chat 9701); the office open."""
    miriam = await make_staff(display_name="Miriam Hoffmann", locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9701", staff_id=miriam.id)
    dawit = await make_participant(
        display_name="Dawit", locale="ti", accepted=True, coach_id=miriam.id
    )
    await bind_chat(dawit, 9711)
    telegram.router.settings = settings.model_copy(
        update={"office_hours": "00:00-23:59", "office_days": "0,1,2,3,4,5,6"}
    )
    return dawit, miriam


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_voice_message_reaches_the_coach_once_and_the_spoken_answer_comes_back(
    telegram, sessions, settings, people
):
    dawit_chat = telegram.fake.user(chat_id=9711, language_code="ti")
    await dawit_chat.exchange("/write")
    [sent] = await dawit_chat.voice_and_wait(SPOKEN, duration=5)
    assert sent["text"].startswith(
        tr("ti", "Sent ✅ {coach} gets your message.", coach="Miriam Hoffmann")
    )
    await _drain(telegram, sessions, settings)
    await _drain(telegram, sessions, settings)  # a second run sends nothing again

    coach_chat = telegram.fake.user(chat_id=9701, language_code="de")
    [notice] = coach_chat.messages()  # exactly once
    assert notice["voice_content"] == SPOKEN and notice["voice"]["duration"] == 5
    assert notice["caption"] == tr("de", "🎤 Voice message from {name}", name="Dawit")
    assert labels(notice) == [tr("de", "↩️ Reply")]
    assert telegram.fake.count("sendVoice", 200) == 1
    # No file id is kept: only the bytes, with their kind and length.
    async with sessions() as session:
        [recording] = (await session.scalars(select(VoiceMessage))).all()
        assert (recording.content, recording.duration_seconds) == (SPOKEN, 5)
        assert recording.size_bytes == len(SPOKEN)

    # Miriam answers by voice after "Reply".
    [reply_data] = data_of(notice)
    await coach_chat.press_and_wait(reply_data)
    [done] = await coach_chat.voice_and_wait(ANSWERED, duration=3)
    assert done["text"] == tr("de", "Sent to {name} ✅", name="Dawit")
    await _drain(telegram, sessions, settings)

    answer = dawit_chat.messages()[-1]
    assert answer["voice_content"] == ANSWERED
    assert answer["caption"] == tr("ti", "🎤 Answer from {coach}", coach="Miriam Hoffmann")
    assert labels(answer) == [tr("ti", "✉️ Write back")]
    assert [m for m in dawit_chat.messages() if "voice" in m] == [answer]


async def test_outside_a_question_the_participant_confirms_once(
    telegram, sessions, settings, people
):
    dawit_chat = telegram.fake.user(chat_id=9711, language_code="ti")
    [question] = await dawit_chat.voice_and_wait(SPOKEN)
    assert question["text"] == tr(
        "ti", "Send this voice message to {coach}?", coach="Miriam Hoffmann"
    )
    assert labels(question) == [tr("ti", "✅ Yes, send it"), tr("ti", "↩️ No")]
    yes = data_of(question)[0]
    [sent] = await dawit_chat.press_and_wait(yes)
    assert sent["text"].startswith(
        tr("ti", "Sent ✅ {coach} gets your message.", coach="Miriam Hoffmann")
    )
    [again] = await dawit_chat.press_and_wait(yes, force=True)  # a second press sends nothing
    assert again["text"] == tr("ti", "This voice message is no longer here. Please send it again.")
    await _drain(telegram, sessions, settings)
    coach_chat = telegram.fake.user(chat_id=9701, language_code="de")
    assert [m["voice_content"] for m in coach_chat.messages()] == [SPOKEN]
    assert await _count(sessions, CoachMessage) == 1

    # "No": nothing is sent and the recording goes.
    [question] = await dawit_chat.voice_and_wait(b"OggS never mind")
    [kept] = await dawit_chat.press_and_wait(data_of(question)[1])
    assert kept["text"] == tr("ti", "Okay, nothing was sent.")
    assert await _count(sessions, VoiceMessage) == 1


async def test_a_too_long_voice_message_is_refused_and_nothing_is_stored(
    telegram, sessions, settings, people
):
    dawit_chat = telegram.fake.user(chat_id=9711, language_code="ti")
    await dawit_chat.exchange("/write")
    downloads = telegram.fake.count("download", 200)
    [refused] = await dawit_chat.voice_and_wait(b"OggS long", duration=MAX_AUDIO_SECONDS + 1)
    assert refused["text"] == tr("ti", TOO_LONG, limit=MAX_AUDIO_SECONDS // 60)
    assert telegram.fake.count("download", 200) == downloads  # not even fetched
    assert await _count(sessions, VoiceMessage) == 0
    assert await _count(sessions, CoachMessage) == 0


async def test_a_voice_message_that_does_not_download_is_asked_again(
    telegram, sessions, settings, people
):
    dawit_chat = telegram.fake.user(chat_id=9711, language_code="ti")
    await dawit_chat.exchange("/write")
    telegram.fake.fail_next("getFile", 500)
    [lost] = await dawit_chat.voice_and_wait(SPOKEN)
    assert lost["text"] == tr("ti", NOT_ARRIVED)
    assert await _count(sessions, VoiceMessage) == 0
    # The question is still open: sent again, it goes.
    [sent] = await dawit_chat.voice_and_wait(SPOKEN)
    assert sent["text"].startswith(
        tr("ti", "Sent ✅ {coach} gets your message.", coach="Miriam Hoffmann")
    )


async def test_outside_office_hours_a_voice_message_says_when_to_expect_an_answer(
    telegram, sessions, settings, people
):
    telegram.router.settings = settings.model_copy(
        update={"office_hours": "08:00-08:01", "office_days": "0"}
    )
    dawit_chat = telegram.fake.user(chat_id=9711, language_code="ti")
    await dawit_chat.exchange("/write")
    [sent] = await dawit_chat.voice_and_wait(SPOKEN)
    closed = tr("ti", "The office is closed now. Expect an answer from {when}.", when="X")
    assert closed.split("X")[0] in sent["text"]


async def test_a_coach_voice_without_reply_and_a_strangers_voice_store_nothing(
    telegram, sessions, settings, people
):
    coach_chat = telegram.fake.user(chat_id=9701, language_code="de")
    [hint] = await coach_chat.voice_and_wait(ANSWERED)
    assert hint["text"] == tr("de", "To answer by voice, press ↩️ Reply under a message first.")
    stranger = telegram.fake.user(chat_id=9799, language_code="de")
    [welcome] = await stranger.voice_and_wait(SPOKEN)
    assert "voice" not in welcome
    assert await _count(sessions, VoiceMessage) == 0


async def test_an_unconfirmed_voice_message_is_gone_after_a_day(
    telegram, sessions, settings, people, clock
):
    from bot.plumbing.routes import JobContext
    from storage.types import utcnow

    dawit_chat = telegram.fake.user(chat_id=9711, language_code="ti")
    await dawit_chat.voice_and_wait(SPOKEN)
    context = JobContext(sessions=sessions, settings=settings, now=utcnow())
    assert await prune_drafts(context) == 0
    later = JobContext(sessions=sessions, settings=settings, now=utcnow() + timedelta(hours=25))
    assert await prune_drafts(later) == 1
    assert await _count(sessions, VoiceMessage) == 0
