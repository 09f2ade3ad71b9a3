"""Screens of the web chat on a phone-sized page (390×844) in six languages, for a person to
check: the main menu, the appointment list, a reminder, a coach's answer, a reminder in the
bilingual mode and /privacy. Saved in $WEGWEISER_SCREENS (default test-artifacts/screens/,
which git ignores).

Pushes arrive in the open page (no reload). Mixed text is checked where it is drawn: in
right-to-left messages a coach's German answer, the German line of the bilingual mode and
"/delete" read left to right, measured from the positions of their characters on the page.
The page must draw Ge'ez, Arabic script and emoji with the fonts it ships: the test asks
the browser which font faces loaded.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.webchat import WebChatSender
from bot.features.contact import answer_participant
from bot.i18n import BY_CODE
from bot.outbox.dispatcher import Dispatcher
from bot.web.app import create_app
from storage.models import PRIORITY_REMINDER, CoachMessage, StaffUser
from storage.outbox import enqueue
from storage.types import utcnow
from tests.conftest import serve_app
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, join_web_chat, tr

SCREENS = Path(
    os.environ.get("WEGWEISER_SCREENS") or Path(__file__).parents[1] / "test-artifacts" / "screens"
)
# The example (#20): a coach's answer that right-to-left display used to scramble.
COACH_ANSWER = "10:30 Uhr am 7.12., Raum 108. Bitte 2 Fotos mitbringen!"

pytestmark = pytest.mark.skipif(NO_CHROMIUM[0], reason=NO_CHROMIUM[1])

# Where the browser drew `piece` (the n-th time it occurs in the paragraph holding `within`):
# the left edge of each of its characters, and the paragraph's direction.
WHERE = """([within, piece]) => {
  const paragraphs = [...document.querySelectorAll('.msg p')]
    .filter(p => p.textContent.includes(within));
  const p = paragraphs[paragraphs.length - 1];
  if (!p) return null;
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  const lefts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(piece);
    if (at < 0) continue;
    for (let i = at; i < at + piece.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      lefts.push(range.getBoundingClientRect().left);
    }
    break;
  }
  return {lefts, dir: getComputedStyle(p).direction, attr: p.getAttribute('dir')};
}"""


async def where(page, within: str, piece: str) -> dict:
    found = await page.evaluate(WHERE, [within, piece])
    assert found and found["lefts"], f"{piece!r} not drawn in a paragraph with {within!r}"
    return found


async def reads_left_to_right(page, within: str, *pieces: str, paragraph: str = "ltr") -> None:
    """Each piece starts right of the one before (on one line: the pieces are chosen close
    together), in a paragraph of the given direction."""
    lefts = []
    for piece in pieces:
        found = await where(page, within, piece)
        assert found["dir"] == paragraph and found["attr"] == paragraph, (within, found)
        lefts.append(found["lefts"][0])
    assert lefts == sorted(lefts), (pieces, lefts)


@pytest.fixture
def screens() -> Path:
    """Where the screens go; made if missing."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


@pytest.mark.parametrize("code", ["ar", "fa", "ps", "ckb", "ti", "de_simple"])
async def test_screens_in_six_languages(
    code, screens, settings, sessions, router, make_participant, make_invite, make_appointment
):
    from playwright.async_api import async_playwright

    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    app = create_app(settings, sessions, router)
    dispatcher = Dispatcher(
        sessions=sessions,
        routes=router.routes,
        settings=settings,
        senders={"web": WebChatSender(app.state.webchat)},
    )
    rtl = BY_CODE[code].rtl

    async def remind() -> None:
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
        assert await dispatcher.drain() == 1

    async with serve_app(app) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})

            async def shot(name: str) -> None:
                await page.locator("#end").scroll_into_view_if_needed()  # the newest
                await page.wait_for_timeout(300)  # a swapped-in transcript scrolls smoothly
                await page.screenshot(path=str(screens / f"{code}-{name}.png"))

            await join_web_chat(page, url, invite.token, code)
            await shot("menu")
            await page.locator("button[value='mn:ap']").last.click()
            await page.locator(f"button[value='ap:c:{appointment.id}']").last.wait_for()
            await shot("appointments")
            await page.evaluate("() => { window.sameDocument = true; }")

            # A reminder, pushed by the dispatcher into the open page.
            await remind()
            reminder = tr(code, "Reminder of your appointment:")
            await page.get_by_text(reminder, exact=False).last.wait_for(timeout=8000)
            await shot("reminder")

            # The coach answers in German; the answer arrives in the open page.
            async with sessions.begin() as session:
                question = CoachMessage(
                    participant_id=participant.id,
                    staff_id=participant.coach_id,
                    direction="in",
                    body="Wann ist der Termin?",
                )
                session.add(question)
                await session.flush()
                coach = await session.get(StaffUser, participant.coach_id)
                assert coach is not None
                await answer_participant(
                    session, actor=coach, message_id=question.id, text=COACH_ANSWER, now=utcnow()
                )
            assert await dispatcher.drain() == 1
            await page.get_by_text(COACH_ANSWER).last.wait_for(timeout=8000)
            await shot("coach-answer")
            assert await page.evaluate("() => window.sameDocument") is True  # no reload
            await reads_left_to_right(page, COACH_ANSWER, "10:30", "Uhr", "am")
            await reads_left_to_right(page, COACH_ANSWER, "Bitte", "2 Fotos")
            await reads_left_to_right(page, COACH_ANSWER, "mitbringen", "!")

            if code != "de_simple":  # the bilingual mode adds German to other languages
                await page.locator("button[value='mn:lang']").last.click()
                await page.locator("button[value='bi:1']").last.click()
                done = tr("de", "Done. Every message now also comes in German.")
                await page.get_by_text(done).last.wait_for()
                await remind()
                german = tr("de", "Reminder of your appointment:")
                await page.get_by_text(german, exact=False).last.wait_for(timeout=8000)
                await shot("reminder-bilingual")
                first_word, *_ = german.split()
                await reads_left_to_right(page, german, first_word, german[-1])
                found = await where(page, reminder, reminder.split()[0])
                assert found["dir"] == ("rtl" if rtl else "ltr")

            direction = "rtl" if rtl else "ltr"
            assert await page.get_attribute("html", "dir") == direction
            # /privacy: "/delete" inside the language's own sentence keeps its slash in front.
            await page.locator("footer input[name='text']").fill("/privacy")
            await page.locator("footer button").click()
            who = tr(
                code,
                "Who sees it: your coach and the programme team. Nobody else.\n"
                "To delete everything: /delete",
            )
            delete_line = next(line for line in who.split("\n") if "/delete" in line)
            await page.get_by_text(delete_line.split("/delete")[0].strip()).last.wait_for()
            await shot("privacy")
            await reads_left_to_right(page, delete_line, "/", "delete", paragraph=direction)
            slash = await where(page, delete_line, "/delete")
            assert slash["lefts"] == sorted(slash["lefts"])

            loaded = await page.evaluate(
                "() => Array.from(document.fonts).filter(f => f.status === 'loaded')"
                ".map(f => f.family.replaceAll('\"', ''))"
            )
            assert "Wegweiser Emoji" in loaded  # 📅 ✅ ❌ drawn from the shipped subset
            if code == "ti":
                assert "Wegweiser Ethiopic" in loaded
            if rtl:
                assert "Wegweiser Arabic" in loaded
            fonts = await page.evaluate(
                "() => [...document.querySelectorAll('button, input')]"
                ".map(e => getComputedStyle(e).fontFamily)"
            )
            assert all(family.startswith('"Wegweiser Emoji"') for family in fonts), fonts
        finally:
            await browser.close()
