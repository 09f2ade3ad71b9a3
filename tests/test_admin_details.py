"""The staff web's smaller promises over real HTTP: the CSV export is the filtered list, a
refused request leaves no trace, codes are shown as names, counts as plural sentences, the
audit log in words, and the inbox with reasons, wished days, answers and an unread count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.features.staff import accounts
from bot.web.app import create_app
from storage.identities import bind_identity
from storage.models import AuditEntry, CoachMessage, Module, OutboxMessage, Participant
from storage.types import utcnow
from tests.admin_client import AdminBrowser
from tests.conftest import serve_app

PASSWORD = "correct horse battery"


@pytest.fixture
async def site(settings, sessions, router):
    """The whole web app on a loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


@pytest.fixture
async def admin(site, make_staff):
    """A logged-in admin's browser, and the admin."""
    user = await make_staff(
        role="admin",
        email="leitung@example.org",
        display_name="Programmleitung",
        password_hash=await accounts.hash_password(PASSWORD),
    )
    browser = AdminBrowser(site)
    assert (await browser.login(user.email, PASSWORD)).status_code == 303
    yield browser, user
    await browser.close()


async def _audit_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)))


def _visible(html: str) -> str:
    """The page's text as a reader sees it (tags and runs of white space removed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- the CSV export


async def test_the_csv_export_is_the_filtered_list(admin, make_staff, sessions):
    b, _ = admin
    other = await make_staff(email="y.demir@example.org", display_name="Yusuf Demir")
    async with sessions.begin() as session:
        pfaff, school = Module(code="pfaff", name_de="PfaFF"), Module(code="school", name_de="HSA")
        session.add_all([pfaff, school])
        await session.flush()
        for name, locale, module in (
            ("Amina", "ar", pfaff),
            ("Hawa", "ar", pfaff),
            ("Olena", "uk", pfaff),
            ("Farid", "ar", school),
            ("Dawit", "ti", school),
            ("Samira", "fa", school),
        ):
            session.add(
                Participant(
                    display_name=name, locale=locale, module_id=module.id, coach_id=other.id
                )
            )
    listing = await b.get(f"/admin/participants?module={pfaff.id}&language=ar")
    assert "Amina" in listing.text and "Hawa" in listing.text and "Olena" not in listing.text
    link = re.search(r'href="(/admin/participants\.csv[^"]*)"', listing.text)
    assert link is not None
    download = await b.get(link.group(1).replace("&amp;", "&"))
    rows = list(csv.reader(io.StringIO(download.text)))
    assert [row[0] for row in rows[1:]] == ["Amina", "Hawa"]  # not all six
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "participants.exported")
        )
    assert entry is not None and entry.detail == {"count": 2}


# ---------------------------------------------------------------- refused requests


async def test_a_refused_request_writes_no_audit_entry(admin, make_participant, sessions):
    b, user = admin
    person = await make_participant(display_name="Amina", coach_id=user.id)
    page = await b.get(f"/admin/participants/{person.id}")
    assert page.status_code == 200
    before = await _audit_count(sessions)
    # Erasing without ticking the box, and planning without a time, are refused.
    refused = await b.post(f"/admin/participants/{person.id}/erase", {})
    assert refused.status_code == 400 and "Es wurde nichts gelöscht" in refused.text
    refused = await b.post(
        f"/admin/participants/{person.id}/appointments",
        {"kind": "coaching", "date": "", "start": "", "end": "", "location": "Raum 1"},
    )
    assert refused.status_code == 400
    assert await _audit_count(sessions) == before
    async with sessions() as session:
        assert (await session.get(Participant, person.id)).display_name == "Amina"


# ---------------------------------------------------------------- names, not codes


async def test_the_participant_page_names_language_and_channels(admin, make_participant, sessions):
    b, user = admin
    person = await make_participant(display_name="Amina", locale="fa_AF", coach_id=user.id)
    async with sessions.begin() as session:
        await bind_identity(
            session, participant_id=person.id, channel="signal", external_id="+491701234567"
        )
        await bind_identity(session, participant_id=person.id, channel="web", external_id="k1")
    text = _visible((await b.get(f"/admin/participants/{person.id}")).text)
    assert "Sprache: Dari" in text and "fa_AF" not in text
    assert "Signal – verbunden" in text and "Web-Chat – verbunden" in text
    listing = _visible((await b.get("/admin/participants")).text)
    assert "Dari" in listing and "Signal, Web-Chat" in listing
    await b.post("/admin/language", {"lang": "en", "next": "/admin/participants"})
    english = _visible((await b.get(f"/admin/participants/{person.id}")).text)
    assert "Language: Dari" in english and "web chat – connected" in english


# ---------------------------------------------------------------- plural forms


async def test_counts_read_as_plural_sentences(admin):
    b, _ = admin
    one = await b.post(
        "/admin/participants/import",
        {},
        files={"file": ("eine.csv", b"name,coach\nAmina,leitung@example.org\n", "text/csv")},
    )
    assert "1 Teilnehmer*in importiert." in _visible(one.text)
    two = await b.post(
        "/admin/participants/import",
        {},
        files={
            "file": (
                "zwei.csv",
                b"name,coach\nDawit,leitung@example.org\nOlena,leitung@example.org\n",
                "text/csv",
            )
        },
    )
    assert "2 Teilnehmende importiert." in _visible(two.text)
    await b.post("/admin/language", {"lang": "en", "next": "/admin"})
    english = await b.post(
        "/admin/participants/import",
        {},
        files={"file": ("one.csv", b"name,coach\nFarid,leitung@example.org\n", "text/csv")},
    )
    assert "1 participant imported." in _visible(english.text)


# ---------------------------------------------------------------- the audit log


async def test_the_audit_log_names_events_in_words(admin, make_participant):
    b, user = admin
    person = await make_participant(display_name="Amina", coach_id=user.id)
    await b.get(f"/admin/participants/{person.id}")
    text = _visible((await b.get("/admin/audit")).text)
    assert "Teilnehmer*in angesehen" in text and "Angemeldet" in text
    assert "participant.viewed" not in text  # the code stays out of the reader's way
    assert f"Programmleitung (staff:{user.id}) Teilnehmer*in angesehen" in text


# ---------------------------------------------------------------- the inbox


async def test_the_inbox_shows_reasons_days_answers_and_an_unread_count(
    admin, make_participant, make_appointment, sessions
):
    b, user = admin
    person = await make_participant(display_name="Amina", accepted=True, coach_id=user.id)
    declined = await make_appointment(
        person, response="declined", response_note="Prüfung in der Berufsschule"
    )
    moved = await make_appointment(
        person, starts_in=timedelta(days=3), response="reschedule", preferred_days="1,3"
    )
    now = utcnow()
    async with sessions.begin() as session:
        answered = CoachMessage(
            participant_id=person.id, staff_id=user.id, direction="in", body="Wo ist Raum 204?"
        )
        session.add(answered)
        await session.flush()
        session.add(
            CoachMessage(
                participant_id=person.id,
                staff_id=user.id,
                direction="out",
                body="Im zweiten Stock, links.",
                reply_to_id=answered.id,
            )
        )
        answered.answered_at = now
        for appointment in (declined, moved):
            session.add(
                OutboxMessage(
                    staff_id=user.id,
                    template="appointment.answer",
                    subject_type="appointment",
                    subject_id=appointment.id,
                    params={"response": appointment.response},
                    state="inbox",
                )
            )
        session.add(
            OutboxMessage(
                staff_id=user.id,
                template="coach.message",
                subject_type="message",
                subject_id=answered.id,
                params={},
                state="inbox",
            )
        )
    dashboard = await b.get("/admin/")
    assert re.search(r'href="/admin/inbox"[^>]*>[^<]*<span class="badge"[^>]*>3<', dashboard.text)
    inbox = await b.get("/admin/inbox")
    text = _visible(inbox.text)
    assert "Grund: „Prüfung in der Berufsschule“" in text
    assert "Gewünschte Tage: Di., Do." in text
    assert "Beantwortet" in text and "Im zweiten Stock, links." in text
    # The answered message offers no second answer form.
    assert inbox.text.count('class="answer"') == 0
    # "Mark as read" marks what the page showed; the navigation's count is gone then.
    upto = re.search(r'name="upto" value="(\d+)"', inbox.text)
    assert upto is not None
    assert (await b.post("/admin/inbox/read", {"upto": upto.group(1)})).status_code == 303
    after = await b.get("/admin/")
    assert not re.search(r'href="/admin/inbox"[^>]*>[^<]*<span class="badge"', after.text)


def test_every_audited_action_in_the_code_has_a_name_in_words():
    """An action added later (staff accounts, modules, ...) must not show as a raw code."""
    from pathlib import Path

    from bot.web.admin.names import EVENT_NAMES

    root = Path(__file__).parents[1]
    written = {
        match
        for folder in ("bot", "storage")
        for path in (root / folder).rglob("*.py")
        for match in re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text("utf-8"))
    }
    assert written, "no audit actions found: the pattern no longer matches the code"
    assert sorted(written - EVENT_NAMES.keys()) == []
