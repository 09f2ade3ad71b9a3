"""The staff member's own account: log in and out, change the password, pick the language."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.features.staff.accounts import change_password
from bot.i18n import A_, ADMIN_LANGUAGES
from bot.web.admin.auth import check_login
from bot.web.admin.forms import PasswordForm, empty
from bot.web.admin.site import AdminSite, Ctx, Page, form, post
from storage import audit
from storage.models import StaffUser
from storage.types import utcnow


def _safe_next(target: str) -> str:
    """Only a path inside the admin web (no open redirect to another site)."""
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def login_pages(site: AdminSite) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """GET and POST of /admin/login (outside any session)."""

    async def form(request: Request) -> Response:
        token, fresh = site.auth.login_token(request)
        response = site.bare(
            request,
            "login.html",
            token=token,
            next=_safe_next(request.query_params.get("next", "")),
        )
        if fresh:
            site.auth.set_login_token(response, token)
        return response

    async def submit(request: Request) -> Response:
        data = await request.form(max_fields=10)
        token, _ = site.auth.login_token(request)
        sent = data.get("token")
        email = str(data.get("email") or "").strip().lower()[:254]
        password = str(data.get("password") or "")
        target = _safe_next(str(data.get("next") or ""))
        client = request.client.host if request.client else "unknown"

        def again(message: str, status: int) -> Response:
            fresh, _ = site.auth.login_token(request)
            response = site.bare(
                request,
                "login.html",
                token=fresh,
                next=target,
                email=email,
                error=message,
                status=status,
            )
            site.auth.set_login_token(response, fresh)
            return response

        if not isinstance(sent, str) or not hmac.compare_digest(sent, token):
            return again(A_("The form had expired. Please log in again."), 400)
        checked = await check_login(
            site.auth.throttle, site.sessions, email=email, password=password, client=client
        )
        if checked.throttled:
            # TRANSLATORS: admin login; too many wrong passwords for this account or computer.
            return again(
                A_("Too many failed attempts. Wait 15 minutes, or ask an admin to help."), 429
            )
        now = utcnow()
        async with site.sessions.begin() as session:
            staff_id = checked.staff_id
            staff = await session.get(StaffUser, staff_id) if staff_id is not None else None
            if staff is None or not staff.active:
                await audit.record(session, actor="anonymous", action="staff.login_failed")
                return again(A_("E-mail address or password is wrong."), 401)
            response = RedirectResponse(target, status_code=303)
            await log_in(site, session, response, staff, now=now)
            return response

    return form, submit


async def logout(ctx: Ctx) -> Response:
    """End this session on the server."""
    response = RedirectResponse("/admin/login", status_code=303)
    await ctx.site.auth.close(ctx.session, response, ctx.login)
    await audit.record(
        ctx.session,
        actor=ctx.audit_actor(),
        action="staff.logout",
        object_type="staff",
        object_id=ctx.login.staff.id,
    )
    return response


async def password(ctx: Ctx) -> Response:
    """Change one's own password; every session ends and this browser gets a new one."""
    if ctx.form is None:
        return ctx.render("password.html", form=empty(PasswordForm))
    posted = ctx.submitted(PasswordForm)
    if (data := posted.data) is not None and data.new != data.again:
        posted.refuse(A_("The two new passwords differ."), field="again")
    elif data is not None:
        staff = ctx.login.staff
        await ctx.save(
            posted,
            lambda: change_password(
                ctx.session, staff=staff, current=data.current, new=data.new, now=ctx.now
            ),
        )
    if not posted.ok:
        return ctx.render("password.html", status=400, form=posted)
    response = ctx.redirect("/admin", "password")
    await ctx.site.auth.open(ctx.session, response, ctx.login.staff, now=ctx.now)
    return response


async def language(ctx: Ctx) -> Response:
    """Switch the admin web between German and English."""
    code = ctx.field("lang")
    if code in ADMIN_LANGUAGES:
        ctx.login.staff.locale = code
    return ctx.redirect(_safe_next(ctx.field("next", "/admin")))


routes: list[Page] = [
    post("/logout", logout),
    form("/password", password),
    post("/language", language),
]


async def log_in(
    site: Any, session: AsyncSession, response: Response, staff: StaffUser, *, now: datetime
) -> None:
    """Open a session for a staff member who just proved who they are (a password, or a
    one-time set-password link), and audit the login."""
    await site.auth.open(session, response, staff, now=now)
    await audit.record(
        session,
        actor=f"staff:{staff.id}",
        action="staff.login",
        object_type="staff",
        object_id=staff.id,
    )
