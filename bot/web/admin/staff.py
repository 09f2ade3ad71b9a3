"""Staff accounts, managed by admins: list, invite by a one-time set-password link, role,
deactivate and hand over the caseload, unlock, reset the password. Also the page where
the invited person sets their password (outside any login)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.features.staff.accounts import MIN_PASSWORD, ROLES, hash_password
from bot.features.staff.management import (
    LINK_HOURS,
    PasswordLink,
    change_role,
    check_new_password,
    deactivate_staff,
    hand_over_caseload,
    invite_staff,
    password_link_owner,
    reactivate_staff,
    reset_password,
    set_password_with_link,
    unlock_staff,
)
from bot.i18n import A_
from bot.plumbing.errors import UserError
from bot.web.admin.account import log_in
from bot.web.admin.forms import ChosenId, Form, Says, Submitted, empty
from bot.web.admin.site import AdminSite, Ctx, Page, get, not_found, post
from storage.models import StaffUser
from storage.staff import caseload, caseload_sizes, list_staff, open_password_links
from storage.types import utcnow

F = TypeVar("F", bound=Form)
ROLE_NAMES = {"admin": A_("Admin"), "coach": A_("Coach")}


class InviteForm(Form):
    """Invite a staff member: the action checks name, e-mail address and role."""

    name: str = ""
    email: str = ""
    role: Annotated[str, BeforeValidator(lambda value: value or "coach")] = "coach"


class RoleForm(Form):
    """Make someone an admin or a coach."""

    role: str = ""


class HandoverForm(Form):
    """Who takes over a staff member's participants."""

    to: Annotated[ChosenId, Says(A_("Choose another active staff member to take over."))] = None


async def staff_list(ctx: Ctx, form: Submitted[InviteForm] | None = None) -> Response:
    """Every account with its role and state; the form to invite someone."""
    people = await list_staff(ctx.session)
    links = await open_password_links(ctx.session, now=ctx.now)
    throttle = ctx.site.auth.throttle
    locked = {
        s.id for s in people if s.active and await throttle.locked(s.email, within=ctx.session)
    }
    return ctx.render(
        "staff.html",
        status=400 if form is not None and form.errors else 200,
        people=people,
        links=links,
        locked=locked,
        caseloads=await caseload_sizes(ctx.session),
        roles=ROLES,
        role_names=ROLE_NAMES,
        form=form or empty(InviteForm, role="coach"),
    )


def _link_page(ctx: Ctx, staff: StaffUser, link: PasswordLink, *, invited: bool) -> Response:
    """The new link, shown this once (only its hash is stored)."""
    return ctx.render(
        "staff_link.html",
        person=staff,
        url=link.url(ctx.settings.public_web_url),
        expires_at=link.expires_at,
        invited=invited,
        hours=LINK_HOURS,
    )


async def staff_invite(ctx: Ctx) -> Response:
    """Add an account; the page shows the one-time link to pass on."""
    posted = ctx.submitted(InviteForm)
    if (data := posted.data) is None:
        return await staff_list(ctx, posted)
    result = await ctx.save(
        posted,
        lambda: invite_staff(
            ctx.session,
            actor=ctx.login.staff,
            email=data.email,
            display_name=data.name,
            role=data.role,
            now=ctx.now,
        ),
    )
    if result is None:
        return await staff_list(ctx, posted)
    staff, link = result
    return _link_page(ctx, staff, link, invited=True)


async def _person(ctx: Ctx) -> StaffUser | None:
    return await ctx.session.get(StaffUser, int(ctx.request.path_params["sid"]))


async def staff_detail(ctx: Ctx, form: Submitted[Any] | None = None) -> Response:
    """One account: role, state, its participants and the hand-over to another coach;
    `form`: a refused change, its error beside its field."""
    person = await _person(ctx)
    if person is None:
        return not_found(ctx)
    links = await open_password_links(ctx.session, now=ctx.now)
    others = [s for s in await list_staff(ctx.session) if s.active and s.id != person.id]
    return ctx.render(
        "staff_detail.html",
        status=400 if form is not None and form.errors else 200,
        person=person,
        link=links.get(person.id),
        locked=person.active
        and await ctx.site.auth.throttle.locked(person.email, within=ctx.session),
        people=await caseload(ctx.session, coach_id=person.id),
        others=others,
        roles=ROLES,
        role_names=ROLE_NAMES,
        form=form,
    )


async def _change(
    ctx: Ctx, model: type[F], change: Callable[[StaffUser, F], Awaitable[object]], done: str
) -> Response:
    """Run one of the account changes on the path's person; back to their page with a
    confirmation, or the page with the refusal."""
    person = await _person(ctx)
    if person is None:
        return not_found(ctx)
    posted = ctx.submitted(model)
    if (data := posted.data) is None:
        return await staff_detail(ctx, posted)
    if await ctx.save(posted, lambda: change(person, data)) is None:
        return await staff_detail(ctx, posted)
    return ctx.redirect(f"/admin/staff/{person.id}", done)


async def staff_role(ctx: Ctx) -> Response:
    """Make the person an admin or a coach."""
    return await _change(
        ctx,
        RoleForm,
        lambda person, data: change_role(
            ctx.session, actor=ctx.login.staff, staff_id=person.id, role=data.role
        ),
        "role_changed",
    )


async def staff_deactivate(ctx: Ctx) -> Response:
    """Close the account: no login, sessions end, the linked chat stops acting as staff."""
    return await _change(
        ctx,
        Form,
        lambda person, _: deactivate_staff(
            ctx.session, actor=ctx.login.staff, staff_id=person.id, now=ctx.now
        ),
        "deactivated",
    )


async def staff_reactivate(ctx: Ctx) -> Response:
    """Open a closed account again."""
    return await _change(
        ctx,
        Form,
        lambda person, _: reactivate_staff(ctx.session, actor=ctx.login.staff, staff_id=person.id),
        "reactivated",
    )


async def staff_unlock(ctx: Ctx) -> Response:
    """Lift the lock after failed logins."""
    return await _change(
        ctx,
        Form,
        lambda person, _: unlock_staff(
            ctx.session, actor=ctx.login.staff, staff_id=person.id, throttle=ctx.site.auth.throttle
        ),
        "unlocked",
    )


async def staff_handover(ctx: Ctx) -> Response:
    """Give the person's participants, courses and coming appointments to another coach."""
    return await _change(
        ctx,
        HandoverForm,
        lambda person, data: hand_over_caseload(
            ctx.session, actor=ctx.login.staff, from_id=person.id, to_id=data.to, now=ctx.now
        ),
        "handed_over_caseload",
    )


async def staff_reset(ctx: Ctx) -> Response:
    """A new one-time link; the old password and every login of the account end now."""
    person = await _person(ctx)
    if person is None:
        return not_found(ctx)
    posted = ctx.submitted(Form)
    link = await ctx.save(
        posted,
        lambda: reset_password(
            ctx.session, actor=ctx.login.staff, staff_id=person.id, now=ctx.now
        ),
    )
    if link is None:
        return await staff_detail(ctx, posted)
    return _link_page(ctx, person, link, invited=False)


class PasswordForm(Form):
    """The set-password page's fields (its errors; the values are never shown again)."""

    new: str = ""
    again: str = ""


routes: list[Page] = [
    get("/staff", staff_list, admin_only=True),
    post("/staff/new", staff_invite, admin_only=True),
    get("/staff/{sid:id}", staff_detail, admin_only=True),
    post("/staff/{sid:id}/role", staff_role, admin_only=True),
    post("/staff/{sid:id}/deactivate", staff_deactivate, admin_only=True),
    post("/staff/{sid:id}/reactivate", staff_reactivate, admin_only=True),
    post("/staff/{sid:id}/unlock", staff_unlock, admin_only=True),
    post("/staff/{sid:id}/handover", staff_handover, admin_only=True),
    post("/staff/{sid:id}/reset", staff_reset, admin_only=True),
]


def link_pages(site: AdminSite) -> list[Route]:
    """GET and POST of /admin/set-password/TOKEN: the invited or reset person sets their
    password (no login; the link is the proof, and works once)."""

    async def show(request: Request, *, status: int = 200, **context: object) -> Response:
        form_token, fresh = site.auth.login_token(request)
        response = site.bare(
            request,
            "set_password.html",
            status=status,
            token=form_token,
            min_length=MIN_PASSWORD,
            **context,
        )
        if fresh:
            site.auth.set_login_token(response, form_token)
        return response

    async def owner(request: Request) -> StaffUser | Response:
        """The link's person, or the page that says the link does not work."""
        try:
            async with site.sessions() as session:
                return await password_link_owner(
                    session, token=request.path_params["token"], now=utcnow()
                )
        except UserError as error:
            return site.bare(request, "error.html", status=404, message=error.message)

    async def form(request: Request) -> Response:
        person = await owner(request)
        if isinstance(person, Response):
            return person
        return await show(request, person=person.display_name, email=person.email)

    async def submit(request: Request) -> Response:
        data = await request.form(max_fields=10)
        person = await owner(request)  # the link first: no hashing for a dead one
        if isinstance(person, Response):
            return person
        shown = {"person": person.display_name, "email": person.email}
        sent = data.get("token")
        expected, _ = site.auth.login_token(request)
        if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            return await show(
                request, status=400, error=A_("The form had expired. Please try again."), **shown
            )
        # Passwords are read as typed (a form model would strip their spaces), never shown.
        new, again = str(data.get("new") or ""), str(data.get("again") or "")
        try:
            check_new_password(new, again)
        except UserError as error:
            form = empty(PasswordForm)
            form.refuse(error.message, field=error.field, **error.params)
            return await show(request, status=400, form=form, **shown)
        hashed = await hash_password(new)  # off the event loop, no connection held
        now = utcnow()
        try:
            async with site.sessions.begin() as session:
                staff = await set_password_with_link(
                    session, token=request.path_params["token"], password_hash=hashed, now=now
                )
                response = RedirectResponse("/admin/?done=password_set", status_code=303)
                await log_in(site, session, response, staff, now=now)
        except UserError as error:  # used by a racing request a moment ago
            return site.bare(request, "error.html", status=404, message=error.message)
        return response

    return [
        Route("/set-password/{token}", form, methods=["GET"]),
        Route("/set-password/{token}", submit, methods=["POST"]),
    ]
