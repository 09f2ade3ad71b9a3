"""Group messages in a real browser (Playwright driving Debian's Chromium): a coach writes
one with an Arabic version and a German fallback, previews it, sends it, reads the report,
and plans and stops another, at desktop width and on a 390-pixel phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.features.staff.accounts import hash_password
from bot.outbox.dispatcher import Dispatcher
from bot.web.app import create_app
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, tr

SCREENS = Path(
    os.environ.get("WEGWEISER_SCREENS")
    or Path(__file__).parents[1] / "test-artifacts" / "admin-broadcasts"
)
PASSWORD = "correct horse battery"
ARABIC = "الدورة غدًا في القاعة ٢٠٤."
GERMAN = "Der Kurs ist morgen in Raum 204."
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])


@pytest.fixture
async def site(settings, sessions, router):
    """The web app (admin included) on a loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


@pytest.fixture
def dispatcher(telegram, sessions, settings) -> Dispatcher:
    """The real dispatcher over the fake Bot API."""
    return Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    )


@pytest.fixture(autouse=True)
def screens() -> Path:
    """The folder for the screenshots, made before the test starts."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


async def _fits(page) -> None:
    """No sideways scrolling: the page is not wider than the window."""
    wide, window = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= window, (page.url, wide, window)


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_compose_preview_send_report_and_stop_in_a_browser(
    width,
    site,
    telegram,
    dispatcher,
    sessions,
    make_staff,
    make_participant,
    bind_chat,
    make_course,
    clock,
):
    from playwright.async_api import async_playwright

    coach = await make_staff(
        email="m.hoffmann@example.org",
        display_name="Miriam Hoffmann",
        password_hash=await hash_password(PASSWORD),
    )
    people = []
    for chat, locale in ((9301, "ar"), (9302, "de"), (9303, "uk")):
        person = await make_participant(accepted=True, locale=locale, coach_id=coach.id)
        await bind_chat(person, chat)
        people.append(person)
    course = await make_course(
        slots=[(0, "09:00", "12:00")],
        participants=people,
        coach_id=coach.id,
        title="Deutschkurs B1 (Kamen)",
    )

    async def shot(page, name: str) -> None:
        await _fits(page)
        await page.screenshot(path=str(SCREENS / f"{width}-{name}.png"), full_page=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="de-DE", viewport=WIDTHS[width])
            await page.goto(f"{site}/admin/broadcasts")
            await page.get_by_label("E-Mail-Adresse").fill(coach.email)
            await page.get_by_label("Passwort").fill(PASSWORD)
            await page.get_by_role("button", name="Anmelden").click()
            await page.wait_for_url(f"{site}/admin/broadcasts")
            await shot(page, "1-list-empty")

            # Compose: nothing written yet is refused beside the field, the choice kept.
            await page.locator("#new-broadcast").click()
            await page.get_by_label("Wer bekommt sie?").select_option(f"course:{course.id}")
            await page.get_by_role("button", name="Vorschau").click()
            await page.locator("#text-error").wait_for()
            assert await page.locator("#text").get_attribute("aria-invalid") == "true"
            assert (
                await page.get_by_label("Wer bekommt sie?").input_value() == f"course:{course.id}"
            )
            await shot(page, "2-compose-refused")
            # The course, own text with an Arabic and a German version.
            await page.get_by_label("Wer bekommt sie?").select_option(f"course:{course.id}")
            await page.get_by_label("Eigener Text").check()
            await page.locator("#versions summary").click()
            await page.get_by_role("textbox", name="Arabisch – العربية").fill(ARABIC)
            await page.get_by_role("textbox", name="Deutsch", exact=True).fill(GERMAN)
            await shot(page, "2-compose")
            await page.get_by_role("button", name="Vorschau").click()

            # Preview: each language with its number of people and the text they read.
            await page.locator("#preview").wait_for()
            assert (
                "3 Personen bekommen diese Nachricht." in await page.locator("#total").inner_text()
            )
            arabic = page.locator(".language[data-language=ar] .text")
            assert await arabic.get_attribute("dir") == "rtl"
            assert ARABIC in await arabic.inner_text()
            assert GERMAN in await page.locator(".language[data-language=uk] .text").inner_text()
            await shot(page, "3-preview")
            assert telegram.fake.sent() == []

            # Send now; the dispatcher delivers; the report counts.
            await page.get_by_role("button", name="Senden", exact=True).click()
            await page.get_by_text("Gesendet. Die Nachrichten gehen jetzt hinaus").wait_for()
            await dispatcher.drain()
            assert [m["text"] for m in telegram.fake.sent(9301)] == ["📢 " + ARABIC]
            assert [m["text"] for m in telegram.fake.sent(9302)] == ["📢 " + GERMAN]
            assert [m["text"] for m in telegram.fake.sent(9303)] == ["📢 " + GERMAN]
            await page.reload()
            sent = page.locator("#report tr[data-state=sent] td.number")
            assert await sent.inner_text() == "3"
            await shot(page, "4-report")

            # Plan a ready message for tomorrow 08:00, then stop it before it goes out.
            await page.get_by_role("link", name="Gruppennachrichten").first.click()
            await page.locator("#new-broadcast").click()
            await page.get_by_label("Wer bekommt sie?").select_option(f"course:{course.id}")
            await page.get_by_label(tr("de", "Bring your documents")).check()
            await page.get_by_role("button", name="Vorschau").click()
            await page.locator("#preview").wait_for()
            await page.get_by_label("Zu einer Zeit senden:").check()
            await page.get_by_role("button", name="Senden", exact=True).click()
            await page.get_by_text("Geplant. Die Nachrichten gehen zur gewählten Zeit").wait_for()
            waiting = page.locator("#report tr[data-state=pending] td.number")
            assert await waiting.inner_text() == "3"
            await shot(page, "5-planned")
            await page.get_by_role("button", name="Rest stoppen").click()
            await page.get_by_text("Gestoppt. Was noch nicht hinausgegangen war").wait_for()
            stopped = page.locator("#report tr[data-state=cancelled] td.number")
            assert await stopped.inner_text() == "3"
            await shot(page, "6-stopped")
            await page.get_by_role("link", name="Alle Gruppennachrichten").click()
            assert await page.locator("section.broadcast").count() == 2
            await shot(page, "7-list")
        finally:
            await browser.close()
    assert len(telegram.fake.sent(9301)) == 1  # the stopped one never went out
