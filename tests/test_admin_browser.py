"""The admin web in a real browser (Playwright driving Debian's Chromium), with the bot
running against the fake Bot API on the same database: a coach's working day end to end."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.features.staff.accounts import hash_password
from bot.web.app import create_app
from storage.models import Appointment, Module, Participant
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, tr

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts" / "admin"
BERLIN = ZoneInfo("Europe/Berlin")
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])


@pytest.fixture
async def site(settings, sessions, router):
    """The web app (admin included) on a loopback port, Telegram set up (for the letter)."""
    with_telegram = settings.model_copy(
        update={"telegram_bot_token": "123456:TEST-TOKEN", "telegram_bot_username": "KreisBot"}
    )
    async with serve_app(create_app(with_telegram, sessions, router)) as url:
        yield url


async def test_a_coachs_day_login_import_letter_plan_and_the_answer_arrives(
    site, telegram, sessions, make_staff, tmp_path
):
    from playwright.async_api import async_playwright

    coach = await make_staff(
        email="m.hoffmann@example.org",
        display_name="Miriam Hoffmann",
        password_hash=await hash_password(PASSWORD),
    )
    async with sessions.begin() as session:
        session.add(Module(code="pfaff", name_de="PfaFF – Pflegeausbildung"))
    csv_file = tmp_path / "teilnehmende.csv"
    csv_file.write_text(
        "name;language;module;coach\nAmina;ar;pfaff;\nDawit;ti;;\n", encoding="utf-8"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="de-DE", viewport={"width": 1280, "height": 900})
            # Log in: the dashboard asks for it and comes back afterwards.
            await page.goto(f"{site}/admin/participants")
            await page.get_by_label("E-Mail-Adresse").fill(coach.email)
            await page.get_by_label("Passwort").fill(PASSWORD)
            await page.get_by_role("button", name="Anmelden").click()
            await page.wait_for_url(f"{site}/admin/participants")
            await page.screenshot(path=str(ARTIFACTS / "participants-empty.png"), full_page=True)

            # Import two participants from CSV.
            await page.get_by_role("link", name="CSV importieren").click()
            await page.set_input_files("input[type=file]", str(csv_file))
            await page.get_by_role("button", name="Importieren").click()
            await page.locator("#imported").wait_for()
            assert "2" in await page.locator("#imported").inner_text()
            await page.screenshot(path=str(ARTIFACTS / "import.png"), full_page=True)

            # Print Amina's invite letter (Arabic and German, two QR codes, one A4 page).
            await page.get_by_role("link", name="Amina").click()
            async with page.expect_popup() as popup:
                await page.locator("#new-invite").click()
            letter = await popup.value
            await letter.wait_for_load_state()
            assert await letter.locator(".column[dir=rtl]").count() == 1
            assert await letter.locator("img[alt='Telegram QR']").count() == 1
            await letter.screenshot(path=str(ARTIFACTS / "invite-letter.png"), full_page=True)
            await letter.emulate_media(media="print")
            pdf = await letter.pdf(format="A4", print_background=True)
            (ARTIFACTS / "invite-letter.pdf").write_bytes(pdf)
            assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one page
            link = (await letter.locator(".link").inner_text()).split()[0]
            token = link.split("start=")[1]
            await letter.close()

            # Amina joins through the fake Bot API with the letter's link.
            user = telegram.fake.user(chat_id=9101, first_name="Amina", language_code="ar")
            await user.exchange(f"/start {token}")
            await user.press_and_wait("lang:ar")
            await user.press_and_wait("pv:ok:ar")

            # The coach plans an appointment for tomorrow.
            await page.reload()
            tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
            plan = page.locator("#plan")
            await plan.locator("select[name=kind]").select_option("coaching")
            await plan.locator("input[name=date]").fill(tomorrow.isoformat())
            await plan.locator("input[name=start]").fill("10:00")
            await plan.locator("input[name=end]").fill("10:45")
            await plan.locator("input[name=location]").fill("Kreishaus Unna, Raum 204")
            await plan.get_by_role("button", name="Planen").click()
            await page.get_by_text("Termin geplant").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "participant.png"), full_page=True)

            async with sessions() as session:
                appointment = await session.scalar(select(Appointment))
                amina = await session.scalar(
                    select(Participant).where(Participant.display_name == "Amina")
                )
            assert appointment.participant_id == amina.id and amina.locale == "ar"

            # She presses ✅ in her chat; the coach's dashboard shows it.
            listing = await user.exchange("/appointments")
            assert any(f"ap:c:{appointment.id}" in str(message) for message in listing)
            assert tr("ar", "✅ I will come") in str(listing)
            await user.press_and_wait(f"ap:c:{appointment.id}")
            await page.get_by_role("link", name="Übersicht").click()
            row = page.locator(f"#tomorrow tr[data-appointment='{appointment.id}']")
            await row.wait_for()
            assert "✅" in await row.inner_text() and "Amina" in await row.inner_text()
            unreachable = await page.locator("#unreachable").inner_text()
            assert "Dawit" in unreachable and "Amina" not in unreachable
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            # The other main pages render, in English too.
            await page.get_by_role("button", name="English").click()
            await page.get_by_role("link", name="Courses").click()
            await page.screenshot(path=str(ARTIFACTS / "courses-en.png"), full_page=True)
            await page.get_by_role("link", name="Inbox").click()
            await page.screenshot(path=str(ARTIFACTS / "inbox-en.png"), full_page=True)
        finally:
            await browser.close()
