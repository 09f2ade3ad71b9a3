"""Onboarding end to end: the real PTB client polling the fake Bot API, a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.features.onboarding.chat import NOT_CONNECTED, PRIVACY_NOTICE, TOO_MANY_CODES
from bot.features.onboarding.invites import ALREADY_USED, BAD_CODE, EXPIRED
from bot.i18n import LANGUAGES
from bot.plumbing.menu import HELP_INTRO, HELP_NOT_CONNECTED, HELP_OUTRO
from storage.models import AuditEntry, ChannelIdentity, Invite, Participant
from tests.helpers import ARABIC_SCRIPT, CYRILLIC, data_of, labels, tr


async def _identities(sessions) -> list[ChannelIdentity]:
    async with sessions() as session:
        return list((await session.scalars(select(ChannelIdentity))).all())


async def _participant(sessions, participant_id: int) -> Participant:
    async with sessions() as session:
        participant = await session.get(Participant, participant_id)
        assert participant is not None
        return participant


@pytest.mark.parametrize(
    ("client_language", "choice", "script"),
    [("de", "de", None), ("ar", "ar", ARABIC_SCRIPT), ("en", "uk", CYRILLIC)],
)
async def test_join_with_invite_link(
    telegram, sessions, make_participant, make_invite, client_language, choice, script
):
    """Invite link → language menu → privacy notice → main menu, in the chosen language."""
    participant = await make_participant(display_name="Olena")
    invite = await make_invite(participant)
    user = telegram.fake.user(chat_id=5001, first_name="Olena", language_code=client_language)

    [menu] = await user.exchange(f"/start {invite.token}")
    # The language menu: all 14 native names; the client's language is preselected.
    assert len(labels(menu)) == len(LANGUAGES)
    native = {language.code: language.native_name for language in LANGUAGES}
    assert f"✓ {native[client_language]}" in labels(menu)
    assert set(data_of(menu)) == {f"lang:{language.code}" for language in LANGUAGES}
    greeting = "Hello! I am Wegweiser, the bot of your programme. Please choose your language."
    assert menu["text"] == tr(client_language, greeting)
    # Bound, but nothing else stored before consent.
    [identity] = await _identities(sessions)
    assert identity.external_id == "5001" and identity.participant_id == participant.id
    assert (await _participant(sessions, participant.id)).locale is None

    [notice] = await user.press_and_wait(f"lang:{choice}")
    assert notice["event"] == "edited"
    assert notice["text"] == tr(choice, PRIVACY_NOTICE)
    if script is not None:
        assert script.search(notice["text"])
    assert labels(notice) == [tr(choice, "✅ Yes, I agree"), tr(choice, "❌ No")]
    assert (await _participant(sessions, participant.id)).privacy_accepted_at is None

    done, main_menu = await user.press_and_wait(f"pv:ok:{choice}")
    assert done["text"] == tr(choice, "Thank you! You are connected now.")
    expected_name = "\u2068Olena\u2069" if choice == "ar" else "Olena"
    assert main_menu["text"] == tr(choice, "Hello {name}! What do you need?", name=expected_name)
    assert tr(choice, "📅 My appointments") in labels(main_menu)
    stored = await _participant(sessions, participant.id)
    assert stored.locale == choice and stored.privacy_accepted_at is not None
    async with sessions() as session:
        used = await session.scalar(select(Invite.used_at))
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert used is not None
    assert {"invite.used", "privacy.accepted"} <= set(actions)


async def test_token_is_single_use(telegram, sessions, make_participant, make_invite):
    """A second chat opening the same link is told it was used; nothing is bound."""
    participant = await make_participant()
    invite = await make_invite(participant)
    first = telegram.fake.user(chat_id=6001, language_code="de")
    await first.exchange(f"/start {invite.token}")
    second = telegram.fake.user(chat_id=6002, language_code="uk")
    [answer] = await second.exchange(f"/start {invite.token}")
    assert answer["text"] == tr("uk", ALREADY_USED)
    assert CYRILLIC.search(answer["text"])
    assert [i.external_id for i in await _identities(sessions)] == ["6001"]


@pytest.mark.parametrize("code", ["de", "ar", "uk"])
async def test_bad_tokens_get_clear_answers_and_store_nothing(
    telegram, sessions, make_participant, make_invite, code
):
    """Forged, expired and missing tokens: a clear reply in the user's language, no binding."""
    participant = await make_participant()
    expired = await make_invite(participant, age=timedelta(days=15), valid_days=14)
    user = telegram.fake.user(chat_id=7001, language_code=code)

    [forged] = await user.exchange("/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert forged["text"] == tr(code, BAD_CODE)
    [garbage] = await user.exchange("/start ../../etc/passwd")
    assert garbage["text"] == tr(code, BAD_CODE)
    [late] = await user.exchange(f"/start {expired.token}")
    assert late["text"] == tr(code, EXPIRED)
    [missing] = await user.exchange("/start")
    assert missing["text"] == tr(code, NOT_CONNECTED)
    assert await _identities(sessions) == []


async def test_repeated_bad_tokens_are_throttled(
    telegram, sessions, make_participant, make_invite
):
    """After five wrong codes even a valid one is refused for a while, and nothing is bound."""
    participant = await make_participant()
    invite = await make_invite(participant)
    user = telegram.fake.user(chat_id=7101, language_code="de")
    for attempt in range(5):
        [answer] = await user.exchange(f"/start WRONG{attempt:027d}")
        assert answer["text"] == tr("de", BAD_CODE)
    [blocked] = await user.exchange(f"/start {invite.token}")
    assert blocked["text"] == tr("de", TOO_MANY_CODES)
    assert await _identities(sessions) == []
    async with sessions() as session:
        assert await session.scalar(select(Invite.used_at)) is None
    # Another chat is not affected.
    other = telegram.fake.user(chat_id=7102, language_code="de")
    [menu] = await other.exchange(f"/start {invite.token}")
    assert len(labels(menu)) == len(LANGUAGES)


async def test_declining_privacy_unbinds_and_keeps_the_link_usable(
    telegram, sessions, make_participant, make_invite
):
    """ "No" removes the chat binding and stores nothing; the same link works again."""
    participant = await make_participant()
    invite = await make_invite(participant)
    user = telegram.fake.user(chat_id=7201, language_code="ar")
    await user.exchange(f"/start {invite.token}")
    await user.press_and_wait("lang:ar")
    [answer] = await user.press_and_wait("pv:no:ar")
    assert ARABIC_SCRIPT.search(answer["text"])
    assert answer["text"] == tr(
        "ar",
        "OK. We did not store anything, and this chat is not "
        "connected. If you change your mind, open your link again. "
        "Your coach can help you without this bot too.",
    )
    assert await _identities(sessions) == []
    stored = await _participant(sessions, participant.id)
    assert stored.locale is None and stored.privacy_accepted_at is None
    [menu] = await user.exchange(f"/start {invite.token}")
    assert len(labels(menu)) == len(LANGUAGES)


async def test_help_and_language_work_at_any_time(
    telegram, sessions, make_participant, make_invite
):
    """/help and /language answer before joining, during onboarding and after; /help lists
    only the commands that work for the chat at that moment."""
    user = telegram.fake.user(chat_id=7301, language_code="uk")
    [help_text] = await user.exchange("/help")
    assert help_text["text"].split("\n") == [
        tr("uk", HELP_NOT_CONNECTED),
        f"/language – {tr('uk', 'Change the language')}",
        f"/help – {tr('uk', 'Help')}",
    ]
    [menu] = await user.exchange("/language")
    assert len(labels(menu)) == len(LANGUAGES)

    participant = await make_participant(accepted=True, locale="de", display_name="Olena")
    invite = await make_invite(participant)
    joined = telegram.fake.user(chat_id=7302, language_code="de")
    await joined.exchange(f"/start {invite.token}")
    [help_text] = await joined.exchange("/help")
    lines = help_text["text"].split("\n")
    assert lines[0] == tr("de", HELP_INTRO) and lines[-1] == tr("de", HELP_OUTRO)
    assert [line.split(" ")[0] for line in lines[1:-1]] == [
        "/menu",
        "/appointments",
        "/courses",
        "/write",
        "/next",
        "/language",
        "/handover",
        "/privacy",
        "/delete",
        "/stop",
        "/help",
    ]
    assert f"/appointments – {tr('de', 'My next appointments')}" in lines
    # Accepted already (made so by the factory): /start shows the main menu.
    [menu] = await joined.exchange("/language")
    assert "✓ Deutsch" in labels(menu)
    done, main_menu = await joined.press_and_wait("lang:uk")
    assert done["text"] == tr("uk", "Done. I will write to you in English.")
    assert (await _participant(sessions, participant.id)).locale == "uk"
    assert main_menu["text"] == tr("uk", "Hello {name}! What do you need?", name="Olena")


async def test_unfinished_onboarding_is_resumed(telegram, make_participant, make_invite):
    """Typing during onboarding brings back the language menu instead of losing the user."""
    participant = await make_participant()
    invite = await make_invite(participant)
    user = telegram.fake.user(chat_id=7401, language_code="de")
    await user.exchange(f"/start {invite.token}")
    [again] = await user.exchange("Hallo?")
    assert len(labels(again)) == len(LANGUAGES)
    [again] = await user.exchange("/appointments")
    assert len(labels(again)) == len(LANGUAGES)


async def test_bad_input_after_joining(telegram, sessions, make_participant, make_invite):
    """Unknown commands, stickers, long texts and forged buttons: clear answers, no change."""
    participant = await make_participant(accepted=True, locale="ar")
    invite = await make_invite(participant)
    user = telegram.fake.user(chat_id=7501, language_code="ar")
    await user.exchange(f"/start {invite.token}")

    unknown, menu = await user.exchange("/frobnicate")
    assert unknown["text"] == tr(
        "ar", "I do not know this command. Send /help to see what I can do."
    )
    assert tr("ar", "📅 My appointments") in labels(menu)

    long_text, _menu = await user.exchange("x" * 4000)
    assert long_text["text"] == tr(
        "ar", "This message is too long. Please write at most {limit} characters.", limit=1000
    )

    [sticker_answer, _menu] = await user.other_and_wait("sticker")
    assert sticker_answer["text"] == tr(
        "ar", "I can only read text and buttons. Please use the buttons."
    )

    forged = await user.press_and_wait("lang:xx", force=True)
    assert forged[0]["text"] == tr(
        "ar", "This language is not available. Please choose one from the list."
    )
    forged = await user.press_and_wait("zz:1:2:3", force=True)
    assert forged[0]["text"] == tr("ar", "This button no longer works. Please use the menu.")
    assert (await _participant(sessions, participant.id)).locale == "ar"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChannelIdentity)) == 1
