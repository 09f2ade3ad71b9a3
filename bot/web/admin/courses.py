"""Courses: list, create with weekly slots, exceptions, enrol and take out participants."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from bot.features.courses import add_exception, create_course, enrol, leave
from bot.features.roster import own_participant
from bot.i18n import A_
from bot.plumbing.labels import KIND_LABELS
from bot.web.admin.forms import (
    SLOTS,
    CourseDateForm,
    CourseForm,
    EnrolForm,
    Submitted,
    empty,
)
from bot.web.admin.participants import form_choices
from bot.web.admin.site import Ctx, Page, form, get, post
from storage.overview import course_members, courses_for, search_participants

COURSE_KINDS = [kind for kind in KIND_LABELS if kind.endswith("_course")]


async def course_list(ctx: Ctx) -> Response:
    """Courses with their weekly times; a coach sees their own."""
    coach_id = None if ctx.login.is_admin else ctx.login.staff.id
    return ctx.render(
        "courses.html",
        courses=await courses_for(ctx.session, coach_id=coach_id),
        kind_names=KIND_LABELS,
        today=ctx.today,
    )


async def _course_form(ctx: Ctx, posted: Submitted[CourseForm]) -> Response:
    """The form, with what was typed and what is wrong (nothing is saved then)."""
    return ctx.render(
        "course_form.html",
        status=400 if posted.errors else 200,
        form=posted,
        kinds=COURSE_KINDS,
        kind_names=KIND_LABELS,
        slots=SLOTS,
        **await form_choices(ctx),
    )


async def course_new(ctx: Ctx) -> Response:
    """Create a course with up to three weekly times."""
    if ctx.form is None:
        return await _course_form(ctx, empty(CourseForm))
    posted = ctx.submitted(CourseForm)
    if (data := posted.data) is None:
        return await _course_form(ctx, posted)
    half = data.half_filled()
    if half is not None:
        posted.refuse(
            A_("Each weekly time needs a weekday, a start and an end."), field=f"start{half}"
        )
        return await _course_form(ctx, posted)
    course = await ctx.save(
        posted,
        lambda: create_course(
            ctx.session,
            actor=ctx.login.staff,
            title=data.title,
            kind=data.kind,
            location=data.location,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            slots=data.slots(),
            module_id=data.module,
            coach_id=data.coach,
        ),
    )
    if course is None:
        return await _course_form(ctx, posted)
    return ctx.redirect(f"/admin/courses/{course.id}", "created")


async def course_detail(ctx: Ctx) -> Response:
    """A course: weekly times, dates without a session, and who is in it."""
    return await course_page(ctx)


async def course_page(ctx: Ctx, refused: Submitted[Any] | None = None) -> Response:
    """The course's page; a refused form's error above it (400)."""
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
        status=400 if refused else 200,
        course=course,
        members=members,
        candidates=[p for p in candidates if p.id not in inside],
        kind_names=KIND_LABELS,
        refused=refused,
    )


async def course_enrol(ctx: Ctx) -> Response:
    """Put one of the staff user's participants into the course."""
    course = await ctx.own_course()
    posted = ctx.submitted(EnrolForm)
    if (data := posted.data) is not None:

        async def act() -> object:
            person = await own_participant(
                ctx.session, actor=ctx.login.staff, participant_id=data.participant
            )
            return await enrol(
                ctx.session,
                actor=ctx.login.staff,
                course_id=course.id,
                participant=person,
                policy=ctx.policy,
                now=ctx.now,
            )

        await ctx.save(posted, act)
    if not posted.ok:
        return await course_page(ctx, posted)
    return ctx.redirect(f"/admin/courses/{course.id}", "enrolled")


async def course_leave(ctx: Ctx) -> Response:
    """Take a participant out of the course."""
    course = await ctx.own_course()
    posted = ctx.submitted(EnrolForm)
    if (data := posted.data) is not None:
        await ctx.save(
            posted,
            lambda: leave(
                ctx.session,
                actor=ctx.login.staff,
                course_id=course.id,
                participant_id=data.participant,
            ),
        )
    if not posted.ok:
        return await course_page(ctx, posted)
    return ctx.redirect(f"/admin/courses/{course.id}", "left")


async def course_exception(ctx: Ctx) -> Response:
    """Mark a date on which the course does not meet."""
    course = await ctx.own_course()
    posted = ctx.submitted(CourseDateForm)
    if (data := posted.data) is not None:
        await ctx.save(
            posted,
            lambda: add_exception(
                ctx.session,
                actor=ctx.login.staff,
                course_id=course.id,
                on_date=data.date,
                reason=data.reason,
                tz=ctx.settings.tz,
            ),
        )
    if not posted.ok:
        return await course_page(ctx, posted)
    return ctx.redirect(f"/admin/courses/{course.id}", "exception")


routes: list[Page] = [
    get("/courses", course_list),
    form("/courses/new", course_new),
    get("/courses/{cid:id}", course_detail),
    post("/courses/{cid:id}/enrol", course_enrol),
    post("/courses/{cid:id}/leave", course_leave),
    post("/courses/{cid:id}/exceptions", course_exception),
]
