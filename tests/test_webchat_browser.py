"""The web chat in a real browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.web.app import create_app
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, tr

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])


@pytest.fixture
async def server(settings, sessions, router):
    """The web app served by uvicorn on a free loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


async def test_join_in_arabic_right_to_left(
    server, make_participant, make_invite, make_appointment
):
    from playwright.async_api import async_playwright

    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    await make_appointment(participant)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            page = await browser.new_page(locale="ar", viewport={"width": 360, "height": 740})
            await page.goto(f"{server}/chat?start={invite.token}")
            await page.locator(".connect button").click()  # opening the link alone redeems nothing
            assert await page.get_attribute("html", "dir") == "rtl"
            await page.get_by_role("button", name="✓ العربية").click()
            await page.get_by_text(tr("ar", PRIVACY_NOTICE).split("\n")[0]).wait_for()
            await page.get_by_role("button", name=tr("ar", "✅ Yes, I agree")).click()
            await page.get_by_role("button", name=tr("ar", "📅 My appointments")).click()
            confirm = page.get_by_role("button", name=tr("ar", "✅ I will come"))
            await confirm.click()
            await page.get_by_text(tr("ar", "✅ You confirmed. Thank you!")).wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "webchat-ar.png"), full_page=True)
            direction = await page.locator(".msg.bot").last.get_attribute("dir")
            assert direction == "rtl"
        finally:
            await browser.close()
