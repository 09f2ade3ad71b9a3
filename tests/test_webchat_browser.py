"""The web chat in a real browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.webchat import WebChatSender
from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.outbox.dispatcher import Dispatcher
from bot.web.app import create_app
from storage.models import PRIORITY_REMINDER
from storage.outbox import enqueue
from storage.types import utcnow
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, join_web_chat, tr

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


async def test_a_reminder_appears_in_an_open_page_without_reload(
    settings, sessions, router, make_participant, make_invite, make_appointment
):
    """The dispatcher of another process (another app on the same database) sends a reminder
    while the page is open: it shows up within a few seconds, with no reload."""
    from playwright.async_api import async_playwright

    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant, starts_in=timedelta(hours=2))
    other_process = create_app(settings, sessions, router)
    dispatcher = Dispatcher(
        sessions=sessions,
        routes=router.routes,
        settings=settings,
        senders={"web": WebChatSender(other_process.state.webchat)},
    )
    async with serve_app(create_app(settings, sessions, router)) as url, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await join_web_chat(page, url, invite.token, "fa")
            await page.evaluate("() => { window.sameDocument = true; }")
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
            loop = asyncio.get_running_loop()
            sent_at = loop.time()
            assert await dispatcher.drain() == 1
            reminder = page.get_by_text(tr("fa", "Reminder of your appointment:"), exact=False)
            await reminder.wait_for(timeout=8000)
            waited = loop.time() - sent_at
            print(f"reminder shown {waited:.1f} s after the dispatcher sent it")
            assert waited < 5
            assert await page.evaluate("() => window.sameDocument") is True  # no reload
            await page.locator(f"button[value='ap:c:{appointment.id}']").last.wait_for()
            await reminder.scroll_into_view_if_needed()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "webchat-live-fa.png"))
        finally:
            await browser.close()


async def test_after_a_press_the_changed_message_and_its_notice_are_in_view(
    server, make_participant, make_invite, make_appointment
):
    """A list longer than the screen: pressing ✅ on its first appointment shows that
    message, changed, with its short notice, instead of jumping to the bottom."""
    from playwright.async_api import async_playwright

    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    first = await make_appointment(participant, starts_in=timedelta(days=1))
    for days in (2, 3, 4):
        await make_appointment(participant, starts_in=timedelta(days=days))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await join_web_chat(page, server, invite.token, "ckb")
            await page.locator("button[value='mn:ap']").last.click()
            confirm = page.locator(f"button[value='ap:c:{first.id}']")
            await confirm.wait_for()
            await confirm.click()
            notice = page.locator(".toast", has_text=tr("ckb", "Confirmed ✅"))
            await notice.wait_for()
            changed = page.locator(".msg", has=notice)
            assert tr("ckb", "✅ You confirmed. Thank you!") in await changed.inner_text()
            for seen in (notice, changed.locator(".text")):
                box = await seen.bounding_box()
                assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 844
            # The page is longer than the screen, so it was not simply all in view.
            assert await page.evaluate("() => document.body.scrollHeight") > 2 * 844
        finally:
            await browser.close()


LATIN_ONLY = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FAMILIES = {  # the faces of templates/chat.html
    "Wegweiser Emoji": "emoji.woff2",
    "Wegweiser Symbols": "symbols.woff2",
    "Wegweiser Arabic": "arabic.woff2",
    "Wegweiser Ethiopic": "ethiopic.woff2",
}


@pytest.mark.skipif(not DEJAVU.is_dir(), reason="needs Debian's fonts-dejavu-core as the one font")
@pytest.mark.parametrize("code", ["ti", "ar", "ps", "ckb"])
async def test_no_empty_boxes_on_a_phone_with_a_latin_font_only(
    code, tmp_path, server, make_participant, make_invite
):
    """Chromium sees one font, DejaVu Sans (as a cheap phone has only its Latin system
    font): every character of the buttons and messages, in the consent, the menu and the
    language menu, is drawn by a face the page loaded or by that font, never as a box."""
    pytest.importorskip("fontTools", reason="pip install fonttools brotli (the test extra)")
    from playwright.async_api import async_playwright

    from bot.web.subset_fonts import FACES, INVISIBLE, OUT, cmap, in_ranges

    config = tmp_path / "fonts.conf"
    config.write_text(LATIN_ONLY.format(fonts=DEJAVU, cache=tmp_path / "cache"))
    system = cmap(DEJAVU / "DejaVuSans.ttf")
    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={"FONTCONFIG_FILE": str(config)}
        )
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(f"{server}/chat?start={invite.token}")
            await page.locator(".connect button").click()
            await page.locator(f"button[value='lang:{code}']").click()
            await page.locator(f"button[value='pv:ok:{code}']").wait_for()
            consent = await page.locator(".msg").last.inner_text()
            await page.locator(f"button[value='pv:ok:{code}']").click()
            await page.locator("button[value='mn:lang']").last.click()
            await page.locator("button[value='lang:ti']").last.wait_for()
            await page.evaluate("() => document.fonts.ready")
            shown = consent + await page.locator("main").inner_text()
            shown += "".join(await page.locator("button").all_inner_texts())
            loaded = await page.evaluate(
                "() => Array.from(document.fonts).filter(f => f.status === 'loaded')"
                ".map(f => f.family.replaceAll('\"', ''))"
            )
            drawn = {family: cmap(OUT / FAMILIES[family]) for family in loaded}
            boxes = []
            for char in sorted(set(shown)):
                if char.isspace() or ord(char) in INVISIBLE:
                    continue
                faces = [
                    family
                    for family, codes in drawn.items()
                    if in_ranges(char, FACES[FAMILIES[family]][1]) and ord(char) in codes
                ]
                if not faces and ord(char) not in system:
                    boxes.append(f"{char} U+{ord(char):04X}")
            assert boxes == []
            assert {"Wegweiser Emoji", "Wegweiser Symbols"} <= set(loaded)
            assert ("Wegweiser Ethiopic" if code == "ti" else "Wegweiser Arabic") in loaded
            # What Chromium itself says it drew the buttons with: our faces and DejaVu only.
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("DOM.enable")
            await cdp.send("CSS.enable")
            document = await cdp.send("DOM.getDocument", {"depth": -1})
            found = await cdp.send(
                "DOM.querySelectorAll",
                {"nodeId": document["root"]["nodeId"], "selector": "button"},
            )
            system_used: set[str] = set()
            web_used: set[str] = set()
            for node in found["nodeIds"]:
                fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})
                for font in fonts["fonts"]:
                    (web_used if font["isCustomFont"] else system_used).add(font["familyName"])
            assert all(family.startswith("DejaVu") for family in system_used), system_used
            assert "Noto Color Emoji" in web_used  # the shipped faces name their Noto source
            script = "Noto Sans Ethiopic" if code == "ti" else "Noto Sans Arabic"
            assert script in web_used, web_used
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / f"webchat-latin-only-{code}.png"))
        finally:
            await browser.close()
