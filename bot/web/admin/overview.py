"""Login and account pages, the dashboard, the inbox and the audit log."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.features.contact import QUESTION, answer_participant
from bot.features.staff.accounts import change_password
from bot.i18n import A_, ADMIN_LANGUAGES
from bot.outbox.render import render_outbox
from bot.web.admin.auth import check_login
from bot.web.admin.site import AdminSite, Ctx, parse_id
from storage import audit
from storage.models import StaffUser
from storage.overview import (
    answers_per_week,
    appointments_between,
    audit_entries,
    inbox_rows,
    open_handovers,
    unreachable_participants,
)
from storage.types import utcnow

ANSWERS = ("confirmed", "reschedule", "declined", "none")
CHART_WEEKS = 8


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
            await site.auth.open(session, response, staff, now=now)
            await audit.record(
                session,
                actor=f"staff:{staff.id}",
                action="staff.login",
                object_type="staff",
                object_id=staff.id,
            )
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
        return ctx.render("password.html")
    new, again = ctx.field("new"), ctx.field("again")
    if new != again:
        return ctx.render(
            "password.html", status=400, error=ctx._(A_("The two new passwords differ."))
        )
    staff = ctx.login.staff
    _, error = await ctx.attempt(
        lambda: change_password(
            ctx.session, staff=staff, current=ctx.field("current"), new=new, now=ctx.now
        )
    )
    if error:
        return ctx.render("password.html", status=400, error=error)
    response = ctx.redirect("/admin", "password")
    await ctx.site.auth.open(ctx.session, response, staff, now=ctx.now)
    return response


async def language(ctx: Ctx) -> Response:
    """Switch the admin web between German and English."""
    code = ctx.field("lang")
    if code in ADMIN_LANGUAGES:
        ctx.login.staff.locale = code
    return ctx.redirect(_safe_next(ctx.field("next", "/admin")))


async def dashboard(ctx: Ctx) -> Response:
    """Today's and tomorrow's appointments with answers, open questions, a weekly chart."""
    tz = ctx.settings.tz
    coach_id = None if ctx.login.is_admin else ctx.login.staff.id
    today = ctx.today
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    soon = await appointments_between(
        ctx.session, coach_id=coach_id, start=midnight, end=midnight + timedelta(days=2)
    )
    week = await appointments_between(
        ctx.session, coach_id=coach_id, start=ctx.now, end=ctx.now + timedelta(days=7)
    )
    unconfirmed = [(a, p) for a, p in week if a.response is None]
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=CHART_WEEKS - 2)  # six weeks back, this and next week
    weeks = await answers_per_week(
        ctx.session, coach_id=coach_id, first=first, weeks=CHART_WEEKS, tz=tz
    )
    return ctx.render(
        "dashboard.html",
        today=[(a, p) for a, p in soon if a.starts_at.astimezone(tz).date() == today],
        tomorrow=[(a, p) for a, p in soon if a.starts_at.astimezone(tz).date() != today],
        unconfirmed=unconfirmed,
        unreachable=await unreachable_participants(ctx.session, coach_id=coach_id),
        handovers=await open_handovers(ctx.session, coach_id=coach_id),
        chart=_chart(weeks),
    )


def _chart(weeks: Sequence[tuple[date, Mapping[str, int]]]) -> dict[str, object]:
    """Stacked bars per week as SVG geometry: (x, y, height, answer) per piece."""
    tallest = max([sum(counts.values()) for _, counts in weeks] + [1])
    height, bar, gap = 160, 44, 18
    bars = []
    for index, (monday, counts) in enumerate(weeks):
        x = 40 + index * (bar + gap)
        y = height
        pieces = []
        for answer in ANSWERS:
            value = counts.get(answer, 0)
            if value:
                h = round(value * (height - 20) / tallest)
                y -= h
                pieces.append({"y": y, "h": h, "answer": answer, "value": value})
        bars.append({"x": x, "monday": monday, "pieces": pieces, "total": sum(counts.values())})
    return {"bars": bars, "width": 40 + len(weeks) * (bar + gap), "height": height, "bar": bar}


async def inbox(ctx: Ctx) -> Response:
    """Notices for a staff user without a linked chat, in their language; seen = read."""
    staff = ctx.login.staff
    rows = await inbox_rows(ctx.session, staff_id=staff.id)
    items = []
    for row in rows:
        rendered = await render_outbox(
            ctx.session, row, routes=ctx.site.routes, tz=ctx.settings.tz, now=ctx.now
        )
        text = rendered.reply.text if rendered.reply else None
        # A participant's message can be answered right here.
        answerable = text is not None and row.template == QUESTION and row.subject_id
        items.append(
            {
                "row": row,
                "text": text,
                "new": row.state == "inbox",
                "message_id": row.subject_id if answerable else None,
            }
        )
        if row.state == "inbox":
            row.state = "read"
    return ctx.render("inbox.html", items=items)


async def answer_message(ctx: Ctx) -> Response:
    """A coach answers a participant's message from the inbox; it reaches their chat."""
    message_id = int(ctx.request.path_params["mid"])
    _, error = await ctx.attempt(
        lambda: answer_participant(
            ctx.session,
            actor=ctx.login.staff,
            message_id=message_id,
            text=ctx.field("text"),
            now=ctx.now,
        )
    )
    if error:
        return ctx.render("error.html", status=400, message=error)
    return ctx.redirect("/admin/inbox", "answered")


async def audit_log(ctx: Ctx) -> Response:
    """Who did what to which record; filters by actor, action, object. Admins only."""
    object_id = ctx.query("object_id")
    page = max(parse_id(ctx.query("page", "1")) or 1, 1)
    entries = await audit_entries(
        ctx.session,
        actor=ctx.query("actor"),
        action=ctx.query("action"),
        object_type=ctx.query("object_type"),
        object_id=parse_id(object_id),
        offset=(page - 1) * 100,
    )
    return ctx.render(
        "audit.html",
        entries=entries,
        page=page,
        filters={k: ctx.query(k) for k in ("actor", "action", "object_type", "object_id")},
    )
