"""Who is in the programme: staff add, change and import participants.

Called by the admin web and `wegweiser participants import`. A coach works on their own
participants only; an admin on everyone. Messages are staff-facing (the `admin` domain).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_, BY_CODE
from bot.plumbing.errors import UserError
from bot.plumbing.ownership import may_act_for
from storage import audit
from storage.models import Module, Participant, StaffUser

MAX_NAME = 100
MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 5000
COLUMNS = ("name", "language", "module", "coach")
REQUIRED = ("name",)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RowError:
    """What is wrong in one cell of an import file; `line` counts the header as line 1."""

    line: int
    column: str
    message: str  # an A_() msgid
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    """Either the participants made, or the errors that stopped the whole import."""

    created: list[Participant] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def visible_to(actor: StaffUser, participant: Participant | None) -> bool:
    """True when the actor may see and change this participant."""
    return participant is not None and may_act_for(actor, participant.coach_id)


async def own_participant(
    session: AsyncSession, *, actor: StaffUser, participant_id: int
) -> Participant:
    """The participant if the actor may work on them; else a UserError (the same for
    "not yours" and "does not exist", so ids reveal nothing)."""
    participant = await session.get(Participant, participant_id)
    if (
        participant is None
        or not visible_to(actor, participant)
        or participant.status == "deleted"
    ):
        raise UserError(A_("This participant is not one of yours, or does not exist."))
    return participant


def _check_name(value: str) -> str:
    name = _CONTROL.sub("", value).strip()
    if not name:
        raise UserError(A_("The name must not be empty."), field="name")
    if len(name) > MAX_NAME:
        raise UserError(A_("The name may have at most {n} characters."), field="name", n=MAX_NAME)
    return name


def _check_language(value: str | None) -> str | None:
    code = (value or "").strip()
    if not code:
        return None
    if code not in BY_CODE:
        raise UserError(
            A_("Unknown language “{value}”; use one of: {codes}."),
            field="language",
            value=code[:20],
            codes=", ".join(BY_CODE),
        )
    return code


async def _check_coach(session: AsyncSession, actor: StaffUser, coach_id: int | None) -> int:
    """A coach gets their own participants; an admin names any active staff user."""
    if actor.role != "admin":
        if coach_id not in (None, actor.id):
            raise UserError(
                A_("Coaches can only add participants to their own caseload."), field="coach"
            )
        return actor.id
    if coach_id is None:
        raise UserError(A_("Choose a coach."), field="coach")
    coach = await session.get(StaffUser, coach_id)
    if coach is None or not coach.active:
        raise UserError(A_("This coach does not exist or is no longer active."), field="coach")
    return coach.id


async def _check_module(session: AsyncSession, module_id: int | None) -> int | None:
    if module_id is None:
        return None
    if await session.get(Module, module_id) is None:
        raise UserError(A_("This module does not exist."), field="module")
    return module_id


async def create_participant(
    session: AsyncSession,
    *,
    actor: StaffUser,
    display_name: str,
    locale: str | None,
    module_id: int | None,
    coach_id: int | None,
) -> Participant:
    """Add one participant; they join through an invite afterwards."""
    participant = Participant(
        display_name=_check_name(display_name),
        locale=_check_language(locale),
        module_id=await _check_module(session, module_id),
        coach_id=await _check_coach(session, actor, coach_id),
    )
    session.add(participant)
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="participant.created",
        object_type="participant",
        object_id=participant.id,
    )
    return participant


async def update_participant(
    session: AsyncSession,
    *,
    actor: StaffUser,
    participant_id: int,
    display_name: str,
    locale: str | None,
    module_id: int | None,
    coach_id: int | None,
) -> Participant:
    """Change a participant's name, language, module or coach; the audit names the fields."""
    participant = await own_participant(session, actor=actor, participant_id=participant_id)
    new = {
        "display_name": _check_name(display_name),
        "locale": _check_language(locale) or participant.locale,
        "module_id": await _check_module(session, module_id),
        "coach_id": await _check_coach(session, actor, coach_id),
    }
    changed = sorted(name for name, value in new.items() if getattr(participant, name) != value)
    for name in changed:
        setattr(participant, name, new[name])
    if changed:
        await audit.record(
            session,
            actor=f"staff:{actor.id}",
            action="participant.changed",
            object_type="participant",
            object_id=participant.id,
            detail={"fields": changed},
        )
    return participant


# Where people went at the programme's end, as the programme reports it.
OUTCOMES = {
    "german_course": A_("German course"),
    "apprenticeship": A_("Apprenticeship"),
    "employment": A_("Employment subject to social insurance"),
    "school": A_("Course for a school-leaving certificate"),
    "internship": A_("Internship or further training"),
    "other": A_("Other"),
    "unknown": A_("Unknown"),
}


async def set_outcome(
    session: AsyncSession, *, actor: StaffUser, participant_id: int, outcome: str | None
) -> Participant:
    """Record where a participant went (or clear it); kept as an anonymous count."""
    participant = await own_participant(session, actor=actor, participant_id=participant_id)
    if outcome is not None and outcome not in OUTCOMES:
        raise UserError(A_("Choose one of the listed outcomes."), field="outcome")
    if participant.outcome != outcome:
        participant.outcome = outcome
        await audit.record(
            session,
            actor=f"staff:{actor.id}",
            action="participant.outcome",
            object_type="participant",
            object_id=participant.id,
            detail={"outcome": outcome},
        )
    return participant


# ---------------------------------------------------------------- CSV import


def _read_rows(data: bytes) -> tuple[list[str], list[list[str]], list[RowError]]:
    """Header and rows of a CSV file (comma, semicolon or tab; UTF-8 with or without BOM)."""
    if len(data) > MAX_IMPORT_BYTES:
        return [], [], [RowError(0, "", A_("The file is larger than 1 MB."))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [], [RowError(0, "", A_("The file is not UTF-8 text. Save it as “CSV UTF-8”."))]
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        return [], [], [RowError(reader.line_num, "", A_("The file is not valid CSV."))]
    if not rows:
        return [], [], [RowError(1, "", A_("The file is empty."))]
    header = [cell.strip().lower() for cell in rows[0]]
    return header, rows[1:], []


async def import_participants(
    session: AsyncSession, *, actor: StaffUser, data: bytes, dry_run: bool = False
) -> ImportResult:
    """Import participants from CSV with the columns name, language, module, coach (e-mail).

    Every row is checked first; one error anywhere imports nothing, and each error names
    its line and column. A coach imports into their own caseload (the coach column may be
    empty or their own address).
    """
    header, rows, errors = _read_rows(data)
    if errors:
        return ImportResult(errors=errors)
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    for name in unknown:
        errors.append(
            RowError(
                1,
                name,
                A_("Unknown column; the columns are: {columns}."),
                {"columns": ", ".join(COLUMNS)},
            )
        )
    for name in missing:
        errors.append(RowError(1, name, A_("This column is missing.")))
    if errors:
        return ImportResult(errors=errors)
    if len(rows) > MAX_IMPORT_ROWS:
        return ImportResult(
            errors=[RowError(0, "", A_("At most {n} rows at once."), {"n": MAX_IMPORT_ROWS})]
        )
    modules = {m.code: m.id for m in await session.scalars(select(Module))}
    coaches = {
        s.email: s.id
        for s in await session.scalars(select(StaffUser).where(StaffUser.active.is_(True)))
    }
    planned: list[Participant] = []
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end of a file saved by a spreadsheet
        if len(cells) != len(header):
            errors.append(
                RowError(
                    number,
                    "",
                    A_("This row has {found} cells; the header has {expected}."),
                    {"found": len(cells), "expected": len(header)},
                )
            )
            continue
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        row_errors: list[RowError] = []
        values: dict[str, Any] = {}
        for column, check in (("name", _check_name), ("language", _check_language)):
            try:
                values[column] = check(row.get(column, ""))
            except UserError as error:
                row_errors.append(RowError(number, column, error.message, error.params))
        module = row.get("module", "")
        if module and module not in modules:
            row_errors.append(
                RowError(
                    number,
                    "module",
                    A_("Unknown module “{value}”; use one of: {codes}."),
                    {"value": module[:40], "codes": ", ".join(sorted(modules))},
                )
            )
        coach = row.get("coach", "").lower()
        coach_id = coaches.get(coach) if coach else None
        if coach and coach_id is None:
            row_errors.append(
                RowError(number, "coach", A_("No active staff user has this e-mail address."))
            )
        elif actor.role != "admin" and coach_id not in (None, actor.id):
            row_errors.append(
                RowError(
                    number, "coach", A_("Coaches can only add participants to their own caseload.")
                )
            )
        elif actor.role == "admin" and coach_id is None:
            row_errors.append(RowError(number, "coach", A_("Choose a coach.")))
        errors.extend(row_errors)
        if not row_errors:
            planned.append(
                Participant(
                    display_name=values["name"],
                    locale=values["language"],
                    module_id=modules.get(module),
                    coach_id=coach_id or actor.id,
                )
            )
    if errors or dry_run:
        return ImportResult(created=[] if errors else planned, errors=errors)
    session.add_all(planned)
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="participants.imported",
        object_type="participant",
        detail={"count": len(planned), "ids": [p.id for p in planned][:1000]},
    )
    return ImportResult(created=planned)
