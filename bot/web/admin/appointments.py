"""Appointments of a participant: plan, move, cancel (the same actions as the bot)."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from bot.features.appointments.planning import (
    cancel_appointment,
    create_appointment,
    move_appointment,
)
from bot.i18n import A_
from bot.plumbing.errors import UserError
from bot.plumbing.reminders import ReminderPolicy
from bot.web.admin.participants import APPOINTMENT_KINDS, detail_page
from bot.web.admin.site import Ctx, Page, post
from storage.models import Appointment


def _local(ctx: Ctx, day: str, clock: str) -> datetime | None:
    """A local date and time from a form as an aware datetime, or None if malformed."""
    try:
        return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ctx.settings.tz)
    except ValueError:
        return None


async def _back(ctx: Ctx, participant_id: int, error: str) -> Response:
    """The participant's page again, with what went wrong; nothing was changed."""
    return await detail_page(ctx, participant_id, error=error, status=400)


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


routes: list[Page] = [
    post("/participants/{pid:id}/appointments", appointment_plan),
    post("/participants/{pid:id}/appointments/{aid:id}/move", appointment_move),
    post("/participants/{pid:id}/appointments/{aid:id}/cancel", appointment_cancel),
]
