"""Demo data from the real programme "Gemeinsam Durchstarten" (Kreis Unna, see shared/context).

The six modules are the programme's own; people, places and times are made up.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.next_steps import seed_demo_content
from bot.features.staff.accounts import create_staff
from storage.models import (
    Appointment,
    Course,
    CourseException,
    CourseSlot,
    Enrolment,
    Module,
    Participant,
    StaffUser,
)

MODULES = (
    ("coaching", "Coaching"),
    ("qualification", "Berufsbegleitende Qualifizierung / Sprachförderung"),
    ("school", "Nachträglicher Erwerb Hauptschulabschluss"),
    ("preparation", "Schul-, ausbildungs- und berufsvorbereitende Kurse"),
    ("participation", "Teilhabemanagement"),
    ("pfaff", "PfaFF – Pflegeausbildung für Frauen mit Fluchthintergrund"),
)
KREISHAUS = "Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna"
VHS = "VHS Unna, Lindenplatz 1, 59423 Unna"
ADMIN_EMAIL = "admin@wegweiser.example"
ADMIN_PASSWORD = "demo-admin-password"  # demo only; `wegweiser admin create` for real use
COACH_EMAIL = "m.hoffmann@wegweiser.example"
COACH_PASSWORD = "demo-coach-password"  # demo only

# (name, module, coach index) — first names only, as the service stores.
PARTICIPANTS = (
    ("Amina", "pfaff", 2),
    ("Dawit", "preparation", 0),
    ("Olena", "qualification", 1),
    ("Farid", "school", 0),
    ("Hevin", "coaching", 0),
    ("Samira", "participation", 1),
)


async def seed_demo(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> bool:
    """Fill an empty database with the demo programme; False if it holds data already."""
    if await session.scalar(select(func.count()).select_from(Module)):
        return False
    modules = {code: Module(code=code, name_de=name) for code, name in MODULES}
    session.add_all(modules.values())
    await create_staff(
        session,
        email=ADMIN_EMAIL,
        display_name="Programmleitung",
        role="admin",
        password=ADMIN_PASSWORD,
    )
    coaches = [
        await create_staff(
            session,
            email=email,
            display_name=name,
            role="coach",
            password=COACH_PASSWORD if email == COACH_EMAIL else None,
        )
        for email, name in (
            (COACH_EMAIL, "Miriam Hoffmann"),
            ("y.demir@wegweiser.example", "Yusuf Demir"),
            ("a.becker@wegweiser.example", "Anna Becker"),
        )
    ]
    await session.flush()
    today = now.astimezone(tz).date()
    courses = _courses(modules, coaches, today)
    session.add_all(courses)
    participants = [
        (
            Participant(
                display_name=name, module_id=modules[module].id, coach_id=coaches[coach].id
            ),
            coaches[coach],
        )
        for name, module, coach in PARTICIPANTS
    ]
    session.add_all(p for p, _coach in participants)
    await session.flush()
    german, school, nursing = courses
    by_name = {p.display_name: p for p, _coach in participants}
    enrol = [
        ("Olena", german),
        ("Dawit", german),
        ("Farid", school),
        ("Samira", german),
        ("Amina", nursing),
        ("Amina", german),
        ("Hevin", german),
    ]
    session.add_all(Enrolment(participant_id=by_name[n].id, course_id=c.id) for n, c in enrol)
    for index, (participant, coach) in enumerate(participants):
        session.add_all(_appointments(participant, coach, today, tz, index))
    session.add_all(_former_participants(modules, reached=200 - len(PARTICIPANTS)))
    await seed_demo_content(session)
    return True


# The press release's figures: 200 people reached in three years; of about 90 still
# supported at the end, 20 in a German course, 20 in an apprenticeship, 25 in employment
# subject to social insurance, 2 in a school-leaving course and 5 in an internship or further
# training (the rest: other or unknown).
OUTCOMES_AT_END = {
    "german_course": 20,
    "apprenticeship": 20,
    "employment": 25,
    "school": 2,
    "internship": 5,
    "other": 10,
    "unknown": 8,
}


def _former_participants(modules: dict[str, Module], reached: int) -> list[Participant]:
    """Earlier participants as they remain after their data was erased: anonymous rows with
    a module and, for those still supported at the end, an outcome (no name, no chat)."""
    codes = [code for code, _name in MODULES]
    outcomes = [key for key, n in OUTCOMES_AT_END.items() for _ in range(n)]
    rows = []
    for index in range(reached):
        module = modules["pfaff"] if index % 9 == 0 else modules[codes[index % 5]]
        rows.append(
            Participant(
                display_name="",
                module_id=module.id,
                status="deleted",
                outcome=outcomes[index] if index < len(outcomes) else None,
            )
        )
    return rows


def _courses(modules: dict[str, Module], coaches: list[StaffUser], today: date) -> list[Course]:
    start, end = today - timedelta(days=30), today + timedelta(days=120)
    german = Course(
        module_id=modules["qualification"].id,
        title="Deutschkurs B1",
        kind="german_course",
        location=VHS,
        coach_id=coaches[1].id,
        starts_on=start,
        ends_on=end,
        slots=[
            CourseSlot(weekday=0, start_time=time(9), end_time=time(12, 30)),
            CourseSlot(weekday=2, start_time=time(9), end_time=time(12, 30)),
        ],
    )
    school = Course(
        module_id=modules["school"].id,
        title="Hauptschulabschluss-Kurs",
        kind="school_course",
        location=KREISHAUS + ", Raum 214",
        coach_id=coaches[0].id,
        starts_on=start,
        ends_on=end,
        slots=[
            CourseSlot(weekday=1, start_time=time(13), end_time=time(16)),
            CourseSlot(weekday=3, start_time=time(13), end_time=time(16)),
        ],
    )
    nursing = Course(
        module_id=modules["pfaff"].id,
        title="PfaFF Pflege-Vorbereitung",
        kind="nursing_course",
        location="Pflegeschule, Hansastraße 2, 59425 Unna",
        coach_id=coaches[2].id,
        starts_on=start,
        ends_on=end,
        slots=[CourseSlot(weekday=4, start_time=time(9), end_time=time(13))],
    )
    # One cancelled German session next week, to show exceptions.
    next_monday = today + timedelta(days=7 - today.weekday())
    german.exceptions = [CourseException(on_date=next_monday, reason="cancelled")]
    return [german, school, nursing]


def _appointments(
    participant: Participant, coach: StaffUser, today: date, tz: ZoneInfo, index: int
) -> list[Appointment]:
    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour, minute), tz)

    first = at(1 + index % 3, 10 + index % 4)
    second = at(6 + index % 5, 14, 30)
    return [
        Appointment(
            participant_id=participant.id,
            coach_id=coach.id,
            kind="coaching",
            starts_at=first,
            ends_at=first + timedelta(minutes=45),
            location=KREISHAUS + ", Raum 108",
        ),
        Appointment(
            participant_id=participant.id,
            coach_id=coach.id,
            kind="participation",
            starts_at=second,
            ends_at=second + timedelta(hours=1),
            location="Jobcenter Kreis Unna, Bahnhofstraße 41, 59423 Unna",
        ),
    ]
