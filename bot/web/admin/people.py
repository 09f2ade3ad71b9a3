"""Participants: list, create, edit, import, export, invite letters, and their appointments."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import segno
from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from bot.features.appointments.planning import (
    cancel_appointment,
    create_appointment,
    move_appointment,
)
from bot.features.onboarding.invites import create_invite, revoke_invites
from bot.features.onboarding.letter import letter_texts
from bot.features.privacy import erase_participant, export_participant
from bot.features.roster import (
    COLUMNS,
    OUTCOMES,
    create_participant,
    import_participants,
    own_participant,
    update_participant,
)
from bot.i18n import A_, LANGUAGES
from bot.plumbing.errors import UserError
from bot.plumbing.labels import KIND_LABELS
from bot.plumbing.reminders import ReminderPolicy
from bot.plumbing.voice import Voice
from bot.web.admin.site import Ctx, not_found, parse_id
from storage import audit
from storage.appointments import enrolments_of
from storage.invites import open_invites
from storage.models import Appointment, Module, Participant, StaffUser
from storage.overview import appointments_of, chats_of, courses_for, search_participants

PAGE = 50
APPOINTMENT_KINDS = [kind for kind in KIND_LABELS if not kind.endswith("_course")]


async def form_choices(ctx: Ctx) -> dict[str, Any]:
    """Modules, coaches and languages for the forms and filters."""
    modules = list(await ctx.session.scalars(select(Module).order_by(Module.id)))
    coaches = list(
        await ctx.session.scalars(
            select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.display_name)
        )
    )
    return {
        "modules": modules,
        "module_names": {m.id: m.name_de for m in modules},
        "coaches": coaches,
        "coach_names": {c.id: c.display_name for c in coaches},
        "languages": LANGUAGES,
    }


def _local(ctx: Ctx, day: str, clock: str) -> datetime | None:
    """A local date and time from a form as an aware datetime, or None if malformed."""
    try:
        return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ctx.settings.tz)
    except ValueError:
        return None


async def participant_list(ctx: Ctx) -> Response:
    """Search and filter participants; a coach sees their own only."""
    reachable = {"yes": True, "no": False}.get(ctx.query("reachable"))
    page = max(parse_id(ctx.query("page", "1")) or 1, 1)
    people, total = await search_participants(
        ctx.session,
        coach_id=None if ctx.login.is_admin else ctx.login.staff.id,
        text=ctx.query("q")[:100],
        module_id=parse_id(ctx.query("module")),
        filter_coach_id=parse_id(ctx.query("coach")),
        locale=ctx.query("language") or None,
        status=ctx.query("status") or None,
        reachable=reachable,
        offset=(page - 1) * PAGE,
        limit=PAGE,
    )
    chats = await chats_of(ctx.session, participant_ids=[p.id for p in people])
    filters = {
        k: ctx.query(k) for k in ("q", "module", "coach", "language", "status", "reachable")
    }
    return ctx.render(
        "participants.html",
        people=people,
        chats=chats,
        total=total,
        page=page,
        pages=max((total + PAGE - 1) // PAGE, 1),
        filters=filters,
        **await form_choices(ctx),
    )


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: = + - @ at the start make it a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def participants_csv(ctx: Ctx) -> Response:
    """The filtered list as CSV (the import's columns); the export is audited."""
    people, _ = await search_participants(
        ctx.session,
        coach_id=None if ctx.login.is_admin else ctx.login.staff.id,
        text=ctx.query("q")[:100],
        limit=100_000,
    )
    modules = {m.id: m.code for m in await ctx.session.scalars(select(Module))}
    coaches = {s.id: s.email for s in await ctx.session.scalars(select(StaffUser))}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for p in people:
        writer.writerow(
            [
                _cell(p.display_name),
                p.locale or "",
                modules.get(p.module_id or 0, ""),
                coaches.get(p.coach_id or 0, ""),
            ]
        )
    await audit.record(
        ctx.session,
        actor=ctx.audit_actor(),
        action="participants.exported",
        object_type="participant",
        detail={"count": len(people)},
    )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="participants.csv"'},
    )


PARTICIPANT_FIELDS = ("name", "language", "module", "coach")


async def _participant_form(
    ctx: Ctx, person: Participant | None, values: dict[str, str], error: str | None = None
) -> Response:
    """The add/edit form, with what was typed and what is wrong (nothing is saved then)."""
    return ctx.render(
        "participant_form.html",
        status=400 if error else 200,
        person=person,
        values=values,
        error=error,
        **await form_choices(ctx),
    )


async def participant_new(ctx: Ctx) -> Response:
    """Create one participant."""
    if ctx.form is None:
        return await _participant_form(ctx, None, {})
    values = {k: ctx.field(k) for k in PARTICIPANT_FIELDS}
    created, error = await ctx.attempt(
        lambda: create_participant(
            ctx.session,
            actor=ctx.login.staff,
            display_name=values["name"],
            locale=values["language"] or None,
            module_id=parse_id(values["module"]),
            coach_id=parse_id(values["coach"]),
        )
    )
    if created is None:
        return await _participant_form(ctx, None, values, error)
    return ctx.redirect(f"/admin/participants/{created.id}", "created")


async def participant_edit(ctx: Ctx) -> Response:
    """Change a participant's name, language, module or coach."""
    participant_id = int(ctx.request.path_params["pid"])
    try:
        person = await own_participant(
            ctx.session, actor=ctx.login.staff, participant_id=participant_id
        )
    except UserError:
        return not_found(ctx)
    if ctx.form is None:
        values = {
            "name": person.display_name,
            "language": person.locale or "",
            "module": str(person.module_id or ""),
            "coach": str(person.coach_id or ""),
        }
        return await _participant_form(ctx, person, values)
    values = {k: ctx.field(k) for k in PARTICIPANT_FIELDS}
    _, error = await ctx.attempt(
        lambda: update_participant(
            ctx.session,
            actor=ctx.login.staff,
            participant_id=participant_id,
            display_name=values["name"],
            locale=values["language"] or None,
            module_id=parse_id(values["module"]),
            coach_id=parse_id(values["coach"]),
        )
    )
    if error:
        return await _participant_form(ctx, person, values, error)
    return ctx.redirect(f"/admin/participants/{participant_id}", "saved")


async def participant_detail(ctx: Ctx) -> Response:
    """One participant: chats, appointments with answers, courses, invites. Viewing is
    audited."""
    return await _detail(ctx, int(ctx.request.path_params["pid"]))


async def _detail(
    ctx: Ctx, participant_id: int, *, error: str | None = None, status: int = 200
) -> Response:
    try:
        person = await own_participant(
            ctx.session, actor=ctx.login.staff, participant_id=participant_id
        )
    except UserError:
        return not_found(ctx)
    await audit.record(
        ctx.session,
        actor=ctx.audit_actor(),
        action="participant.viewed",
        object_type="participant",
        object_id=person.id,
    )
    since = ctx.now - timedelta(days=30)
    coach_id = None if ctx.login.is_admin else ctx.login.staff.id
    enrolments = await enrolments_of(ctx.session, participant_id=person.id)
    enrolled = {e.course_id for e in enrolments}
    return ctx.render(
        "participant.html",
        person=person,
        chats=(await chats_of(ctx.session, participant_ids=[person.id]))[person.id],
        appointments=await appointments_of(ctx.session, participant_id=person.id, since=since),
        enrolments=enrolments,
        other_courses=[
            c
            for c in await courses_for(ctx.session, coach_id=coach_id)
            if c.id not in enrolled and c.ends_on >= ctx.today
        ],
        invites=await open_invites(ctx.session, participant_id=person.id, now=ctx.now),
        kinds=APPOINTMENT_KINDS,
        outcomes=OUTCOMES,
        today=ctx.today,
        kind_names=KIND_LABELS,
        error=error,
        status=status,
        **await form_choices(ctx),
    )


async def participant_import(ctx: Ctx) -> Response:
    """CSV import: every row checked first; one error imports nothing."""
    if ctx.form is None:
        return ctx.render("import.html", columns=COLUMNS)
    upload = ctx.form.get("file")
    if upload is None or isinstance(upload, str):
        return ctx.render(
            "import.html", status=400, columns=COLUMNS, error=ctx._(A_("Choose a CSV file."))
        )
    data = await upload.read(2_000_000)
    result = await import_participants(ctx.session, actor=ctx.login.staff, data=data)
    if result.errors:
        errors = [
            {"line": e.line, "column": e.column, "message": ctx._(e.message, **e.params)}
            for e in result.errors[:200]
        ]
        return ctx.render(
            "import.html",
            status=400,
            columns=COLUMNS,
            errors=errors,
            more=len(result.errors) - len(errors),
        )
    return ctx.render("import.html", columns=COLUMNS, created=result.created)


async def participant_export(ctx: Ctx) -> Response:
    """Everything stored about one participant (GDPR Art. 15): a readable page, or JSON
    with ?format=json. The export is audited."""
    participant_id = int(ctx.request.path_params["pid"])
    try:
        await own_participant(ctx.session, actor=ctx.login.staff, participant_id=participant_id)
        data = await export_participant(ctx.session, participant_id=participant_id)
    except UserError:
        return not_found(ctx)
    await audit.record(
        ctx.session,
        actor=ctx.audit_actor(),
        action="participant.exported",
        object_type="participant",
        object_id=participant_id,
    )
    if ctx.query("format") == "json":
        return JSONResponse(
            data,
            headers={
                "Content-Disposition": f'attachment; filename="participant-{participant_id}.json"'
            },
        )
    return ctx.render("export.html", data=data, participant_id=participant_id)


async def participant_erase(ctx: Ctx) -> Response:
    """Erase a participant's personal data everywhere (the same action as /delete)."""
    participant_id = int(ctx.request.path_params["pid"])
    try:
        await own_participant(ctx.session, actor=ctx.login.staff, participant_id=participant_id)
    except UserError:
        return not_found(ctx)
    if ctx.field("confirm") != "yes":
        return await _detail(
            ctx,
            participant_id,
            error=ctx._(A_("Tick the box to confirm the erasure. Nothing was erased.")),
            status=400,
        )
    await erase_participant(
        ctx.session, participant_id=participant_id, actor=ctx.audit_actor(), now=ctx.now
    )
    return ctx.redirect("/admin/participants", "erased")


# ---------------------------------------------------------------- invites


async def invite_letter(ctx: Ctx) -> Response:
    """A new invite (older ones are revoked) as a printable A4 letter with QR codes, in the
    participant's language and German. The token exists only in this response."""
    participant_id = int(ctx.request.path_params["pid"])
    try:
        person = await own_participant(
            ctx.session, actor=ctx.login.staff, participant_id=participant_id
        )
    except UserError:
        return not_found(ctx)
    if person.status != "active":
        return ctx.redirect(f"/admin/participants/{participant_id}")
    invite = await create_invite(
        ctx.session,
        participant=person,
        now=ctx.now,
        valid_days=ctx.settings.invite_valid_days,
        created_by_id=ctx.login.staff.id,
    )
    bot_username = ctx.settings.telegram_link_username
    telegram = invite.telegram_link(bot_username) if bot_username else None
    web = invite.web_link(ctx.settings.public_web_url)
    signal = ctx.settings.signal_account
    texts = partial(
        letter_texts,
        name=person.display_name,
        coach=person.coach.display_name if person.coach else None,
        expires_at=invite.expires_at,
        telegram=telegram is not None,
        signal_number=signal,
    )
    own = Voice.for_language(person.locale or "de", tz=ctx.settings.tz, now=ctx.now)
    columns = [texts(own)]
    if own.code != "de":
        columns.append(texts(Voice.for_language("de", tz=own.tz, now=ctx.now)))
    return ctx.render(
        "letter.html",
        person=person,
        columns=columns,
        telegram=telegram,
        web=web,
        signal_message=invite.signal_message() if signal else None,
        telegram_qr=segno.make(telegram, error="m").svg_data_uri(scale=5, border=2)
        if telegram
        else None,
        web_qr=segno.make(web, error="m").svg_data_uri(scale=5, border=2),
        expires_at=invite.expires_at,
    )


async def invite_revoke(ctx: Ctx) -> Response:
    """Revoke a participant's open invites (a lost letter)."""
    participant_id = int(ctx.request.path_params["pid"])
    try:
        person = await own_participant(
            ctx.session, actor=ctx.login.staff, participant_id=participant_id
        )
    except UserError:
        return not_found(ctx)
    await revoke_invites(ctx.session, participant=person, now=ctx.now, actor_id=ctx.login.staff.id)
    return ctx.redirect(f"/admin/participants/{participant_id}", "revoked")


# ---------------------------------------------------------------- appointments


async def _back(ctx: Ctx, participant_id: int, error: str) -> Response:
    """The participant's page again, with what went wrong; nothing was changed."""
    return await _detail(ctx, participant_id, error=error, status=400)


async def _belongs(ctx: Ctx, appointment_id: int, participant_id: int) -> None:
    """The appointment of the page's participant, else a UserError (nothing changes)."""
    appointment = await ctx.session.get(Appointment, appointment_id)
    if appointment is None or appointment.participant_id != participant_id:
        raise UserError(A_("This appointment does not exist."))


async def appointment_plan(ctx: Ctx) -> Response:
    """Plan an appointment: the participant is told and reminded (same actions as the bot)."""
    participant_id = int(ctx.request.path_params["pid"])
    starts = _local(ctx, ctx.field("date"), ctx.field("start"))
    ends = _local(ctx, ctx.field("date"), ctx.field("end"))
    if starts is None or ends is None:
        return await _back(ctx, participant_id, ctx._(A_("Give a date, a start and an end time.")))
    kind = ctx.field("kind")
    if kind not in APPOINTMENT_KINDS:
        return await _back(
            ctx, participant_id, ctx._(A_("Choose what kind of appointment it is."))
        )
    place = ctx.field("location")
    if not place:
        return await _back(ctx, participant_id, ctx._(A_("Give the place of the appointment.")))
    _, error = await ctx.attempt(
        lambda: create_appointment(
            ctx.session,
            actor=ctx.login.staff,
            participant_id=participant_id,
            kind=kind,
            starts_at=starts,
            ends_at=ends,
            location=place[:300],
            policy=ReminderPolicy.from_settings(ctx.settings),
            now=ctx.now,
        )
    )
    if error:
        return await _back(ctx, participant_id, error)
    return ctx.redirect(f"/admin/participants/{participant_id}#appointments", "planned")


async def appointment_move(ctx: Ctx) -> Response:
    """Move an appointment; its answer and reminders start over."""
    participant_id = int(ctx.request.path_params["pid"])
    appointment_id = int(ctx.request.path_params["aid"])
    starts = _local(ctx, ctx.field("date"), ctx.field("start"))
    ends = _local(ctx, ctx.field("date"), ctx.field("end"))
    if starts is None or ends is None:
        return await _back(ctx, participant_id, ctx._(A_("Give a date, a start and an end time.")))

    async def move() -> Appointment:
        await _belongs(ctx, appointment_id, participant_id)
        return await move_appointment(
            ctx.session,
            actor=ctx.login.staff,
            appointment_id=appointment_id,
            starts_at=starts,
            ends_at=ends,
            location=ctx.field("location") or None,
            policy=ReminderPolicy.from_settings(ctx.settings),
            now=ctx.now,
        )

    moved, error = await ctx.attempt(move)
    if error or moved is None:
        return await _back(
            ctx, participant_id, error or ctx._(A_("This appointment does not exist."))
        )
    return ctx.redirect(f"/admin/participants/{participant_id}#appointments", "moved")


async def appointment_cancel(ctx: Ctx) -> Response:
    """Cancel an appointment; the participant is told and reminders stop."""
    participant_id = int(ctx.request.path_params["pid"])
    appointment_id = int(ctx.request.path_params["aid"])

    async def cancel() -> Appointment:
        await _belongs(ctx, appointment_id, participant_id)
        return await cancel_appointment(
            ctx.session, actor=ctx.login.staff, appointment_id=appointment_id, now=ctx.now
        )

    cancelled, error = await ctx.attempt(cancel)
    if error or cancelled is None:
        return await _back(
            ctx, participant_id, error or ctx._(A_("This appointment does not exist."))
        )
    return ctx.redirect(f"/admin/participants/{participant_id}#appointments", "cancelled")
