"""Defects found by trying the bot as a new user and as an attacker would; each test failed
before the fix. Races run through the router concurrently, the rest through the fake Bot API.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.features.onboarding.invites import ALREADY_CONNECTED, ALREADY_USED
from bot.i18n import translator
from bot.plumbing.errors import STALE_BUTTON
from bot.plumbing.messages import Incoming
from storage.models import Appointment, ChannelIdentity, Enrolment, Invite, OutboxMessage
from tests.helpers import labels, tr

ROUNDS = 10


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_two_chats_opening_one_invite_at_once_bind_one(
    router, sessions, make_participant, make_invite
):
    """One conditional UPDATE redeems: of two racing chats exactly one wins, every round."""
    for round_number in range(ROUNDS):
        participant = await make_participant()
        invite = await make_invite(participant)
        opened = f"/start {invite.token}"
        first, second = await asyncio.gather(
            router.handle(Incoming("telegram", f"{round_number}01", text=opened)),
            router.handle(Incoming("telegram", f"{round_number}02", text=opened)),
        )
        texts = sorted([first[0].text, second[0].text])
        greeting = tr(
            "en", "Hello! I am Wegweiser, the bot of your programme. Please choose your language."
        )
        assert texts == sorted([greeting, tr("en", ALREADY_USED)]), round_number
        async with sessions() as session:
            bound = await session.scalar(
                select(func.count())
                .select_from(ChannelIdentity)
                .where(ChannelIdentity.participant_id == participant.id)
            )
        assert bound == 1, round_number


async def test_a_double_click_on_the_link_reads_as_already_connected(
    router, sessions, make_participant, make_invite
):
    participant = await make_participant()
    invite = await make_invite(participant)
    opened = Incoming("web", "w-double", text=f"/start {invite.token}", language_code="de")
    first, second = await asyncio.gather(router.handle(opened), router.handle(opened))
    texts = {first[0].text, second[0].text}
    assert tr("de", ALREADY_CONNECTED) in texts
    assert len(texts) == 2  # the other one is the language menu
    assert await _count(sessions, ChannelIdentity) == 1


@pytest.mark.parametrize(
    "data",
    [
        "ap:p:²",
        "ap:c:①",
        "co:m:²",
        "ap:c:2147483648",
        "ap:c:-1",
        "ap:c:0",
        "ap:c:1:2",
        "ap:d:1:٣",
        "lang:ar:x",
        "pv:ok",
        "ap",
        ":",
        "",
        "co:m:" + "9" * 60,
    ],
)
async def test_forged_button_data_gets_a_clear_answer(
    telegram, sessions, make_participant, bind_chat, make_appointment, data
):
    """Unicode digits, overflowing ids and wrong shapes never raise; nothing changes."""
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9401)
    await make_appointment(participant)
    user = telegram.fake.user(chat_id=9401, language_code="de")
    await user.exchange("/menu")
    replies = await user.press_and_wait(data, force=True)
    expected = (
        "This language is not available. Please choose one from the list."
        if data.startswith("lang:")
        else STALE_BUTTON
    )
    assert replies[0]["text"] == tr("de", expected)
    async with sessions() as session:
        assert await session.scalar(select(Appointment.response)) is None
    assert await _count(sessions, OutboxMessage) == 0


async def test_a_nul_byte_in_a_reason_is_dropped_not_an_error(
    telegram, sessions, make_participant, bind_chat, make_appointment
):
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9402)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=9402, language_code="de")
    await user.exchange("/appointments")
    await user.press_and_wait(f"ap:x:{appointment.id}")
    [thanks] = await user.exchange("Ich bin\x00 krank")
    assert thanks["text"] == tr("de", "Thank you. Your coach will see your message.")
    async with sessions() as session:
        assert await session.scalar(select(Appointment.response_note)) == "Ich bin krank"


async def test_no_in_one_chat_does_not_reopen_another_chats_invite(
    router, sessions, make_participant, make_invite
):
    """Chat A opened invite 1, chat B invite 2; A says "No": only invite 1 opens again."""
    participant = await make_participant()
    first = await make_invite(participant)
    await router.handle(Incoming("web", "chat-a", text=f"/start {first.token}"))
    second = await make_invite(participant)
    await router.handle(Incoming("web", "chat-b", text=f"/start {second.token}"))
    await router.handle(Incoming("web", "chat-a", callback="pv:no:de"))
    async with sessions() as session:
        invites = (await session.scalars(select(Invite).order_by(Invite.id))).all()
        chats = (await session.scalars(select(ChannelIdentity.external_id))).all()
    assert [invite.used_at is None for invite in invites] == [True, False]
    assert chats == ["chat-b"]
    # B, who did not decline, carries on with its own invite: the notice still shows.
    [notice] = await router.handle(Incoming("web", "chat-b", callback="lang:de"))
    assert notice.text == tr("de", PRIVACY_NOTICE)


async def test_all_to_my_calendar_leaves_out_declined_appointments(
    telegram, make_participant, bind_chat, make_appointment
):
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9403)
    kept = await make_appointment(participant, starts_in=timedelta(days=2))
    await make_appointment(participant, starts_in=timedelta(days=3), response="declined")
    user = telegram.fake.user(chat_id=9403, language_code="de")
    await user.exchange("/menu")
    [document] = await user.press_and_wait("ap:i:all", force=True)
    events = Calendar.from_ical(document["document_content"]).walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [f"appointment-{kept.id}@wegweiser"]
    assert document["caption"] == translator("de").ngettext(
        "Open this file to add {n} appointment to your calendar.",
        "Open this file to add {n} appointments to your calendar.",
        1,
    ).format(n=1)


async def test_a_typed_reason_survives_a_button_from_another_tab(
    telegram, sessions, make_participant, bind_chat, make_appointment
):
    """❌, then an old menu button pressed elsewhere, then the reason: it is stored."""
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9404)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=9404, language_code="de")
    await user.exchange("/appointments")
    await user.press_and_wait(f"ap:x:{appointment.id}")
    await user.press_and_wait("mn:menu", force=True)  # the stale tab
    await user.press_and_wait(f"ap:x:{appointment.id}", force=True)  # "already said so"
    [thanks] = await user.exchange("Ich habe Schule")
    assert thanks["text"] == tr("de", "Thank you. Your coach will see your message.")
    async with sessions() as session:
        assert await session.scalar(select(Appointment.response_note)) == "Ich habe Schule"
        assert await session.scalar(select(ChannelIdentity.awaiting)) is None


async def test_another_coachs_course_and_forged_mute_buttons(
    telegram, sessions, make_participant, bind_chat, make_course
):
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9405)
    stranger = await make_participant(display_name="Other")
    theirs = await make_course(slots=[(1, "13:00", "16:00")], participants=[stranger])
    mine = await make_course(slots=[(2, "09:00", "12:00")], participants=[participant])
    user = telegram.fake.user(chat_id=9405, language_code="de")
    await user.exchange("/menu")
    [answer, _menu] = await user.press_and_wait(f"co:m:{theirs.id}", force=True)
    assert answer["text"] == tr(
        "de", "I cannot find this course. Here are your courses now: /courses"
    )
    for data in ("co:m:x", "co:q:1", f"co:m:{mine.id}:1"):
        replies = await user.press_and_wait(data, force=True)
        assert replies[0]["text"] == tr("de", STALE_BUTTON), data
    async with sessions() as session:
        assert (await session.scalars(select(Enrolment.muted))).all() == [False, False]


async def test_help_before_connecting_lists_only_what_works(telegram):
    user = telegram.fake.user(chat_id=9406, language_code="de")
    [answer] = await user.exchange("/help")
    assert "/appointments" not in answer["text"] and "/courses" not in answer["text"]
    assert "/language" in answer["text"]
    [answer] = await user.exchange("/appointments")
    assert answer["text"] == tr(
        "de",
        "Welcome to Wegweiser! To use this bot you need your personal link from your coach. "
        "Please open that link. You can also send /start and your code.",
    )
    assert labels(answer) == []


async def test_help_in_arabic_keeps_each_command_whole(telegram, make_participant, bind_chat):
    """In right-to-left text "/appointments" is isolated, so its slash stays in front."""
    participant = await make_participant(accepted=True, locale="ar")
    await bind_chat(participant, 9407)
    user = telegram.fake.user(chat_id=9407)
    [answer] = await user.exchange("/help")
    line = f"\u2068/appointments\u2069 – {tr('ar', 'My next appointments')}"
    assert line in answer["text"].split("\n")
