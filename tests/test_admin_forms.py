"""The staff web's form layer over real HTTP: a refused form comes back with what was typed
and each error beside its field, in the staff member's language; records that are not the
staff member's answer the same 404 everywhere."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage.models import Appointment, AuditEntry, Participant
from tests.test_admin_web import PASSWORD, browser, site, staff  # noqa: F401 - fixtures

BERLIN = ZoneInfo("Europe/Berlin")


def field_errors(page: str) -> dict[str, str]:
    """The error shown beside each field: {field name: message}."""
    found = re.findall(r'<span class="field-error" id="([\w-]+)-error">([^<]*)</span>', page)
    return {name: html.unescape(text) for name, text in found}


def typed(page: str, form_id: str) -> dict[str, str]:
    """The values a form on the page shows: inputs' values and selected options."""
    body = page.split(f'id="{form_id}"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input name="(\w+)"[^>]*?value="([^"]*)"', body))
    for name, select_body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', body):
        chosen = re.search(r'<option value="([^"]*)" selected', select_body)
        values[name] = chosen.group(1) if chosen else ""
    return {k: html.unescape(v) for k, v in values.items()}


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_a_refused_appointment_keeps_what_was_typed_with_the_error_beside_the_field(
    browser,  # noqa: F811
    staff,  # noqa: F811
    make_participant,
    sessions,
):
    coach = await staff()
    person = await make_participant(display_name="Farid", accepted=True, coach_id=coach.id)
    b = browser()
    await b.login(coach.email, PASSWORD)
    await b.get(f"/admin/participants/{person.id}")
    day = (datetime.now(BERLIN).date() + timedelta(days=2)).isoformat()
    sent = {
        "kind": "school",
        "date": day,
        "start": "11:00",
        "end": "10:00",
        "location": "Kreishaus, Raum 2",
    }
    # The action refuses (end before start): its message stands beside "end", in German.
    bad = await b.post(f"/admin/participants/{person.id}/appointments", sent)
    assert bad.status_code == 400
    assert field_errors(bad.text) == {"end": "Ein Termin muss nach seinem Beginn enden."}
    assert typed(bad.text, "plan") == sent
    assert 'name="end" type="time" required value="10:00" aria-invalid="true"' in bad.text
    # The form itself refuses what it cannot read: each field says what is missing.
    unreadable = {**sent, "start": "", "end": "25:99", "location": "", "kind": "tea"}
    bad = await b.post(f"/admin/participants/{person.id}/appointments", unreadable)
    assert bad.status_code == 400
    assert field_errors(bad.text) == {
        "kind": "Wählen Sie die Art des Termins.",
        "start": "Geben Sie eine Anfangszeit an.",
        "end": "Geben Sie eine Endzeit an.",
        "location": "Geben Sie den Ort des Termins an (höchstens 300 Zeichen).",
    }
    assert typed(bad.text, "plan") == {**unreadable, "kind": ""}  # "tea" is no choice
    assert await _count(sessions, Appointment) == 0
    # In English for a staff member who chose English.
    await b.post("/admin/language", {"lang": "en", "next": "/admin"})
    bad = await b.post(f"/admin/participants/{person.id}/appointments", sent)
    assert field_errors(bad.text) == {"end": "An appointment must end after it starts."}
    assert typed(bad.text, "plan") == sent
    # What was typed and fixed goes through.
    planned = await b.post(
        f"/admin/participants/{person.id}/appointments", {**sent, "end": "11:30"}
    )
    assert planned.status_code == 303
    async with sessions() as session:
        appointment = await session.scalar(select(Appointment))
    assert appointment.location == "Kreishaus, Raum 2" and appointment.kind == "school"
    # A refused move comes back in its own row with what was typed.
    moved = await b.post(
        f"/admin/participants/{person.id}/appointments/{appointment.id}/move",
        {"date": day, "start": "15:00", "end": "14:00"},
    )
    assert moved.status_code == 400
    assert "must start in the future and end after it starts" in moved.text
    row = moved.text.split(f'data-appointment="{appointment.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'value="15:00"' in row and 'value="14:00"' in row


async def test_the_participant_form_puts_each_refusal_beside_its_field(
    browser,  # noqa: F811
    staff,  # noqa: F811
    sessions,
):
    admin = await staff("admin")
    b = browser()
    await b.login(admin.email, PASSWORD)
    await b.get("/admin/participants/new")
    # A forged module id: the form refuses it and keeps the name.
    bad = await b.post(
        "/admin/participants/new",
        {"name": "Amina", "language": "ar", "module": "x1", "coach": str(admin.id)},
    )
    assert bad.status_code == 400
    assert field_errors(bad.text) == {"module": "Wählen Sie ein Modul aus der Liste."}
    assert 'value="Amina"' in bad.text and '<option value="ar" selected' in bad.text
    # The action's refusal (no coach chosen) stands beside the coach.
    bad = await b.post("/admin/participants/new", {"name": "Amina", "language": "ar"})
    assert bad.status_code == 400
    assert field_errors(bad.text) == {"coach": "Wählen Sie einen Coach."}
    assert await _count(sessions, Participant) == 0
    created = await b.post(
        "/admin/participants/new", {"name": "Amina", "language": "ar", "coach": str(admin.id)}
    )
    assert created.status_code == 303


async def test_records_of_another_coach_answer_404_in_the_staff_members_language(
    browser,  # noqa: F811
    staff,  # noqa: F811
    make_participant,
    make_course,
    sessions,
):
    mine, other = await staff(), await staff()
    theirs = await make_participant(display_name="Samir", accepted=True, coach_id=other.id)
    course = await make_course(slots=[(0, "09:00", "12:00")], coach_id=other.id)
    b = browser()
    await b.login(mine.email, PASSWORD)
    await b.get("/admin/")
    audited = await _count(sessions, AuditEntry)
    pages = [
        ("get", f"/admin/participants/{theirs.id}"),
        ("get", f"/admin/participants/{theirs.id}/edit"),
        ("post", f"/admin/participants/{theirs.id}/edit"),
        ("get", f"/admin/participants/{theirs.id}/export"),
        ("post", f"/admin/participants/{theirs.id}/erase"),
        ("post", f"/admin/participants/{theirs.id}/invite"),
        ("post", f"/admin/participants/{theirs.id}/revoke"),
        ("post", f"/admin/participants/{theirs.id}/appointments"),
        ("get", f"/admin/courses/{course.id}"),
        ("get", "/admin/participants/999999"),
    ]
    for method, path in pages:
        answer = await (b.get(path) if method == "get" else b.post(path, {"name": "X"}))
        assert answer.status_code == 404, path
        assert "Dieser Datensatz existiert nicht" in answer.text, path
    await b.post("/admin/language", {"lang": "en", "next": "/admin"})
    answer = await b.get(f"/admin/participants/{theirs.id}")
    assert answer.status_code == 404 and "This record does not exist" in answer.text
    assert await _count(sessions, AuditEntry) == audited  # nothing of theirs was shown


async def test_a_refused_answer_comes_back_beside_its_message_with_what_was_typed(
    browser,  # noqa: F811
    staff,  # noqa: F811
    make_participant,
    sessions,
):
    from bot.features.contact import write_to_coach
    from storage.models import CoachMessage, OutboxMessage
    from storage.types import utcnow

    coach = await staff()
    person = await make_participant(display_name="Dawit", accepted=True, coach_id=coach.id)
    async with sessions.begin() as session:
        question = await write_to_coach(
            session, participant=person, text="Wo ist Raum 108?", now=utcnow()
        )
    async with sessions.begin() as session:
        for row in await session.scalars(select(OutboxMessage)):
            row.state = "inbox"  # the dispatcher's doing for a coach without a chat
    b = browser()
    await b.login(coach.email, PASSWORD)
    page = await b.get("/admin/inbox")
    assert "Wo ist Raum 108?" in page.text
    too_long = "Im zweiten Stock. " * 60
    refused = await b.post(f"/admin/messages/{question.id}/answer", {"text": too_long})
    assert refused.status_code == 400
    assert field_errors(refused.text) == {
        "text": "Bitte schreib eine Antwort mit 1 bis 1000 Zeichen."
    }
    assert html.escape(too_long.strip(), quote=False) in refused.text
    async with sessions() as session:
        answers = await session.scalar(
            select(func.count()).select_from(CoachMessage).where(CoachMessage.direction == "out")
        )
    assert answers == 0


async def test_a_refused_course_keeps_what_was_typed_with_the_error_beside_the_field(
    browser,  # noqa: F811
    staff,  # noqa: F811
    sessions,
):
    from storage.models import Course

    coach = await staff()
    b = browser()
    await b.login(coach.email, PASSWORD)
    await b.get("/admin/courses/new")
    sent = {
        "title": "Deutsch B1",
        "kind": "german_course",
        "location": "VHS Unna",
        "starts_on": "2027-03-01",
        "ends_on": "2027-01-01",
        "day0": "2",
        "start0": "09:00",
        "end0": "12:00",
        "day1": "4",
        "start1": "14:00",
        "end1": "",
    }
    # A weekly time without its end: said beside that line; everything typed stays.
    refused = await b.post("/admin/courses/new", sent)
    assert refused.status_code == 400
    assert field_errors(refused.text) == {
        "start1": "Jede wöchentliche Zeit braucht einen Wochentag, einen Beginn und ein Ende."
    }
    for value in ('value="Deutsch B1"', 'value="VHS Unna"', 'value="2027-01-01"', 'value="14:00"'):
        assert value in refused.text
    assert '<option value="4" selected' in refused.text
    # The action's refusal (ends before it starts) stands beside the last day.
    refused = await b.post("/admin/courses/new", {**sent, "end1": "16:00"})
    assert field_errors(refused.text) == {
        "ends_on": "Ein Kurs muss am ersten Tag oder später enden."
    }
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Course)) == 0
    created = await b.post(
        "/admin/courses/new", {**sent, "end1": "16:00", "ends_on": "2027-06-30"}
    )
    assert created.status_code == 303
    # A date that is no date on the course page: beside the date field, typed value kept.
    course_page = created.headers["location"].split("?")[0]
    await b.get(course_page)
    refused = await b.post(f"{course_page}/exceptions", {"date": "2026-02-30"})
    assert refused.status_code == 400
    assert field_errors(refused.text) == {"date": "Geben Sie ein Datum an."}
    assert 'value="2026-02-30"' in refused.text
    refused = await b.post(f"{course_page}/exceptions", {"date": "2029-01-01"})
    assert "Dieses Datum liegt außerhalb" in field_errors(refused.text)["date"]


async def test_a_refused_new_text_entry_keeps_what_was_typed(
    browser,  # noqa: F811
    staff,  # noqa: F811
):
    admin = await staff("admin")
    b = browser()
    await b.login(admin.email, PASSWORD)
    await b.get("/admin/content")
    refused = await b.post("/admin/content/new", {"title": "Sprechstunde im Rathaus", "body": ""})
    assert refused.status_code == 400
    assert "Schreiben Sie einen Titel und einen Text." in refused.text
    assert 'value="Sprechstunde im Rathaus"' in refused.text
    forged = await b.post("/admin/content/new", {"title": "A", "body": "B", "parent": "x"})
    assert field_errors(forged.text) == {"parent": "Diesen Eintrag gibt es nicht."}
