"""The dashboard and the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from starlette.responses import Response

from bot.web.admin.site import Ctx, Page, get, parse_id
from storage.models import StaffUser
from storage.overview import (
    answers_per_week,
    appointments_between,
    audit_entries,
    open_handovers,
    unreachable_participants,
)

ANSWERS = ("confirmed", "reschedule", "declined", "none")
CHART_WEEKS = 8


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
    staff = await ctx.session.scalars(select(StaffUser))
    return ctx.render(
        "audit.html",
        entries=entries,
        # "staff:3" is shown with the name; participants stay ids.
        staff_names={f"staff:{s.id}": s.display_name for s in staff},
        page=page,
        filters={k: ctx.query(k) for k in ("actor", "action", "object_type", "object_id")},
    )


routes: list[Page] = [
    get("/", dashboard),
    get("/audit", audit_log, admin_only=True),
]
