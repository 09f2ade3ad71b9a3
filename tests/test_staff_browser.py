"""A new Kreis in a real browser (Playwright on Debian's Chromium): the admin adds modules
and invites a coach; the coach sets a password with the link and imports a CSV file. Each
key page is also looked at 390 pixels wide, without sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.features.staff.accounts import hash_password
from bot.web.app import create_app
from storage.models import Participant, StaffUser
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts" / "staff"
PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])


@pytest.fixture
async def site(settings, sessions, router):
    """The web app (admin included) on a loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


async def _fits(page, name: str) -> None:
    """A screenshot at the page's width; on a phone, no sideways scrolling."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    inner = await page.evaluate("window.innerWidth")
    assert width <= inner, f"{name}: {width} px wide in a {inner} px window"


async def test_a_new_kreis_in_the_browser(site, sessions, make_staff, tmp_path):
    from playwright.async_api import async_playwright

    admin = await make_staff(
        role="admin",
        email="leitung@kreis.example",
        display_name="Programmleitung",
        password_hash=await hash_password(PASSWORD),
    )
    csv_file = tmp_path / "teilnehmende.csv"
    csv_file.write_text("name;language;module\nAmina;ar;pfaff\nDawit;ti;coaching\n", "utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="de-DE", viewport={"width": 1280, "height": 900})
            await page.goto(f"{site}/admin/login")
            await page.get_by_label("E-Mail-Adresse").fill(admin.email)
            await page.get_by_label("Passwort").fill(PASSWORD)
            await page.get_by_role("button", name="Anmelden").click()
            await page.wait_for_url(re.compile(r".*/admin/?$"))

            # Modules: the first two, from the navigation.
            await page.get_by_role("link", name="Bausteine").click()
            await page.get_by_text("Noch keine Bausteine").wait_for()
            for name, code in (("Coaching", "coaching"), ("PfaFF – Pflegeausbildung", "pfaff")):
                form = page.locator("#new-module")
                await form.get_by_label("Name").fill(name)
                await form.get_by_label("Kürzel").fill(code)
                await form.get_by_role("button", name="Baustein anlegen").click()
                await page.locator(f"#module-{code}").wait_for()
            await _fits(page, "modules")
            await page.set_viewport_size(PHONE)
            await _fits(page, "modules-phone")
            await page.set_viewport_size({"width": 1280, "height": 900})

            # Invite a coach: the page shows the link once.
            await page.get_by_role("link", name="Mitarbeitende").click()
            invite = page.locator("#invite")
            await invite.get_by_label("Name").fill("Miriam Hoffmann")
            await invite.get_by_label("E-Mail-Adresse").fill("m.hoffmann@kreis.example")
            await invite.get_by_role("button", name="Einladen").click()
            link = await page.locator("#link").input_value()
            assert "/admin/set-password/" in link
            await _fits(page, "staff-link")
            await page.set_viewport_size(PHONE)
            await _fits(page, "staff-link-phone")
            await page.get_by_role("link", name="Alle Mitarbeitenden").click()
            await page.get_by_text("Link verschickt").wait_for()
            await _fits(page, "staff-phone")
            await page.get_by_role("link", name="Miriam Hoffmann").click()
            await page.get_by_role("button", name="Konto deaktivieren").wait_for()
            await _fits(page, "staff-detail-phone")

            # The coach, on her phone, sets her password with the link and imports a file.
            coach = await browser.new_page(locale="de-DE", viewport=PHONE)
            # The link names WEB_BASE_URL; the test's server listens on another port.
            await coach.goto(site + link[link.index("/admin/") :])
            await coach.get_by_label("Neues Passwort (mindestens 12 Zeichen)").fill("zu kurz")
            await coach.get_by_label("Neues Passwort wiederholen").fill("zu kurz")
            await _fits(coach, "set-password-phone")
            await coach.get_by_label("Neues Passwort (mindestens 12 Zeichen)").fill(PASSWORD)
            await coach.get_by_label("Neues Passwort wiederholen").fill(PASSWORD)
            await coach.get_by_role("button", name="Passwort setzen").click()
            await coach.get_by_text("Passwort gesetzt. Willkommen bei Wegweiser.").wait_for()
            assert "Mitarbeitende" not in await coach.locator("header").inner_text()
            await coach.goto(f"{site}/admin/participants/import")
            await coach.set_input_files("input[type=file]", str(csv_file))
            await coach.get_by_role("button", name="Importieren").click()
            await coach.locator("#imported").wait_for()
            # The import page's own phone layout is the phone item's (#19 item 7), not ours.
            await coach.screenshot(path=str(ARTIFACTS / "import-phone.png"), full_page=True)
        finally:
            await browser.close()

    async with sessions() as session:
        miriam = await session.scalar(
            select(StaffUser).where(StaffUser.email == "m.hoffmann@kreis.example")
        )
        owners = (await session.scalars(select(Participant.coach_id))).all()
    assert miriam is not None and miriam.password_hash is not None
    assert owners == [miriam.id, miriam.id]
