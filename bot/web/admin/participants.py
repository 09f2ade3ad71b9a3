"""Participants: list, create, edit, import, export, erase and invite letters."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from functools import partial
from typing import Any

import segno
from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from bot.features.onboarding.invites import create_invite, revoke_invites
from bot.features.onboarding.letter import letter_texts
from bot.features.privacy import erase_participant, export_participant
from bot.features.roster import (
    COLUMNS,
    OUTCOMES,
    create_participant,
    import_participants,
    update_participant,
)
from bot.i18n import A_, LANGUAGES
from bot.plumbing.errors import UserError
from bot.plumbing.labels import KIND_LABELS
from bot.plumbing.voice import Voice
from bot.web.admin.forms import (
    APPOINTMENT_KINDS,
    AppointmentForm,
    MoveForm,
    ParticipantForm,
    Submitted,
    empty,
)
from bot.web.admin.site import Ctx, Page, form, get, not_found, parse_id, post
from storage import audit
from storage.appointments import enrolments_of
from storage.invites import open_invites
from storage.models import Module, Participant, StaffUser
from storage.overview import appointments_of, chats_of, courses_for, search_participants

PAGE = 50


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


FILTERS = ("q", "module", "coach", "language", "status", "reachable")


async def _search(ctx: Ctx, *, offset: int, limit: int) -> tuple[list[Participant], int]:
    """The participants the list's filters (the query string) select; a coach's own only.
    The list and its CSV export both use it, so the export is what the list shows."""
    return await search_participants(
        ctx.session,
        coach_id=None if ctx.login.is_admin else ctx.login.staff.id,
        text=ctx.query("q")[:100],
        module_id=parse_id(ctx.query("module")),
        filter_coach_id=parse_id(ctx.query("coach")),
        locale=ctx.query("language") or None,
        status=ctx.query("status") or None,
        reachable={"yes": True, "no": False}.get(ctx.query("reachable")),
        offset=offset,
        limit=limit,
    )


async def participant_list(ctx: Ctx) -> Response:
    """Search and filter participants; a coach sees their own only."""
    page = max(parse_id(ctx.query("page", "1")) or 1, 1)
    people, total = await _search(ctx, offset=(page - 1) * PAGE, limit=PAGE)
    chats = await chats_of(ctx.session, participant_ids=[p.id for p in people])
    filters = {k: ctx.query(k) for k in FILTERS}
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
    people, _ = await _search(ctx, offset=0, limit=100_000)
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


async def _participant_form(
    ctx: Ctx, person: Participant | None, form: Submitted[ParticipantForm]
) -> Response:
    """The add/edit form, with what was typed and what is wrong (nothing is saved then)."""
    return ctx.render(
        "participant_form.html",
        status=400 if form.errors else 200,
        person=person,
        form=form,
        **await form_choices(ctx),
    )


async def participant_new(ctx: Ctx) -> Response:
    """Create one participant."""
    if ctx.form is None:
        return await _participant_form(ctx, None, empty(ParticipantForm))
    posted = ctx.submitted(ParticipantForm)
    if (data := posted.data) is None:
        return await _participant_form(ctx, None, posted)
    created = await ctx.save(
        posted,
        lambda: create_participant(
            ctx.session,
            actor=ctx.login.staff,
            display_name=data.name,
            locale=data.language,
            module_id=data.module,
            coach_id=data.coach,
        ),
    )
    if created is None:
        return await _participant_form(ctx, None, posted)
    return ctx.redirect(f"/admin/participants/{created.id}", "created")


async def participant_edit(ctx: Ctx) -> Response:
    """Change a participant's name, language, module or coach."""
    person = await ctx.own_participant()
    if ctx.form is None:
        current = empty(
            ParticipantForm,
            name=person.display_name,
            language=person.locale or "",
            module=str(person.module_id or ""),
            coach=str(person.coach_id or ""),
        )
        return await _participant_form(ctx, person, current)
    posted = ctx.submitted(ParticipantForm)
    if (data := posted.data) is None:
        return await _participant_form(ctx, person, posted)
    saved = await ctx.save(
        posted,
        lambda: update_participant(
            ctx.session,
            actor=ctx.login.staff,
            participant_id=person.id,
            display_name=data.name,
            locale=data.language,
            module_id=data.module,
            coach_id=data.coach,
        ),
    )
    if saved is None:
        return await _participant_form(ctx, person, posted)
    return ctx.redirect(f"/admin/participants/{person.id}", "saved")


async def participant_detail(ctx: Ctx) -> Response:
    """One participant: chats, appointments with answers, courses, invites. Viewing is
    audited."""
    return await participant_page(ctx, await ctx.own_participant())


async def participant_page(
    ctx: Ctx,
    person: Participant,
    *,
    error: str | None = None,
    plan: Submitted[AppointmentForm] | None = None,
    moving: tuple[int, Submitted[MoveForm]] | None = None,
    ending: Submitted[Any] | None = None,
) -> Response:
    """The participant's page; a refused form comes back with what was typed (400)."""
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
    refused = (
        error
        or (plan and plan.errors)
        or (moving and moving[1].errors)
        or (ending and ending.errors)
    )
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
        plan=plan or empty(AppointmentForm),
        moving=moving,
        ending=ending,
        status=400 if refused else 200,
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
    participant_id = (await ctx.own_participant()).id
    try:
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
    person = await ctx.own_participant()
    if ctx.field("confirm") != "yes":
        return await participant_page(
            ctx,
            person,
            error=ctx._(A_("Tick the box to confirm the erasure. Nothing was erased.")),
        )
    await erase_participant(
        ctx.session, participant_id=person.id, actor=ctx.audit_actor(), now=ctx.now
    )
    return ctx.redirect("/admin/participants", "erased")


# ---------------------------------------------------------------- invites


async def invite_letter(ctx: Ctx) -> Response:
    """A new invite (older ones are revoked) as a printable A4 letter with QR codes, in the
    participant's language and German. The token exists only in this response."""
    person = await ctx.own_participant()
    if person.status != "active":
        return ctx.redirect(f"/admin/participants/{person.id}")
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
    person = await ctx.own_participant()
    await revoke_invites(ctx.session, participant=person, now=ctx.now, actor_id=ctx.login.staff.id)
    return ctx.redirect(f"/admin/participants/{person.id}", "revoked")


routes: list[Page] = [
    get("/participants", participant_list),
    get("/participants.csv", participants_csv),
    form("/participants/new", participant_new),
    form("/participants/import", participant_import),
    get("/participants/{pid:id}", participant_detail),
    form("/participants/{pid:id}/edit", participant_edit),
    get("/participants/{pid:id}/export", participant_export),
    post("/participants/{pid:id}/erase", participant_erase),
    post("/participants/{pid:id}/invite", invite_letter),
    post("/participants/{pid:id}/revoke", invite_revoke),
]
