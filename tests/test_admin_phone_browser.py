"""Every staff page on a desktop and on a phone (Playwright driving Debian's Chromium): the
page never scrolls sideways at 1280 or at 390 pixels. The pages are found by following every
link of the staff web from the dashboard, so a page added later is measured too."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.demo import ADMIN_EMAIL, ADMIN_PASSWORD, seed_demo
from bot.web.app import create_app
from storage.identities import bind_identity
from storage.models import (
    Appointment,
    Broadcast,
    CoachMessage,
    HandoverRequest,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.types import utcnow
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

# Screenshots for a person to look at; test-artifacts/ is not committed.
ARTIFACTS = Path(__file__).parents[1] / "test-artifacts" / "admin-widths"
WIDTHS = (1280, 390)
# Pages the crawl must reach (a broken link or a lost page fails the test, not the count).
EXPECTED = {
    "/admin/",
    "/admin/participants",
    "/admin/participants/new",
    "/admin/participants/import",
    "/admin/participants/{id}",
    "/admin/participants/{id}/edit",
    "/admin/participants/{id}/export",
    "/admin/programme-end",
    "/admin/courses",
    "/admin/courses/new",
    "/admin/courses/{id}",
    "/admin/handovers",
    "/admin/report",
    "/admin/content",
    "/admin/content/{id}",
    "/admin/templates",
    "/admin/templates/room_changed",
    "/admin/inbox",
    "/admin/audit",
    "/admin/password",
}
SKIP = re.compile(r"\.csv$|/logout$")  # downloads and actions, not pages

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])


@pytest.fixture
async def site(settings, sessions, router):
    """The web app (admin included) on a loopback port, with the demo programme and a day's
    traffic: chats, answers with reasons, an inbox, a question, a hand-over."""
    now = utcnow()
    async with sessions.begin() as session:
        await seed_demo(session, now=now, tz=settings.tz)
    async with sessions.begin() as session:
        admin = await session.scalar(select(StaffUser).where(StaffUser.email == ADMIN_EMAIL))
        people = {
            p.display_name: p
            for p in await session.scalars(
                select(Participant).where(Participant.status == "active")
            )
        }
        for number, name in enumerate(("Amina", "Olena", "Samira")):
            people[name].locale = {"Amina": "ar", "Olena": "uk", "Samira": "fa"}[name]
            people[name].privacy_accepted_at = now
            await bind_identity(
                session,
                participant_id=people[name].id,
                channel=("telegram", "signal", "web")[number],
                external_id=f"+4915{number}0000{number}",
            )
        amina = people["Amina"]
        amina.coach_id = admin.id
        first, second = await session.scalars(
            select(Appointment).where(Appointment.participant_id == amina.id)
        )
        first.coach_id = second.coach_id = admin.id
        first.response, first.response_note = "declined", "Prüfung in der Berufsschule"
        second.response, second.preferred_days = "reschedule", "0,2,4"
        question = CoachMessage(
            participant_id=amina.id,
            staff_id=admin.id,
            direction="in",
            body="Kann ich meinen Termin am Donnerstag auf nächste Woche verschieben? "
            "Ich habe dann einen Arzttermin beim Ausländeramt-Gesundheitsamt.",
        )
        session.add(question)
        session.add(HandoverRequest(participant_id=people["Dawit"].id, consent_at=now))
        # A broadcast that went out (its delivery report), and a draft.
        sent = Broadcast(
            created_by_id=admin.id,
            segment={"kind": "everyone", "languages": None},
            text="Morgen fällt der Deutschkurs aus. Am Mittwoch geht es weiter.",
            state="queued",
            send_at=now - timedelta(hours=1),
            recipients=3,
        )
        session.add_all(
            [sent, Broadcast(created_by_id=admin.id, segment={"kind": "caseload"}, text="…")]
        )
        await session.flush()
        for name, state in (("Amina", "sent"), ("Olena", "failed"), ("Samira", "pending")):
            session.add(
                OutboxMessage(
                    participant_id=people[name].id,
                    template="broadcast.message",
                    subject_type="broadcast",
                    subject_id=sent.id,
                    broadcast_id=sent.id,
                    dedup_key=f"bc:{sent.id}:{people[name].id}",
                    state=state,
                    due_at=now - timedelta(hours=1),
                )
            )
        for appointment, response in ((first, "declined"), (second, "reschedule")):
            session.add(
                OutboxMessage(
                    staff_id=admin.id,
                    template="appointment.answer",
                    subject_type="appointment",
                    subject_id=appointment.id,
                    params={"response": response},
                    state="inbox",
                    created_at=now - timedelta(minutes=5),
                )
            )
        session.add(
            OutboxMessage(
                staff_id=admin.id,
                template="coach.message",
                subject_type="message",
                subject_id=question.id,
                params={},
                state="inbox",
            )
        )
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


def _pattern(path: str) -> str:
    """A page's kind: ids replaced, so one participant stands for all."""
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


WIDTH_OF_PAGE = """() => {
  const limit = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > limit + 0.5)
    .filter(e => !e.closest('.scroll'))
    .slice(0, 4)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
              (e.className && typeof e.className === 'string' ? '.' + e.className : '') +
              ' ' + Math.round(e.getBoundingClientRect().right));
  return {scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
          inner: limit, wide};
}"""


async def _measure(page: Any, name: str, width: int, wide: dict[str, str]) -> None:
    """Record the page if it is wider than the window; save a screenshot either way."""
    result = await page.evaluate(WIDTH_OF_PAGE)
    await page.screenshot(path=str(ARTIFACTS / f"{width}-{name}.png"), full_page=True)
    if result["scroll"] > result["inner"]:
        wide[f"{name}@{width}"] = f"{result['scroll']}px: {', '.join(result['wide'])}"


async def _crawl(page: Any, site: str, width: int, wide: dict[str, str]) -> set[str]:
    """Visit every staff page reachable by a link from the dashboard, once per kind."""
    seen: set[str] = set()
    queue = ["/admin/"]
    while queue:
        path = queue.pop(0)
        kind = _pattern(path)
        if kind in seen:
            continue
        seen.add(kind)
        response = await page.goto(site + path)
        assert response is not None and response.status == 200, f"{path}: {response}"
        await _measure(
            page, re.sub(r"[^a-z0-9]+", "-", kind[7:]).strip("-") or "dashboard", width, wide
        )
        for href in await page.eval_on_selector_all(
            "a[href^='/admin']", "links => links.map(a => a.getAttribute('href'))"
        ):
            target = href.split("#")[0].split("?")[0]
            if not SKIP.search(target) and _pattern(target) not in seen:
                queue.append(target)
    return seen


async def test_every_staff_page_fits_a_desktop_and_a_phone_without_sideways_scrolling(
    site, tmp_path
):
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bad_csv = tmp_path / "wrong.csv"
    bad_csv.write_text("name;language;module\nAmina;xx;nothing\n;ar;\n", encoding="utf-8")
    wide: dict[str, str] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                context = await browser.new_context(
                    locale="de-DE", viewport={"width": width, "height": 800}
                )
                page = await context.new_page()
                # Outside a login: the login form and its error.
                await page.goto(f"{site}/admin/login")
                await _measure(page, "login", width, wide)
                await page.get_by_label("E-Mail-Adresse").fill(ADMIN_EMAIL)
                await page.get_by_label("Passwort").fill("wrong")
                await page.get_by_role("button", name="Anmelden").click()
                await page.locator(".error").wait_for()
                await _measure(page, "login-refused", width, wide)
                await page.get_by_label("Passwort").fill(ADMIN_PASSWORD)
                await page.get_by_role("button", name="Anmelden").click()
                await page.wait_for_url(re.compile(r".*/admin/?$"))

                seen = await _crawl(page, site, width, wide)
                assert EXPECTED <= seen, f"not reached: {sorted(EXPECTED - seen)}"

                # Pages that only a form opens: a refused import, a refused appointment,
                # the invite letter, a record that does not exist.
                await page.goto(f"{site}/admin/participants/import")
                await page.set_input_files("input[type=file]", str(bad_csv))
                await page.get_by_role("button", name="Importieren").click()
                await page.locator("#import-errors").wait_for()
                await _measure(page, "import-refused", width, wide)
                await page.goto(f"{site}/admin/participants")
                await page.locator("#participants a", has_text="Amina").first.click()
                plan = page.locator("#plan")
                await plan.locator("input[name=date]").fill("2020-01-01")
                await plan.locator("input[name=start]").fill("10:00")
                await plan.locator("input[name=end]").fill("09:00")
                await plan.locator("input[name=location]").fill("Kreishaus")
                await plan.get_by_role("button", name="Planen").click()
                await page.locator(".error, .field-error").first.wait_for()
                await _measure(page, "appointment-refused", width, wide)
                async with page.expect_popup() as popup:
                    await page.locator("#new-invite").click()
                letter = await popup.value
                await letter.wait_for_load_state()
                await _measure(letter, "invite-letter", width, wide)
                await letter.close()
                await page.goto(f"{site}/admin/participants/999999")
                await _measure(page, "not-found", width, wide)
                await context.close()
        finally:
            await browser.close()
    assert not wide, "pages wider than the window:\n" + "\n".join(
        f"{k}: {v}" for k, v in sorted(wide.items())
    )
