"""Group messages (broadcasts) from the staff web over real HTTP, with login and CSRF: the
same actions as the bot's /broadcast, the real dispatcher, and each participant's chat in
the fake Bot API as the proof."""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.features.broadcasts.actions import OFFICE_CLOSED
from bot.features.staff import accounts
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.formatting import long_date
from bot.plumbing.voice import Voice
from bot.web.app import create_app
from storage.models import AuditEntry, Broadcast, OutboxMessage
from tests.admin_client import AdminBrowser
from tests.conftest import serve_app
from tests.helpers import tr

PASSWORD = "correct horse battery"
ARABIC = "الدورة غدًا في القاعة ٢٠٤."
GERMAN = "Der Kurs ist morgen in Raum 204."


@pytest.fixture
async def site(settings, sessions, router):
    """The whole web app on a loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


@pytest.fixture
async def browser(site):
    """Factory: a staff member's browser (cookie jar) on the site, logged in."""
    opened: list[AdminBrowser] = []

    async def make(staff) -> AdminBrowser:
        opened.append(AdminBrowser(site))
        assert (await opened[-1].login(staff.email, PASSWORD)).status_code == 303
        return opened[-1]

    yield make
    for item in opened:
        await item.close()


@pytest.fixture
def dispatcher(telegram, sessions, settings) -> Dispatcher:
    """The real dispatcher over the fake Bot API; one row per claim, so a test can send
    part of a broadcast and stop the rest."""
    return Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings.model_copy(
            update={"dispatch_batch": 1, "telegram_messages_per_second": 1.0}
        ),
        senders={"telegram": telegram.application.bot_data["sender"]},
    )


@pytest.fixture
async def course(sessions, make_staff, make_participant, bind_chat, make_course):
    """A coach's course with an Arabic, a German and a Ukrainian reader (chats 9201-9203)."""
    coach = await make_staff(
        email="m.hoffmann@example.org", password_hash=await accounts.hash_password(PASSWORD)
    )
    people = {}
    for chat, locale in ((9201, "ar"), (9202, "de"), (9203, "uk")):
        person = await make_participant(accepted=True, locale=locale, coach_id=coach.id)
        await bind_chat(person, chat)
        people[chat] = person
    found = await make_course(
        slots=[(0, "09:00", "12:00")], participants=list(people.values()), coach_id=coach.id
    )
    return coach, found


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


def _texts(telegram, chat: int) -> list[str]:
    return [message["text"] for message in telegram.fake.sent(chat)]


def _report(page: str) -> dict[str, int]:
    """The report table: the state's word and its number."""
    return {
        word: int(number)
        for word, number in re.findall(
            r'<tr data-state="\w+"><th scope="row">([^<]+)<br>.*?<td class="number">(\d+)', page
        )
    }


async def _compose(b: AdminBrowser, course_id: int, **fields) -> int:
    await b.get("/admin/broadcasts/new")
    form = {"group": f"course:{course_id}", "content": "own", **fields}
    answer = await b.post("/admin/broadcasts/new", form)
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


async def test_an_arabic_version_and_a_german_fallback_reach_each_chat_once(
    browser, course, telegram, dispatcher, sessions
):
    coach, found = course
    b = await browser(coach)
    ident = await _compose(b, found.id, version_ar=ARABIC, version_de=GERMAN)
    # The preview: per language the number of people and the text they will read.
    preview = await b.get(f"/admin/broadcasts/{ident}")
    assert preview.status_code == 200
    assert "3 Personen bekommen diese Nachricht." in preview.text
    cards = dict(
        re.findall(
            r'data-language="(\w+)">.*?<p class="text"[^>]*>📢 ([^<]+)</p>', preview.text, re.S
        )
    )
    assert cards == {"ar": ARABIC, "de": GERMAN, "uk": GERMAN}  # no Ukrainian or English one
    assert telegram.fake.sent() == []  # nothing before "send"
    sent = await b.post(f"/admin/broadcasts/{ident}/send", {"when": "now"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=sent")
    while await dispatcher.tick():
        pass
    assert _texts(telegram, 9201) == ["📢 " + ARABIC]
    assert _texts(telegram, 9202) == ["📢 " + GERMAN]
    assert _texts(telegram, 9203) == ["📢 " + GERMAN]
    report = await b.get(sent.headers["location"])
    assert "Gesendet. Die Nachrichten gehen jetzt hinaus" in report.text
    assert _report(report.text) == {
        "gesendet": 3,
        "wartend": 0,
        "fehlgeschlagen": 0,
        "blockiert": 0,
        "übersprungen": 0,
        "gestoppt": 0,
    }
    assert f'action="/admin/broadcasts/{ident}/stop"' not in report.text  # nothing waits
    # Sending twice sends nothing twice.
    again = await b.post(f"/admin/broadcasts/{ident}/send", {"when": "now"})
    assert again.status_code == 400
    await dispatcher.drain()
    assert len(telegram.fake.sent(9201)) == 1
    # The list shows it, in English too.
    await b.post("/admin/language", {"lang": "en", "next": "/admin/broadcasts"})
    listing = await b.get("/admin/broadcasts")
    assert f'data-broadcast="{ident}"' in listing.text and "sent <b>3</b>" in listing.text
    english = await b.get(f"/admin/broadcasts/{ident}")
    assert "Delivery report" in english.text
    assert list(_report(english.text)) == [
        "sent",
        "waiting",
        "failed",
        "blocked",
        "skipped",
        "stopped",
    ]


async def test_stop_the_rest_leaves_the_rest_unsent_and_the_report_says_so(
    browser, course, telegram, dispatcher, sessions
):
    coach, found = course
    b = await browser(coach)
    ident = await _compose(b, found.id, text="Bitte Ausweis mitbringen.")
    await b.post(f"/admin/broadcasts/{ident}/send", {"when": "now"})
    assert await dispatcher.tick() == 1  # one copy went out; two wait
    report = await b.get(f"/admin/broadcasts/{ident}")
    assert _report(report.text)["gesendet"] == 1 and _report(report.text)["wartend"] == 2
    stopped = await b.post(f"/admin/broadcasts/{ident}/stop", {})
    assert stopped.status_code == 303
    await dispatcher.drain()
    received = [chat for chat in (9201, 9202, 9203) if telegram.fake.sent(chat)]
    assert len(received) == 1  # the rest never goes out
    report = await b.get(stopped.headers["location"])
    numbers = _report(report.text)
    assert (numbers["gesendet"], numbers["wartend"], numbers["gestoppt"]) == (1, 0, 2)
    assert "Gestoppt. Was noch nicht hinausgegangen war" in report.text
    assert (await b.post(f"/admin/broadcasts/{ident}/stop", {})).status_code == 400
    assert await _count(sessions, AuditEntry, AuditEntry.action == "broadcast.cancelled") == 1


async def test_a_planned_message_waits_for_its_time(
    browser, course, telegram, dispatcher, clock, settings
):
    coach, found = course
    b = await browser(coach)
    ident = await _compose(b, found.id, text="Morgen kein Kurs.")
    tomorrow = clock.local().date() + timedelta(days=1)
    past = await b.post(
        f"/admin/broadcasts/{ident}/send",
        {"when": "later", "date": clock.local().date().isoformat(), "time": "06:00"},
    )
    assert past.status_code == 400 and "Diese Zeit ist vorbei" in past.text
    planned = await b.post(
        f"/admin/broadcasts/{ident}/send",
        {"when": "later", "date": tomorrow.isoformat(), "time": "08:00"},
    )
    assert planned.headers["location"].endswith("?done=planned")
    assert await dispatcher.tick() == 0 and telegram.fake.sent() == []
    report = await b.get(f"/admin/broadcasts/{ident}")
    assert "Geplant für" in report.text and _report(report.text)["wartend"] == 3
    clock.move_to(datetime.combine(tomorrow, time(8, 0, 5), settings.tz))
    await dispatcher.drain()
    # 9201 reads Arabic: the German text is isolated there (FSI ... PDI), as typed text is.
    assert [_texts(telegram, chat) for chat in (9201, 9202, 9203)] == [
        ["📢 \u2068Morgen kein Kurs.\u2069"],
        ["📢 Morgen kein Kurs."],
        ["📢 Morgen kein Kurs."],
    ]


async def test_bad_input_is_answered_beside_the_field_and_saves_nothing(browser, course, sessions):
    coach, found = course
    b = await browser(coach)
    await b.get("/admin/broadcasts/new")
    own = {"content": "own", "text": "Hallo"}
    cases = [
        ({"content": "own", "text": ""}, "text", "Schreiben Sie die Nachricht, oder wählen Sie"),
        ({"content": "office_closed", "date": "2020-01-01"}, "date", "Geben Sie den Tag an"),
        ({"content": "office_closed", "date": "31.02."}, "date", "Geben Sie den Tag an"),
        ({"content": "room_changed", "place": ""}, "place", "Schreiben Sie den neuen Raum"),
        ({"content": "room_changed", "place": "x" * 201}, "place", "höchstens 200 Zeichen"),
        ({"content": "own", "text": "x" * 1001}, "text", "höchstens 1000 Zeichen"),
        ({**own, "version_ar": "x" * 1001}, "version_ar", "höchstens 1000 Zeichen"),
        ({**own, "group": "everyone"}, "group", "Nur die Admins"),
        ({**own, "group": "course:abc"}, "group", "Wählen Sie, wer die Nachricht bekommt."),
        ({**own, "languages": "xx"}, "languages", "Diese Sprache gibt es hier nicht"),
        ({"content": "no_such", "text": "Hallo"}, "content", "Wählen Sie, was darin steht."),
    ]
    for fields, name, message in cases:
        answer = await b.post("/admin/broadcasts/new", {"group": f"course:{found.id}", **fields})
        assert answer.status_code == 400, fields
        beside = re.search(
            rf'<span class="field-error" id="{name}-error">([^<]+)</span>', answer.text
        )
        assert beside and message in beside.group(1), (fields, answer.text[-3000:])
    assert ">Hallo</textarea>" in answer.text  # what was typed comes back
    assert await _count(sessions, Broadcast) == 0


async def test_a_coach_sees_and_reaches_only_their_own(
    browser, course, sessions, make_staff, make_participant, make_course, bind_chat
):
    coach, found = course
    other = await make_staff(password_hash=await accounts.hash_password(PASSWORD))
    stranger = await make_participant(accepted=True, coach_id=other.id)
    await bind_chat(stranger, 9299)
    theirs = await make_course(
        slots=[(1, "10:00", "11:00")],
        coach_id=other.id,
        participants=[stranger],
        title="Fremder Kurs",
    )
    admin = await make_staff(role="admin", password_hash=await accounts.hash_password(PASSWORD))
    b, c = await browser(coach), await browser(other)
    mine = await _compose(b, found.id, text="Meins")
    foreign = await _compose(c, theirs.id, text="Fremd")
    assert (await c.post(f"/admin/broadcasts/{foreign}/send", {"when": "now"})).status_code == 303
    form = await b.get("/admin/broadcasts/new")
    assert "Fremder Kurs" not in form.text and 'value="everyone"' not in form.text
    audits, rows = await _count(sessions, AuditEntry), await _count(sessions, OutboxMessage)
    own = {"content": "own", "text": "x"}
    forged = [
        ("get", f"/admin/broadcasts/{foreign}", None),
        ("get", f"/admin/broadcasts/{foreign}/edit", None),
        ("post", f"/admin/broadcasts/{foreign}/edit", {"group": "caseload", "text": "x"}),
        ("post", f"/admin/broadcasts/{foreign}/send", {"when": "now"}),
        ("post", f"/admin/broadcasts/{foreign}/stop", {}),
        ("post", f"/admin/broadcasts/{foreign}/discard", {}),
        ("post", "/admin/broadcasts/new", {"group": f"course:{theirs.id}", **own}),
        ("post", f"/admin/broadcasts/{mine}/edit", {"group": f"course:{theirs.id}", **own}),
        ("get", "/admin/broadcasts/999999999", None),
    ]
    for method, path, data in forged:
        answer = await (b.get(path) if method == "get" else b.post(path, data))
        assert answer.status_code == 404, (method, path)
        assert "nicht zu Ihren" in answer.text or "existiert nicht" in answer.text
    assert await _count(sessions, AuditEntry) == audits  # a refused request leaves no trace
    assert await _count(sessions, OutboxMessage) == rows
    async with sessions() as session:
        kept = await session.get(Broadcast, mine)
        assert kept.segment["id"] == found.id and kept.text == "Meins"
    assert f'data-broadcast="{foreign}"' not in (await b.get("/admin/broadcasts")).text
    everything = await (await browser(admin)).get("/admin/broadcasts")
    assert f'data-broadcast="{foreign}"' in everything.text


async def test_a_draft_is_changed_to_a_ready_message_in_each_language_and_thrown_away(
    browser, course, sessions, settings, clock
):
    coach, found = course
    b = await browser(coach)
    ident = await _compose(b, found.id, text="Erst so", version_ar=ARABIC)
    edit = await b.get(f"/admin/broadcasts/{ident}/edit")
    assert ">Erst so</textarea>" in edit.text and f">{ARABIC}</textarea>" in edit.text
    day = clock.local().date() + timedelta(days=2)
    changed = await b.post(
        f"/admin/broadcasts/{ident}/edit",
        {"group": f"course:{found.id}", "content": "office_closed", "date": day.isoformat()},
    )
    assert changed.status_code == 303
    preview = await b.get(f"/admin/broadcasts/{ident}")
    for code in ("ar", "de", "uk"):
        voice = Voice.for_language(code, tz=settings.tz, now=clock.now())
        expected = tr(code, OFFICE_CLOSED, date=voice.isolate(long_date(voice, day)))
        assert f"📢 {html.escape(expected, quote=False)}</p>" in preview.text, code
    thrown = await b.post(f"/admin/broadcasts/{ident}/discard", {})
    assert thrown.headers["location"] == "/admin/broadcasts?done=discarded"
    assert await _count(sessions, Broadcast) == 0
