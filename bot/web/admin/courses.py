"""Courses: list, create with weekly slots, exceptions, enrol and take out participants."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.courses import add_exception, create_course, enrol, leave
from bot.features.roster import own_participant
from bot.i18n import A_
from bot.plumbing.labels import KIND_LABELS
from bot.web.admin.participants import form_choices
from bot.web.admin.site import (
    Ctx,
    Page,
    form,
    get,
    parse_clock,
    parse_day,
    parse_id,
    post,
)
from storage.overview import course_members, courses_for, search_participants

COURSE_KINDS = [kind for kind in KIND_LABELS if kind.endswith("_course")]
SLOTS = 3  # weekly times on the form


async def course_list(ctx: Ctx) -> Response:
    """Courses with their weekly times; a coach sees their own."""
    coach_id = None if ctx.login.is_admin else ctx.login.staff.id
    return ctx.render(
        "courses.html",
        courses=await courses_for(ctx.session, coach_id=coach_id),
        kind_names=KIND_LABELS,
        today=ctx.today,
    )


async def course_new(ctx: Ctx) -> Response:
    """Create a course with up to three weekly times."""
    choices = await form_choices(ctx)
    values: dict[str, str] = {}

    def again(error: str | None = None) -> Response:
        """The form, with what was typed and what is wrong (nothing is saved then)."""
        return ctx.render(
            "course_form.html",
            status=400 if error else 200,
            values=values,
            kinds=COURSE_KINDS,
            kind_names=KIND_LABELS,
            slots=SLOTS,
            error=error,
            **choices,
        )

    if ctx.form is None:
        return again()
    values = {
        k: ctx.field(k)
        for k in ("title", "kind", "location", "starts_on", "ends_on", "module", "coach")
    }
    slots = []
    for i in range(SLOTS):
        weekday, start, end = ctx.field(f"day{i}"), ctx.field(f"start{i}"), ctx.field(f"end{i}")
        values |= {f"day{i}": weekday, f"start{i}": start, f"end{i}": end}
        if not (start or end):
            continue
        begins, finishes = parse_clock(start), parse_clock(end)
        if not weekday.isdigit() or begins is None or finishes is None:
            return again(ctx._(A_("Each weekly time needs a weekday, a start and an end.")))
        slots.append((int(weekday), begins, finishes))
    starts_on, ends_on = parse_day(values["starts_on"]), parse_day(values["ends_on"])
    if starts_on is None or ends_on is None:
        return again(ctx._(A_("Give the first and the last day of the course.")))
    course, error = await ctx.attempt(
        lambda: create_course(
            ctx.session,
            actor=ctx.login.staff,
            title=values["title"],
            kind=values["kind"],
            location=values["location"],
            starts_on=starts_on,
            ends_on=ends_on,
            slots=slots,
            module_id=parse_id(values["module"]),
            coach_id=parse_id(values["coach"]),
        )
    )
    if course is None:
        return again(error)
    return ctx.redirect(f"/admin/courses/{course.id}", "created")


async def course_detail(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    """A course: weekly times, dates without a session, and who is in it."""
    course = await ctx.own_course()
    members = await course_members(ctx.session, course_id=course.id)
    inside = {p.id for p in members}
    candidates, _ = await search_participants(
        ctx.session,
        coach_id=None if ctx.login.is_admin else ctx.login.staff.id,
        status="active",
        limit=1000,
    )
    return ctx.render(
        "course.html",
        status=status,
        course=course,
        members=members,
        candidates=[p for p in candidates if p.id not in inside],
        kind_names=KIND_LABELS,
        error=error,
    )


async def course_enrol(ctx: Ctx) -> Response:
    """Put one of the staff user's participants into the course."""
    course_id = int(ctx.request.path_params["cid"])
    pid = ctx.field("participant")

    async def act() -> object:
        person = await own_participant(
            ctx.session, actor=ctx.login.staff, participant_id=parse_id(pid) or 0
        )
        return await enrol(
            ctx.session,
            actor=ctx.login.staff,
            course_id=course_id,
            participant=person,
            policy=ctx.policy,
            now=ctx.now,
        )

    _, error = await ctx.attempt(act)
    if error:
        return await course_detail(ctx, error=error, status=400)
    return ctx.redirect(f"/admin/courses/{course_id}", "enrolled")


async def course_leave(ctx: Ctx) -> Response:
    """Take a participant out of the course."""
    course_id = int(ctx.request.path_params["cid"])
    pid = ctx.field("participant")
    _, error = await ctx.attempt(
        lambda: leave(
            ctx.session,
            actor=ctx.login.staff,
            course_id=course_id,
            participant_id=parse_id(pid) or 0,
        )
    )
    if error:
        return await course_detail(ctx, error=error, status=400)
    return ctx.redirect(f"/admin/courses/{course_id}", "left")


async def course_exception(ctx: Ctx) -> Response:
    """Mark a date on which the course does not meet."""
    course_id = int(ctx.request.path_params["cid"])
    on_date = parse_day(ctx.field("date"))
    if on_date is None:
        return await course_detail(ctx, error=ctx._(A_("Give a date.")), status=400)
    _, error = await ctx.attempt(
        lambda: add_exception(
            ctx.session,
            actor=ctx.login.staff,
            course_id=course_id,
            on_date=on_date,
            reason=ctx.field("reason"),
            tz=ctx.settings.tz,
        )
    )
    if error:
        return await course_detail(ctx, error=error, status=400)
    return ctx.redirect(f"/admin/courses/{course_id}", "exception")


routes: list[Page] = [
    get("/courses", course_list),
    form("/courses/new", course_new),
    get("/courses/{cid:id}", course_detail),
    post("/courses/{cid:id}/enrol", course_enrol),
    post("/courses/{cid:id}/leave", course_leave),
    post("/courses/{cid:id}/exceptions", course_exception),
]
