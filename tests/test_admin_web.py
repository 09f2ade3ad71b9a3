"""The admin web over real HTTP: login, sessions, CSRF, roles, participants, import,
invite letters, appointments, courses, inbox and audit log."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.features.staff import accounts
from bot.web.app import create_app
from storage.models import (
    Appointment,
    AuditEntry,
    CoachMessage,
    Enrolment,
    Invite,
    Module,
    OutboxMessage,
    Participant,
    StaffSession,
    ThrottleHit,
)
from tests.admin_client import AdminBrowser
from tests.conftest import serve_app
from tests.helpers import tr

BERLIN = ZoneInfo("Europe/Berlin")
PASSWORD = "correct horse battery"


@pytest.fixture
async def site(settings, sessions, router):
    """The whole web app on a loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


@pytest.fixture
def staff(make_staff):
    """Factory: a staff user with PASSWORD."""

    async def make(role: str = "coach", **overrides):
        hashed = await accounts.hash_password(PASSWORD)
        return await make_staff(role=role, password_hash=hashed, **overrides)

    return make


@pytest.fixture
async def browser(site):
    """Factory: a new browser (cookie jar) on the site."""
    opened: list[AdminBrowser] = []

    def make(address: str | None = None, url: str | None = None) -> AdminBrowser:
        opened.append(AdminBrowser(url or site, address))
        return opened[-1]

    yield make
    for item in opened:
        await item.close()


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


def _tomorrow(hour: int) -> tuple[str, str]:
    day = datetime.now(BERLIN).date() + timedelta(days=2)
    return day.isoformat(), time(hour).strftime("%H:%M")


# ---------------------------------------------------------------- login and sessions


async def test_pages_need_a_login_and_come_back_after_it(browser, staff):
    coach = await staff(email="m.hoffmann@example.org")
    b = browser()
    response = await b.get("/admin/participants?q=Am")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=%2Fadmin%2Fparticipants%3Fq%3DAm"
    page = await b.client.get("/admin/login")
    assert "Anmelden" in page.text  # German first
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    login = await b.login(coach.email, PASSWORD)
    assert login.status_code == 303 and login.headers["location"] == "/admin"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie


async def test_wrong_passwords_lock_the_account_from_that_address_only(
    browser, staff, sessions
):
    coach = await staff()
    b = browser()
    for _ in range(5):
        wrong = await b.login(coach.email, "not the password")
        assert wrong.status_code == 401
        assert "E-Mail-Adresse oder Passwort ist falsch" in wrong.text
    # The sixth try from there is refused without checking, even with the right password.
    throttled = await b.login(coach.email, PASSWORD)
    assert throttled.status_code == 429
    assert "15 Minuten" in throttled.text
    assert await _count(sessions, StaffSession) == 0
    # The real coach at another computer still logs in: guesses elsewhere lock nobody out.
    elsewhere = await browser("127.0.0.2").login(coach.email, PASSWORD)
    assert elsewhere.status_code == 303
    assert (await b.login(coach.email, PASSWORD)).status_code == 429  # still slowed there
    # Another account from the first address is not locked by this one.
    other = await staff()
    assert (await browser().login(other.email, PASSWORD)).status_code == 303
    # Only keyed hashes are stored, never the e-mail or the address.
    async with sessions() as session:
        keys = (await session.scalars(select(ThrottleHit.key))).all()
    assert keys and not any(coach.email in key or "127.0.0" in key for key in keys)


async def test_an_address_that_guesses_many_accounts_is_slowed_as_a_whole(browser, staff):
    from bot.plumbing.throttle import PER_CLIENT

    accounts_ = [await staff() for _ in range(PER_CLIENT.tries // 5 + 1)]
    guesser = browser("127.0.0.3")
    answers = []
    for account in accounts_:
        for _ in range(5):
            answers.append((await guesser.login(account.email, "wrong")).status_code)
    assert answers.count(401) == PER_CLIENT.tries
    assert answers[PER_CLIENT.tries :] == [429] * (len(answers) - PER_CLIENT.tries)
    # The last account's owner, elsewhere, is not affected.
    assert (await browser().login(accounts_[-1].email, PASSWORD)).status_code == 303


async def test_guesses_count_the_same_with_two_processes_and_after_a_restart(
    settings, sessions, router, browser, staff
):
    """Two web processes on one database (two apps that share nothing but it) let five
    guesses per account and address through in 15 minutes, the same as one; a third,
    started afterwards, still refuses."""
    coach = await staff()
    async with (
        serve_app(create_app(settings, sessions, router)) as second,
        serve_app(create_app(settings, sessions, router)) as third,
    ):
        first, other = browser(), browser(url=second)
        answers = []
        for attempt in range(10):
            guesser = first if attempt % 2 == 0 else other
            answers.append((await guesser.login(coach.email, f"guess {attempt}")).status_code)
        assert answers.count(401) == 5 and answers.count(429) == 5
        restarted = await browser(url=third).login(coach.email, PASSWORD)
        assert restarted.status_code == 429


async def test_an_admin_lifts_a_lock_from_the_command_line(
    settings, browser, staff, sessions, capsys, monkeypatch
):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    coach = await staff()
    b = browser()
    for _ in range(5):
        await b.login(coach.email, "wrong")
    assert (await b.login(coach.email, PASSWORD)).status_code == 429
    assert await asyncio.to_thread(main, ["admin", "unlock", "--email", coach.email.upper()]) == 0
    assert "5 counted tries forgotten" in capsys.readouterr().out
    assert (await b.login(coach.email, PASSWORD)).status_code == 303
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "staff.unlocked")
        )
    assert entry is not None and entry.object_id == coach.id and entry.actor == "cli"
    missing = await asyncio.to_thread(main, ["admin", "unlock", "--email", "nobody@example.org"])
    assert missing == 1 and "no staff user" in capsys.readouterr().err


async def test_parallel_guesses_cannot_outrun_the_throttle(browser, staff):
    """Tries are counted before the slow password check, so ten at once get five checks."""
    coach = await staff()
    guessers = [browser() for _ in range(10)]
    answers = await asyncio.gather(*(g.login(coach.email, "wrong guess") for g in guessers))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) == 5 and codes.count(429) == 5


async def test_a_forged_login_form_is_refused(browser, staff):
    coach = await staff()
    b = browser()
    await b.client.get("/admin/login")
    response = await b.client.post(
        "/admin/login",
        data={"token": "forged-token-value-xxxxxxxx", "email": coach.email, "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "wegweiser_admin" not in response.headers.get("set-cookie", "")


async def test_logout_ends_the_session_on_the_server(browser, staff, sessions):
    coach = await staff()
    b = browser()
    await b.login(coach.email, PASSWORD)
    cookie = b.client.cookies.get("wg_admin")
    assert (await b.get("/admin/")).status_code == 200
    out = await b.post("/admin/logout")
    assert out.status_code == 303
    assert await _count(sessions, StaffSession) == 0
    # The old cookie, replayed by someone who copied it, no longer opens anything.
    replay = AdminBrowser(str(b.client.base_url))
    replay.client.cookies.set("wg_admin", cookie, path="/admin")
    assert (await replay.get("/admin/")).status_code == 303
    await replay.close()


async def test_password_change_ends_other_logins(browser, staff, sessions):
    coach = await staff()
    desk, laptop = browser(), browser()
    await desk.login(coach.email, PASSWORD)
    await laptop.login(coach.email, PASSWORD)
    await desk.get("/admin/password")
    short = await desk.post(
        "/admin/password", {"current": PASSWORD, "new": "short", "again": "short"}
    )
    assert short.status_code == 400 and "12 Zeichen" in short.text
    wrong = await desk.post(
        "/admin/password",
        {"current": "nope", "new": "a new long password", "again": "a new long password"},
    )
    assert wrong.status_code == 400
    changed = await desk.post(
        "/admin/password",
        {"current": PASSWORD, "new": "a new long password", "again": "a new long password"},
    )
    assert changed.status_code == 303
    assert (await desk.get("/admin/")).status_code == 200  # this browser got a new session
    assert (await laptop.get("/admin/")).status_code == 303  # the other one is logged out
    assert await _count(sessions, StaffSession) == 1
    assert (await browser().login(coach.email, "a new long password")).status_code == 303


async def test_password_checks_run_off_the_event_loop(monkeypatch):
    """Argon2 takes ~100 ms of CPU; on the loop it would stall every chat."""
    threads: list[int] = []
    real = accounts._hasher

    class Spy:
        def hash(self, password: str) -> str:
            threads.append(threading.get_ident())
            return real.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            threads.append(threading.get_ident())
            return real.verify(stored, password)

    monkeypatch.setattr(accounts, "_hasher", Spy())
    hashed = await accounts.hash_password(PASSWORD)
    assert await accounts._verify(hashed, PASSWORD)
    assert not await accounts._verify(hashed, "wrong")
    assert len(threads) == 3 and threading.get_ident() not in threads


async def test_posts_without_the_csrf_token_change_nothing(browser, staff, sessions):
    admin = await staff(role="admin")
    b = browser()
    await b.login(admin.email, PASSWORD)
    response = await b.post(
        "/admin/participants/new", {"name": "Forged", "coach": str(admin.id)}, csrf=False
    )
    assert response.status_code == 403
    assert "Nichts wurde geändert" in response.text or "nichts geändert" in response.text.lower()
    forged = await b.post(
        "/admin/participants/new", {"name": "Forged", "coach": str(admin.id), "csrf": "x" * 43}
    )
    assert forged.status_code == 403
    assert await _count(sessions, Participant) == 0


# ---------------------------------------------------------------- roles


async def test_a_coach_sees_and_changes_only_their_own_participants(
    browser, staff, make_participant, make_appointment, sessions
):
    mine, theirs = await staff(), await staff()
    own = await make_participant(display_name="Dawit", coach_id=mine.id)
    other = await make_participant(display_name="Olena", coach_id=theirs.id)
    foreign = await make_appointment(other)
    b = browser()
    await b.login(mine.email, PASSWORD)
    listing = await b.get("/admin/participants")
    assert "Dawit" in listing.text and "Olena" not in listing.text
    assert (await b.get(f"/admin/participants/{own.id}")).status_code == 200
    assert (await b.get(f"/admin/participants/{other.id}")).status_code == 404
    # A forged id in a form: another coach's appointment, posted under one's own participant.
    cancel = await b.post(f"/admin/participants/{own.id}/appointments/{foreign.id}/cancel")
    assert cancel.status_code == 400
    async with sessions() as session:
        assert (await session.get(Appointment, foreign.id)).cancelled_at is None
    moved = await b.post(
        f"/admin/participants/{other.id}/appointments",
        {
            "kind": "coaching",
            "date": _tomorrow(10)[0],
            "start": "10:00",
            "end": "11:00",
            "location": "Kreishaus",
        },
    )
    assert moved.status_code == 404  # "not yours" reads like "does not exist"
    assert await _count(sessions, Appointment) == 1
    assert (await b.get("/admin/audit")).status_code == 403  # admins only


async def test_an_admin_sees_everyone_and_the_audit_log(browser, staff, make_participant):
    admin, coach = await staff(role="admin"), await staff()
    await make_participant(display_name="Hevin", coach_id=coach.id)
    b = browser()
    await b.login(admin.email, PASSWORD)
    assert "Hevin" in (await b.get("/admin/participants")).text
    audit = await b.get("/admin/audit?action=staff.login")
    assert audit.status_code == 200 and f"staff:{admin.id}" in audit.text


# ---------------------------------------------------------------- participants


async def test_create_edit_and_filter_participants(browser, staff, sessions):
    admin = await staff(role="admin")
    async with sessions.begin() as session:
        session.add(Module(code="pfaff", name_de="PfaFF"))
    b = browser()
    await b.login(admin.email, PASSWORD)
    await b.get("/admin/participants/new")
    empty = await b.post("/admin/participants/new", {"name": "  ", "coach": str(admin.id)})
    assert empty.status_code == 400 and "Name" in empty.text
    created = await b.post(
        "/admin/participants/new", {"name": "Amina", "language": "ar", "coach": str(admin.id)}
    )
    assert created.status_code == 303
    pid = int(created.headers["location"].split("/")[-1].split("?")[0])
    await b.get(f"/admin/participants/{pid}/edit")
    edited = await b.post(
        f"/admin/participants/{pid}/edit",
        {"name": "Amina", "language": "ti", "coach": str(admin.id)},
    )
    assert edited.status_code == 303
    async with sessions() as session:
        person = await session.get(Participant, pid)
        assert person.locale == "ti"
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "participant.changed")
        )
        assert entry.detail == {"fields": ["locale"]}  # field names, never values
    unreachable = await b.get("/admin/participants?reachable=no&language=ti")
    assert "Amina" in unreachable.text
    assert "Amina" not in (await b.get("/admin/participants?reachable=yes")).text
    assert "Amina" not in (await b.get("/admin/participants?q=zzz")).text


async def test_csv_import_names_each_broken_cell_and_imports_nothing(browser, staff, sessions):
    admin = await staff(role="admin", email="admin@example.org")
    coach = await staff(email="coach@example.org")
    async with sessions.begin() as session:
        session.add(Module(code="pfaff", name_de="PfaFF"))
    b = browser()
    await b.login(admin.email, PASSWORD)
    await b.get("/admin/participants/import")
    broken = (
        b"name;language;module;coach\n"
        b"Amina;ar;pfaff;coach@example.org\n"
        b";uk;pfaff;coach@example.org\n"
        b"Olena;xx;nope;nobody@example.org\n"
        b"Dawit;ti\n"
    )
    response = await b.post(
        "/admin/participants/import", files={"file": ("people.csv", broken, "text/csv")}
    )
    assert response.status_code == 400
    text = re.sub(r"<td [^>]*>", "<td>", response.text)  # the cells, without their labels
    assert "nichts importiert" in text
    for line, column in (("3", "name"), ("4", "language"), ("4", "module"), ("4", "coach")):
        assert f"<td>{line}</td><td>{column}</td>" in text
    assert "<td>5</td><td>–</td>" in text  # too few cells
    assert await _count(sessions, Participant) == 0

    good = (
        "name,language,module,coach\n"
        "Amina,ar,pfaff,coach@example.org\n"
        "Dawit,ti,,coach@example.org\n"
    )
    imported = await b.post(
        "/admin/participants/import", files={"file": ("people.csv", good.encode(), "text/csv")}
    )
    assert imported.status_code == 200 and "2 Teilnehmende" in imported.text
    async with sessions() as session:
        people = (await session.scalars(select(Participant).order_by(Participant.id))).all()
        assert [(p.display_name, p.locale, p.coach_id) for p in people] == [
            ("Amina", "ar", coach.id),
            ("Dawit", "ti", coach.id),
        ]


async def test_csv_import_from_the_command_line(
    settings, staff, sessions, tmp_path, capsys, monkeypatch
):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    admin = await staff(role="admin")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"name,language,coach\nAmina,zz,{admin.email}\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text(f"name,language,coach\nAmina,ar,{admin.email}\n", encoding="utf-8")

    def run(*args: str) -> int:
        return main(["participants", "import", *args])

    loop_free = await asyncio.to_thread(run, str(bad))
    assert loop_free == 1
    err = capsys.readouterr().err
    assert "line 2, column language: Unknown language" in err
    assert "wegweiser: 1 problem; nothing was imported" in err
    assert await _count(sessions, Participant) == 0
    assert await asyncio.to_thread(run, str(good)) == 0
    assert "imported 1 participant\n" in capsys.readouterr().out
    assert await _count(sessions, Participant) == 1


# ---------------------------------------------------------------- invites


async def test_invite_letter_in_two_languages_and_a_new_one_revokes_the_old(
    browser, staff, make_participant, sessions
):
    coach = await staff(display_name="Miriam Hoffmann")
    person = await make_participant(display_name="Amina", locale="ar", coach_id=coach.id)
    b = browser()
    await b.login(coach.email, PASSWORD)
    await b.get(f"/admin/participants/{person.id}")
    first = await b.post(f"/admin/participants/{person.id}/invite")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    html = first.text
    # No Telegram token here: only the web chat's code, no Telegram steps, no Signal line.
    assert html.count('src="data:image/svg+xml') == 1
    assert "t.me/" not in html and tr("ar", "2. Telegram opens. Press “Start”.") not in html
    web_only = "Scan the code with your phone camera. The chat opens in your browser."
    assert tr("ar", web_only) in html
    assert "Signal" not in html
    for code in ("ar", "de"):  # the participant's language, and German beside it
        assert tr(code, "Your invitation to Wegweiser") in html
    assert 'dir="rtl"' in html and 'lang="ar"' in html  # the participant's column
    assert "Miriam Hoffmann" in html and "@page { size: A4" in html
    second = await b.post(f"/admin/participants/{person.id}/invite")
    assert second.status_code == 200
    async with sessions() as session:
        invites = (await session.scalars(select(Invite).order_by(Invite.id))).all()
    assert len(invites) == 2
    assert invites[0].revoked_at is not None and invites[1].revoked_at is None
    revoke = await b.post(f"/admin/participants/{person.id}/revoke")
    assert revoke.status_code == 303
    assert await _count(sessions, Invite, Invite.revoked_at.is_(None)) == 0


async def test_the_letter_shows_telegram_and_signal_when_both_are_set_up(
    settings, sessions, router, staff, make_participant
):
    with_both = settings.model_copy(
        update={
            "telegram_bot_token": "123456:TEST-TOKEN",
            "telegram_bot_username": "KreisHelferBot",
            "signal_rpc_url": "http://127.0.0.1:8081",
            "signal_account": "+4923031234567",
        }
    )
    coach = await staff()
    person = await make_participant(display_name="Hevin", locale="ckb", coach_id=coach.id)
    async with serve_app(create_app(with_both, sessions, router)) as url:
        b = AdminBrowser(url)
        await b.login(coach.email, PASSWORD)
        await b.get(f"/admin/participants/{person.id}")
        letter = await b.post(f"/admin/participants/{person.id}/invite")
        await b.close()
    html = letter.text
    assert html.count('src="data:image/svg+xml') == 2  # Telegram and web chat QR codes
    token = re.search(r"t\.me/KreisHelferBot\?start=([\w-]+)", html).group(1)
    assert f"/chat?start={token}" in html
    assert tr("ckb", "2. Telegram opens. Press “Start”.") in html
    signal_step = tr("ckb", "With Signal: send this message to {number}:", number="X")
    before, after = signal_step.split("X")
    assert f"{before}\u2068+4923031234567\u2069{after}" in html  # isolated in Sorani
    assert tr("de", "With Signal: send this message to {number}:", number="+4923031234567") in html
    assert f">start {token}</span>" in html


# ---------------------------------------------------------------- appointments and courses


async def test_plan_move_and_cancel_an_appointment(browser, staff, make_participant, sessions):
    coach = await staff()
    person = await make_participant(display_name="Farid", accepted=True, coach_id=coach.id)
    b = browser()
    await b.login(coach.email, PASSWORD)
    await b.get(f"/admin/participants/{person.id}")
    day, _ = _tomorrow(10)
    bad = await b.post(
        f"/admin/participants/{person.id}/appointments",
        {
            "kind": "coaching",
            "date": day,
            "start": "11:00",
            "end": "10:00",
            "location": "Kreishaus",
        },
    )
    assert bad.status_code == 400 and "Termin" in bad.text
    assert await _count(sessions, Appointment) == 0
    planned = await b.post(
        f"/admin/participants/{person.id}/appointments",
        {
            "kind": "coaching",
            "date": day,
            "start": "10:00",
            "end": "10:45",
            "location": "Kreishaus",
        },
    )
    assert planned.status_code == 303
    async with sessions() as session:
        appointment = await session.scalar(select(Appointment))
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert appointment.starts_at.astimezone(BERLIN).hour == 10
    templates = sorted(r.template for r in rows)
    assert templates.count("appointment.reminder") == 2 and "appointment.changed" in templates
    page = await b.get(f"/admin/participants/{person.id}")
    assert "noch keine Antwort" in page.text
    moved = await b.post(
        f"/admin/participants/{person.id}/appointments/{appointment.id}/move",
        {"date": day, "start": "14:00", "end": "14:45"},
    )
    assert moved.status_code == 303
    cancelled = await b.post(
        f"/admin/participants/{person.id}/appointments/{appointment.id}/cancel"
    )
    assert cancelled.status_code == 303
    async with sessions() as session:
        stored = await session.get(Appointment, appointment.id)
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.template == "appointment.reminder", OutboxMessage.state == "pending"
            )
        )
    assert stored.cancelled_at is not None and stored.starts_at.astimezone(BERLIN).hour == 14
    assert pending == 0


async def test_courses_enrol_leave_and_exceptions(
    settings, sessions, router, staff, make_participant
):
    coach = await staff()
    person = await make_participant(display_name="Samira", accepted=True, coach_id=coach.id)
    # Without quiet hours, tomorrow's session always has a reminder still ahead (2 h before),
    # whatever the time of the run.
    awake = settings.model_copy(update={"quiet_hours": ""})
    async with serve_app(create_app(awake, sessions, router)) as url:
        b = AdminBrowser(url)
        try:
            await b.login(coach.email, PASSWORD)
            await _courses_flow(b, person, sessions)
        finally:
            await b.close()


async def _courses_flow(b, person, sessions):
    await b.get("/admin/courses/new")
    today = datetime.now(BERLIN).date()
    form = {
        "title": "Deutsch B1",
        "kind": "german_course",
        "location": "VHS Unna",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=60)).isoformat(),
        "day0": str((today + timedelta(days=1)).weekday()),
        "start0": "09:00",
        "end0": "12:30",
    }
    created = await b.post("/admin/courses/new", form)
    assert created.status_code == 303
    cid = int(created.headers["location"].split("/")[-1].split("?")[0])
    await b.get(f"/admin/courses/{cid}")
    enrolled = await b.post(f"/admin/courses/{cid}/enrol", {"participant": str(person.id)})
    assert enrolled.status_code == 303
    assert await _count(sessions, OutboxMessage, OutboxMessage.template == "course.reminder") >= 1
    twice = await b.post(f"/admin/courses/{cid}/enrol", {"participant": str(person.id)})
    assert twice.status_code == 400
    tomorrow = (today + timedelta(days=1)).isoformat()
    marked = await b.post(
        f"/admin/courses/{cid}/exceptions", {"date": tomorrow, "reason": "holiday"}
    )
    assert marked.status_code == 303
    assert (
        await _count(
            sessions,
            OutboxMessage,
            OutboxMessage.template == "course.reminder",
            OutboxMessage.state == "pending",
        )
        == 0
    )
    left = await b.post(f"/admin/courses/{cid}/leave", {"participant": str(person.id)})
    assert left.status_code == 303
    assert await _count(sessions, Enrolment) == 0


# ---------------------------------------------------------------- dashboard and inbox


async def test_dashboard_shows_answers_and_unreachable_people(
    browser, staff, make_participant, make_appointment, bind_chat
):
    coach = await staff()
    amina = await make_participant(display_name="Amina", accepted=True, coach_id=coach.id)
    await bind_chat(amina, 7001)
    farid = await make_participant(display_name="Farid", coach_id=coach.id)
    soon = datetime.now(BERLIN).replace(hour=23, minute=0, second=0, microsecond=0)
    tomorrow_noon = (datetime.now(BERLIN) + timedelta(days=1)).replace(hour=12, minute=0)
    if soon <= datetime.now(BERLIN):
        soon = tomorrow_noon
    await make_appointment(amina, starts_at=tomorrow_noon, response="confirmed")
    await make_appointment(farid, starts_at=tomorrow_noon + timedelta(hours=2))
    b = browser()
    await b.login(coach.email, PASSWORD)
    page = await b.get("/admin/")
    text = page.text
    tomorrow_part = text[text.index('id="tomorrow"') : text.index('id="unconfirmed"')]
    assert "Amina" in tomorrow_part and "✅" in tomorrow_part
    unreachable = text[text.index('id="unreachable"') : text.index('id="handovers"')]
    assert "Farid" in unreachable and "Amina" not in unreachable
    assert "<svg" in text and "<rect" in text


async def test_inbox_shows_notices_in_the_coachs_language_and_a_post_marks_them_read(
    browser, staff, make_participant, make_appointment, sessions
):
    coach = await staff(locale="de")
    person = await make_participant(display_name="Hevin", accepted=True, coach_id=coach.id)
    appointment = await make_appointment(person, response="confirmed")
    async with sessions.begin() as session:
        session.add(
            OutboxMessage(
                staff_id=coach.id,
                template="appointment.answer",
                subject_type="appointment",
                subject_id=appointment.id,
                params={"response": "confirmed"},
                state="inbox",
            )
        )
    b = browser()
    await b.login(coach.email, PASSWORD)
    page = await b.get("/admin/inbox")
    assert "Hevin" in page.text and "neu" in page.text
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.state == "inbox"  # looking changes nothing (a GET never does)
    assert '<span class="badge">' in (await b.get("/admin/inbox")).text
    # A notice that arrives after the page was shown stays new.
    async with sessions.begin() as session:
        later = OutboxMessage(
            staff_id=coach.id,
            template="appointment.answer",
            subject_type="appointment",
            subject_id=appointment.id,
            params={"response": "declined"},
            state="inbox",
        )
        session.add(later)
    upto = re.search(r'name="upto" value="(\d+)"', page.text).group(1)
    marked = await b.post("/admin/inbox/read", {"upto": upto})
    assert marked.status_code == 303
    async with sessions() as session:
        states = dict((await session.execute(select(OutboxMessage.id, OutboxMessage.state))).all())
    assert states == {row.id: "read", later.id: "inbox"}
    again = await b.get("/admin/inbox")
    assert again.text.count('<span class="badge">') == 1
    assert marked.headers["location"] == "/admin/inbox?done=read"


# ---------------------------------------------------------------- data protection


async def test_staff_export_and_erase_a_participant(
    browser, staff, make_participant, make_appointment, bind_chat, sessions
):
    coach, other = await staff(), await staff()
    person = await make_participant(display_name="Hevin", locale="ku", coach_id=coach.id)
    await bind_chat(person, 7401)
    await make_appointment(person, response="declined", response_note="exam at school")
    b = browser()
    await b.login(coach.email, PASSWORD)
    page = await b.get(f"/admin/participants/{person.id}/export")
    assert page.status_code == 200 and "exam at school" in page.text
    download = await b.get(f"/admin/participants/{person.id}/export?format=json")
    data = download.json()
    assert data["participant"]["name"] == "Hevin"
    assert data["appointments"][0]["reason"] == "exam at school"
    assert data["chats"] == [
        {
            "channel": "telegram",
            "connected_at": data["chats"][0]["connected_at"],
            "blocked_at": None,
        }
    ]
    async with sessions.begin() as session:
        session.add(CoachMessage(participant_id=person.id, direction="in", body="Bin krank."))
    data = (await b.get(f"/admin/participants/{person.id}/export?format=json")).json()
    assert data["messages_with_the_coach"][0]["text"] == "Bin krank."
    # Another coach can neither read nor erase it.
    nosy = browser()
    await nosy.login(other.email, PASSWORD)
    assert (await nosy.get(f"/admin/participants/{person.id}/export")).status_code == 404
    await nosy.get("/admin/")
    assert (
        await nosy.post(f"/admin/participants/{person.id}/erase", {"confirm": "yes"})
    ).status_code == 404
    # Without the tick nothing happens; with it everything goes.
    await b.get(f"/admin/participants/{person.id}")
    unticked = await b.post(f"/admin/participants/{person.id}/erase")
    assert unticked.status_code == 400
    erased = await b.post(f"/admin/participants/{person.id}/erase", {"confirm": "yes"})
    assert erased.status_code == 303
    async with sessions() as session:
        row = await session.get(Participant, person.id)
        assert row.status == "deleted" and row.display_name == ""
        assert await _count(sessions, Appointment) == 0
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "participant.exported" in actions and "participant.erased" in actions
    assert "Hevin" not in (await b.get("/admin/participants")).text


# ---------------------------------------------------------------- programme end and report


async def test_demo_data_reproduces_the_press_release_figures(browser, sessions, settings):
    from bot.demo import ADMIN_EMAIL, ADMIN_PASSWORD, seed_demo
    from storage.types import utcnow

    async with sessions.begin() as session:
        assert await seed_demo(session, now=utcnow(), tz=settings.tz)
    b = browser()
    await b.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    page = await b.get("/admin/report")
    totals = dict(re.findall(r'data-total="(\w+)"><strong>(\d+)</strong>', page.text))
    assert totals == {
        "reached": "200",
        "supported_at_end": "90",
        "german_course": "20",
        "apprenticeship": "20",
        "employment": "25",
        "school": "2",
        "internship": "5",
        "other": "10",
        "unknown": "8",
    }
    assert "Zum Projektende noch betreut" in page.text


async def test_programme_end_for_a_module_and_the_handover_list(
    browser, staff, make_participant, sessions, settings
):
    from bot.features.handover import end_due
    from bot.plumbing.routes import JobContext
    from storage.models import HandoverRequest
    from storage.types import utcnow

    coach = await staff(display_name="Yusuf Demir")
    async with sessions.begin() as session:
        session.add_all(
            [Module(code="coaching", name_de="Coaching"), Module(code="pfaff", name_de="PfaFF")]
        )
    async with sessions() as session:
        modules = {m.code: m.id for m in await session.scalars(select(Module))}
    farid = await make_participant(
        display_name="Farid",
        locale="fa",
        accepted=True,
        coach_id=coach.id,
        module_id=modules["coaching"],
    )
    amina = await make_participant(
        display_name="Amina",
        locale="ar",
        accepted=True,
        coach_id=coach.id,
        module_id=modules["pfaff"],
    )
    b = browser()
    await b.login(coach.email, PASSWORD)
    await b.get("/admin/programme-end")
    today = datetime.now(BERLIN).date().isoformat()
    planned = await b.post(
        "/admin/programme-end", {"module": str(modules["coaching"]), "ends_on": today}
    )
    assert planned.status_code == 200 and 'id="planned"' in planned.text
    ended = await end_due(JobContext(sessions=sessions, settings=settings, now=utcnow()))
    assert ended == 1  # PfaFF runs longer
    async with sessions() as session:
        assert (await session.get(Participant, farid.id)).status == "ended"
        assert (await session.get(Participant, amina.id)).status == "active"
        session.add(HandoverRequest(participant_id=farid.id, consent_at=utcnow(), status="open"))
        await session.commit()
    page = await b.get("/admin/handovers")
    assert "Farid" in page.text and "Yusuf Demir" in page.text and "Coaching" in page.text
    request_id = int(re.search(r'data-request="(\d+)"', page.text).group(1))
    done = await b.post(f"/admin/handovers/{request_id}/done")
    assert done.status_code == 303
    async with sessions() as session:
        assert (await session.get(HandoverRequest, request_id)).status == "done"
    outcome = await b.post(
        f"/admin/participants/{farid.id}/outcome", {"outcome": "apprenticeship"}
    )
    assert outcome.status_code == 303
    async with sessions() as session:
        assert (await session.get(Participant, farid.id)).outcome == "apprenticeship"


async def test_numbers_too_big_to_be_ids_get_a_clear_answer(browser, staff, sessions):
    """An id beyond the database's integer is "not found", never a server error."""
    coach = await staff()
    b = browser()
    await b.login(coach.email, PASSWORD)
    assert (await b.get("/admin/participants/99999999999")).status_code == 404
    assert (
        await b.get("/admin/participants?module=99999999999&page=99999999999")
    ).status_code == 200
    assert (await b.get("/admin/courses/new")).status_code == 200
    course = await b.post(
        "/admin/courses/new",
        {
            "title": "Deutsch A2",
            "kind": "german_course",
            "location": "VHS Unna",
            "starts_on": "2026-12-01",
            "ends_on": "2027-03-01",
            "day0": "0",
            "start0": "09:00",
            "end0": "12:00",
            "module": "99999999999",
        },
    )
    # No such module: said beside the field, instead of a course silently without one.
    assert course.status_code == 400 and "Wählen Sie ein Modul aus der Liste." in course.text
    course = await b.post(
        "/admin/courses/new",
        {
            "title": "Deutsch A2",
            "kind": "german_course",
            "location": "VHS Unna",
            "starts_on": "2026-12-01",
            "ends_on": "2027-03-01",
            "day0": "0",
            "start0": "09:00",
            "end0": "12:00",
        },
    )
    assert course.status_code == 303
    cid = course.headers["location"].split("/")[-1].split("?")[0]
    await b.get(f"/admin/courses/{cid}")
    enrol = await b.post(f"/admin/courses/{cid}/enrol", {"participant": "99999999999"})
    assert enrol.status_code == 400
