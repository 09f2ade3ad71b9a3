"""Recordings in a real browser (Playwright driving Debian's Chromium): an admin uploads a
recording for an entry and for a ready group message, the page plays it (the player loads
the OGG/Opus and knows its length), a file that is no audio is refused beside the input —
at 1280 and at 390 pixels, without sideways scrolling."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.features.next_steps import seed_demo_content
from bot.features.staff.accounts import hash_password
from bot.web.app import create_app
from storage.models import ContentNode
from tests.audio_files import sine
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])
PASSWORD = "long password 1"

SIDEWAYS = """() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)
  - window.innerWidth"""
# The player plays the file to its end (muted); how far it got is the recording's length.
# (Chromium reports an OGG's `duration` only after seeking, so the played time is measured.)
PLAYED = """async (audio) => {
  audio.muted = true;
  await new Promise((ok, no) => {
    audio.addEventListener('ended', ok, {once: true});
    audio.addEventListener('error', () => no(new Error('audio error')), {once: true});
    audio.play().catch(no);
  });
  return audio.currentTime;
}"""


@pytest.mark.parametrize("width", [1280, 390])
async def test_upload_and_play_a_recording_in_a_browser(
    settings, sessions, router, make_staff, tmp_path, width
):
    from playwright.async_api import async_playwright

    async with sessions.begin() as session:
        await seed_demo_content(session)
    async with sessions() as session:
        kim = await session.scalar(select(ContentNode).where(ContentNode.key == "kim"))
    admin = await make_staff(role="admin", password_hash=await hash_password(PASSWORD))
    tone, text = tmp_path / "kim.wav", tmp_path / "notiz.txt"
    tone.write_bytes(sine(3.0))
    text.write_text("Kein Ton, nur Text.\n" * 20, encoding="utf-8")
    async with serve_app(create_app(settings, sessions, router)) as url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            try:
                context = await browser.new_context(
                    locale="de-DE", viewport={"width": width, "height": 800}
                )
                page = await context.new_page()
                await page.goto(f"{url}/admin/login")
                await page.get_by_label("E-Mail-Adresse").fill(admin.email)
                await page.get_by_label("Passwort").fill(PASSWORD)
                await page.get_by_role("button", name="Anmelden").click()
                await page.wait_for_url(re.compile(r".*/admin/?$"))

                # A file that is no audio: refused beside the input, nothing stored.
                await page.goto(f"{url}/admin/content/{kim.id}?lang=ar")
                assert await page.evaluate(SIDEWAYS) <= 0
                await page.set_input_files("#recording-file", str(text))
                await page.get_by_role("button", name="Aufnahme hochladen").click()
                error = page.locator("#file-error")
                await error.wait_for()
                assert "keine Aufnahme" in await error.inner_text()
                assert await page.evaluate(SIDEWAYS) <= 0

                # A WAV file: converted, stored, played.
                await page.set_input_files("#recording-file", str(tone))
                await page.get_by_role("button", name="Aufnahme hochladen").click()
                await page.wait_for_url(re.compile(r".*lang=ar.*done=recorded"))
                assert await page.locator("[data-recording=current]").count() == 1
                seconds = await page.locator("#recording audio").evaluate(PLAYED)
                assert seconds == pytest.approx(3.0, abs=0.2)
                assert await page.evaluate(SIDEWAYS) <= 0
                assert await page.get_by_role("button", name="Aufnahme ersetzen").count() == 1

                # The list marks the language that has a recording.
                await page.goto(f"{url}/admin/content")
                cell = page.locator("#content td[data-lang=ar] [data-recording]").first
                assert await cell.get_attribute("data-recording") == "current"

                # A ready group message, reached from the group messages page.
                await page.goto(f"{url}/admin/broadcasts")
                await page.locator("#template-recordings").click()
                await page.wait_for_url(re.compile(r".*/admin/templates$"))
                assert await page.evaluate(SIDEWAYS) <= 0
                await page.goto(f"{url}/admin/templates/bring_documents?lang=fa")
                await page.set_input_files("#recording-file", str(tone))
                await page.get_by_role("button", name="Aufnahme hochladen").click()
                await page.wait_for_url(re.compile(r".*done=recorded"))
                seconds = await page.locator("#recording audio").evaluate(PLAYED)
                assert seconds == pytest.approx(3.0, abs=0.2)
                assert await page.evaluate(SIDEWAYS) <= 0
                await page.get_by_role("button", name="Aufnahme löschen").click()
                await page.wait_for_url(re.compile(r".*done=recording_deleted"))
                assert await page.locator("[data-recording=none]").count() == 1
                await context.close()
            finally:
                await browser.close()
