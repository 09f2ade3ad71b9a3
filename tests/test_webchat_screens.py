"""Screens of the web chat on a phone-sized page (390×844) in six languages, for a person to
check: the main menu, the appointment list and a reminder. Saved in test-artifacts/screens/.

The page must draw Ge'ez, Arabic script and emoji with the fonts it ships, not with
whatever the machine happens to have: the test asks the browser which font faces loaded.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.i18n import BY_CODE
from bot.outbox.dispatcher import Dispatcher
from bot.web.app import create_app
from storage.models import PRIORITY_REMINDER
from storage.outbox import enqueue
from storage.types import utcnow
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, tr

SCREENS = Path(__file__).parents[1] / "test-artifacts" / "screens"

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])


@pytest.mark.parametrize("code", ["ar", "fa", "ps", "ti", "uk", "de_simple"])
async def test_screens_in_six_languages(
    code, settings, sessions, router, make_participant, make_invite, make_appointment
):
    from playwright.async_api import async_playwright

    from bot.channels.webchat import WebChatSender

    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    app = create_app(settings, sessions, router)
    SCREENS.mkdir(parents=True, exist_ok=True)
    async with serve_app(app) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(f"{url}/chat?start={invite.token}")
            await page.locator(".connect button").click()
            await page.locator(f"button[value='lang:{code}']").click()
            await page.get_by_text(tr(code, PRIVACY_NOTICE).split("\n")[0]).wait_for()
            await page.locator(f"button[value='pv:ok:{code}']").click()
            await page.locator("button[value='mn:ap']").last.wait_for()
            await page.screenshot(path=str(SCREENS / f"{code}-menu.png"))
            await page.locator("button[value='mn:ap']").last.click()
            await page.locator(f"button[value='ap:c:{appointment.id}']").last.wait_for()
            await page.screenshot(path=str(SCREENS / f"{code}-appointments.png"))

            # A reminder, pushed by the dispatcher into this browser's chat.
            async with sessions.begin() as session:
                await enqueue(
                    session,
                    template="appointment.reminder",
                    participant_id=participant.id,
                    subject=("appointment", appointment.id),
                    params={"starts_at": appointment.starts_at.isoformat(), "offset": "2h"},
                    due_at=utcnow(),
                    priority=PRIORITY_REMINDER,
                )
            dispatcher = Dispatcher(
                sessions=sessions,
                routes=router.routes,
                settings=settings,
                senders={"web": WebChatSender(app.state.webchat)},
            )
            await dispatcher.drain()
            await page.goto(f"{url}/chat")
            reminder = tr(code, "Reminder of your appointment:")
            await page.get_by_text(reminder, exact=False).last.wait_for()
            await page.locator("#end").scroll_into_view_if_needed()  # the newest, as a phone
            await page.screenshot(path=str(SCREENS / f"{code}-reminder.png"))

            direction = await page.get_attribute("html", "dir")
            assert direction == ("rtl" if BY_CODE[code].rtl else "ltr")
            loaded = await page.evaluate(
                "() => Array.from(document.fonts).filter(f => f.status === 'loaded')"
                ".map(f => f.family.replaceAll('\"', ''))"
            )
            assert "Wegweiser Emoji" in loaded  # 📅 ✅ ❌ drawn from the shipped subset
            if code == "ti":
                assert "Wegweiser Ethiopic" in loaded
            if BY_CODE[code].rtl:
                assert "Wegweiser Arabic" in loaded
        finally:
            await browser.close()
