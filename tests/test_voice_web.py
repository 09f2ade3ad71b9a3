"""Voice messages in the staff web over real HTTP: a participant's voice message (sent
through the fake Bot API) waits in the inbox of a coach without a linked chat with a
player; the recording is served only to that coach and admins, never cached; the coach's
uploaded recording reaches the participant's Telegram chat as a voice message; a wrong
file is refused and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.features.staff import accounts
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.messages import MAX_AUDIO_SECONDS
from bot.web.app import create_app
from storage.models import CoachMessage, VoiceMessage
from tests.admin_client import AdminBrowser
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, tr
from tests.ogg_opus import silence

PASSWORD = "correct horse battery"
SPOKEN = silence(2)


async def drain(telegram, sessions, settings) -> None:
    """Send what is due through the fake Bot API."""
    await Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    ).drain()


@pytest.fixture
async def site(settings, sessions, router):
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


@pytest.fixture
async def asked(telegram, sessions, settings, make_staff, make_participant, bind_chat):
    """Dawit's voice message to coach Miriam (no linked chat: it waits in her inbox)."""
    hashed = await accounts.hash_password(PASSWORD)
    miriam = await make_staff(
        email="miriam@example.org", display_name="Miriam", password_hash=hashed
    )
    await make_staff(email="yusuf@example.org", display_name="Yusuf", password_hash=hashed)
    await make_staff(email="admin@example.org", role="admin", password_hash=hashed)
    dawit = await make_participant(
        display_name="Dawit", locale="ti", accepted=True, coach_id=miriam.id
    )
    await bind_chat(dawit, 9811)
    chat = telegram.fake.user(chat_id=9811, language_code="ti")
    await chat.exchange("/write")
    await chat.voice_and_wait(SPOKEN, duration=2)
    await drain(telegram, sessions, settings)
    async with sessions() as session:
        message = await session.scalar(select(CoachMessage))
    return message.id, chat


async def _browser(site: str, email: str) -> AdminBrowser:
    browser = AdminBrowser(site)
    assert (await browser.login(email, PASSWORD)).status_code == 303
    return browser


async def test_the_inbox_plays_it_for_the_coach_and_admins_only(site, asked):
    message_id, _chat = asked
    miriam = await _browser(site, "miriam@example.org")
    yusuf = await _browser(site, "yusuf@example.org")
    admin = await _browser(site, "admin@example.org")
    stranger = AdminBrowser(site)
    try:
        page = await miriam.get("/admin/inbox")
        src = f"/admin/messages/{message_id}/voice"
        assert f'<audio class="voice" controls preload="none" src="{src}">' in page.text
        assert tr("de", "🎤 Voice message from {name}", name="Dawit") in page.text
        played = await miriam.get(src)
        assert played.status_code == 200 and played.content == SPOKEN
        assert played.headers["content-type"] == "audio/ogg"
        assert played.headers["cache-control"] == "no-store"
        assert (await admin.get(src)).content == SPOKEN
        # A player asks for ranges (the end of the file for its length, or to seek).
        tail = await miriam.get(src, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206 and tail.content == SPOKEN[-100:]
        assert (
            tail.headers["content-range"]
            == f"bytes {len(SPOKEN) - 100}-{len(SPOKEN) - 1}/{len(SPOKEN)}"
        )
        refused = await yusuf.get(src)
        assert refused.status_code == 404 and SPOKEN not in refused.content
        anonymous = await stranger.get(src)
        assert anonymous.status_code in (302, 303) and SPOKEN not in anonymous.content
        assert (await miriam.get("/admin/messages/999999/voice")).status_code == 404
    finally:
        for browser in (miriam, yusuf, admin, stranger):
            await browser.close()


async def test_an_uploaded_recording_reaches_the_participant(
    site, asked, telegram, sessions, settings
):
    message_id, chat = asked
    miriam = await _browser(site, "miriam@example.org")
    try:
        await miriam.get("/admin/inbox")
        action = f"/admin/messages/{message_id}/voice-answer"
        # Not audio, and too long: refused beside the message, nothing stored or sent.
        for name, content in (("notes.txt", b"just text"), ("long.ogg", silence(181))):
            refused = await miriam.post(action, files={"voice": (name, content, "audio/ogg")})
            assert refused.status_code == 400
            assert re.search(r'<p class="error" role="alert">[^<]+</p>', refused.text)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(VoiceMessage)) == 1
        answer = silence(3)
        sent = await miriam.post(action, files={"voice": ("answer.ogg", answer, "audio/ogg")})
        assert sent.status_code == 303
        await drain(telegram, sessions, settings)
        [voice] = [m for m in chat.messages() if "voice" in m]
        assert voice["voice_content"] == answer and voice["voice"]["duration"] == 3
        assert voice["caption"] == tr("ti", "🎤 Answer from {coach}", coach="Miriam")
        # The inbox shows the answer as a player too.
        page = await miriam.get("/admin/inbox")
        assert page.text.count('<audio class="voice"') == 2
    finally:
        await miriam.close()


def test_the_limit_stated_is_three_minutes():
    assert MAX_AUDIO_SECONDS == 180


@pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])
async def test_in_a_real_browser_the_coach_plays_it_and_answers_with_a_recording(
    site, asked, telegram, sessions, settings, tmp_path
):
    from playwright.async_api import async_playwright

    _message_id, chat = asked
    recording = tmp_path / "antwort.ogg"
    recording.write_bytes(silence(3))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="de-DE")
            await page.goto(f"{site}/admin/inbox")
            await page.get_by_label("E-Mail-Adresse").fill("miriam@example.org")
            await page.get_by_label("Passwort").fill(PASSWORD)
            await page.get_by_role("button", name="Anmelden").click()
            await page.wait_for_url(f"{site}/admin/inbox")
            player = page.locator("audio.voice")
            assert await player.count() == 1
            # The browser fetches the recording with the login's cookie and decodes it.
            seconds = await player.evaluate(
                """audio => new Promise((resolve, reject) => {
                    audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
                    audio.addEventListener("error", () => reject(String(audio.error?.code)));
                    audio.preload = "auto";
                    audio.load();
                })"""
            )
            assert 1.5 < seconds < 2.5
            await page.set_input_files("input[name=voice]", str(recording))
            await page.get_by_role("button", name="Aufnahme senden").click()
            await page.wait_for_url(re.compile(r".*/admin/inbox\?done=answered"))
            assert await page.locator("audio.voice").count() == 2
        finally:
            await browser.close()
    await drain(telegram, sessions, settings)
    [voice] = [m for m in chat.messages() if "voice" in m]
    assert voice["voice_content"] == recording.read_bytes()


async def test_the_export_page_names_the_recording_and_the_json_carries_it(site, asked, sessions):
    import base64

    message_id, _chat = asked
    async with sessions() as session:
        participant_id = (await session.get(CoachMessage, message_id)).participant_id
    miriam = await _browser(site, "miriam@example.org")
    try:
        page = await miriam.get(f"/admin/participants/{participant_id}/export")
        assert page.status_code == 200
        assert "🎤 2 s · audio/ogg · die Aufnahme steht in der JSON-Datei" in page.text
        encoded = base64.b64encode(SPOKEN).decode()
        assert encoded not in page.text
        data = (
            await miriam.get(f"/admin/participants/{participant_id}/export?format=json")
        ).json()
        [spoken] = data["messages_with_the_coach"]
        assert spoken["voice"]["base64"] == encoded
    finally:
        await miriam.close()
