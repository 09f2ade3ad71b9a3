"""The programme's end: plan the last day (a person, a module, everyone), record outcomes,
see hand-over requests to KIM, and the outcome report."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from starlette.responses import Response

from bot.features.handover import handover_data, mark_handed_over, plan_programme_end
from bot.features.roster import OUTCOMES, set_outcome
from bot.i18n import A_
from bot.web.admin.forms import EndForm, OutcomeForm, empty
from bot.web.admin.participants import form_choices, participant_page
from bot.web.admin.site import Ctx, Page, form, get, post
from storage.models import Module, Participant
from storage.overview import handover_requests, outcome_counts
from storage.states import ParticipantStatus

REPORT_ROWS = ("reached", "supported_at_end", *OUTCOMES)


async def plan_end_one(ctx: Ctx) -> Response:
    """The last day of one participant (today ends the programme within minutes)."""
    person = await ctx.own_participant()
    posted = ctx.submitted(EndForm)
    if (data := posted.data) is None:
        return await participant_page(ctx, person, ending=posted)
    changed = await plan_programme_end(
        ctx.session, actor=ctx.login.staff, participant_ids=[person.id], ends_on=data.ends_on
    )
    if not changed:
        posted.refuse(A_("This participant's programme has ended."))
        return await participant_page(ctx, person, ending=posted)
    return ctx.redirect(f"/admin/participants/{person.id}", "end_planned")


async def record_outcome(ctx: Ctx) -> Response:
    """Where one participant went at the end."""
    person = await ctx.own_participant()
    posted = ctx.submitted(OutcomeForm)
    if (data := posted.data) is not None:
        await ctx.save(
            posted,
            lambda: set_outcome(
                ctx.session, actor=ctx.login.staff, participant_id=person.id, outcome=data.outcome
            ),
        )
    if not posted.ok:
        return await participant_page(ctx, person, ending=posted)
    return ctx.redirect(f"/admin/participants/{person.id}", "saved")


async def programme_end(ctx: Ctx) -> Response:
    """Plan the last day for a module or for everyone (a cohort); a coach's own people."""
    choices = await form_choices(ctx)
    if ctx.form is None:
        return ctx.render("programme_end.html", form=empty(EndForm), **choices)
    posted = ctx.submitted(EndForm)
    if (data := posted.data) is None:
        return ctx.render("programme_end.html", status=400, form=posted, **choices)
    query = select(Participant.id).where(Participant.status == ParticipantStatus.ACTIVE)
    if data.module is not None:
        query = query.where(Participant.module_id == data.module)
    if not ctx.login.is_admin:
        query = query.where(Participant.coach_id == ctx.login.staff.id)
    ids = list(await ctx.session.scalars(query))
    changed = await plan_programme_end(
        ctx.session, actor=ctx.login.staff, participant_ids=ids, ends_on=data.ends_on
    )
    return ctx.render(
        "programme_end.html", form=posted, changed=changed, ends_on=data.ends_on, **choices
    )


async def handovers(ctx: Ctx) -> Response:
    """Requests to be handed over to KIM, with exactly the data the person agreed to."""
    coach_id = None if ctx.login.is_admin else ctx.login.staff.id
    rows = await handover_requests(ctx.session, coach_id=coach_id)
    modules = {m.id: m.name_de for m in await ctx.session.scalars(select(Module))}
    items = [
        {
            "request": request,
            "participant": person,
            "data": handover_data(person, modules.get(person.module_id or 0)),
        }
        for request, person in rows
    ]
    return ctx.render("handovers.html", items=items)


async def handover_done(ctx: Ctx) -> Response:
    """Mark a request as handed over."""
    request_id = int(ctx.request.path_params["hid"])
    _, error = await ctx.attempt(
        lambda: mark_handed_over(
            ctx.session, actor=ctx.login.staff, request_id=request_id, now=ctx.now
        )
    )
    if error:
        return ctx.render("error.html", status=400, message=error)
    return ctx.redirect("/admin/handovers", "handed_over")


async def report(ctx: Ctx) -> Response:
    """Outcomes per module and in total, the way the programme reports them."""
    coach_id = None if ctx.login.is_admin else ctx.login.staff.id
    counts = await outcome_counts(ctx.session, coach_id=coach_id)
    modules = list(await ctx.session.scalars(select(Module).order_by(Module.id)))
    columns: list[tuple[str, Mapping[str, int]]] = [
        (m.name_de, counts.get(m.id, {})) for m in modules
    ]
    if counts.get(None):
        columns.append((ctx._(A_("No module")), counts[None]))
    total = {row: sum(c.get(row, 0) for _, c in columns) for row in REPORT_ROWS}
    return ctx.render(
        "report.html", columns=columns, total=total, rows=REPORT_ROWS, outcomes=OUTCOMES
    )


routes: list[Page] = [
    post("/participants/{pid:id}/end", plan_end_one),
    post("/participants/{pid:id}/outcome", record_outcome),
    form("/programme-end", programme_end),
    get("/handovers", handovers),
    post("/handovers/{hid:id}/done", handover_done),
    get("/report", report),
]
