"""Appointments of a participant: plan, move, cancel (the same actions as the bot)."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.appointments.planning import (
    cancel_appointment,
    create_appointment,
    move_appointment,
)
from bot.i18n import A_
from bot.plumbing.errors import UserError
from bot.web.admin.forms import AppointmentForm, MoveForm
from bot.web.admin.participants import participant_page
from bot.web.admin.site import Ctx, Page, post
from storage.models import Appointment

GONE = A_("This appointment does not exist.")


async def _belongs(ctx: Ctx, appointment_id: int, participant_id: int) -> None:
    """The appointment of the page's participant, else a UserError (nothing changes)."""
    appointment = await ctx.session.get(Appointment, appointment_id)
    if appointment is None or appointment.participant_id != participant_id:
        raise UserError(GONE)


async def appointment_plan(ctx: Ctx) -> Response:
    """Plan an appointment: the participant is told and reminded (same actions as the bot).
    A refused form comes back with what was typed and the error beside its field."""
    person = await ctx.own_participant()
    plan = ctx.submitted(AppointmentForm)
    if (data := plan.data) is not None:
        tz = ctx.settings.tz
        await ctx.save(
            plan,
            lambda: create_appointment(
                ctx.session,
                actor=ctx.login.staff,
                participant_id=person.id,
                kind=data.kind,
                starts_at=data.starts_at(tz),
                ends_at=data.ends_at(tz),
                location=data.location,
                policy=ctx.policy,
                now=ctx.now,
            ),
        )
    if not plan.ok:
        return await participant_page(ctx, person, plan=plan)
    return ctx.redirect(f"/admin/participants/{person.id}#appointments", "planned")


async def appointment_move(ctx: Ctx) -> Response:
    """Move an appointment; its answer and reminders start over."""
    person = await ctx.own_participant()
    appointment_id = int(ctx.request.path_params["aid"])
    move = ctx.submitted(MoveForm)
    if (data := move.data) is not None:
        tz = ctx.settings.tz

        async def act() -> Appointment:
            await _belongs(ctx, appointment_id, person.id)
            return await move_appointment(
                ctx.session,
                actor=ctx.login.staff,
                appointment_id=appointment_id,
                starts_at=data.starts_at(tz),
                ends_at=data.ends_at(tz),
                location=data.location,
                policy=ctx.policy,
                now=ctx.now,
            )

        await ctx.save(move, act)
    if not move.ok:
        return await participant_page(ctx, person, moving=(appointment_id, move))
    return ctx.redirect(f"/admin/participants/{person.id}#appointments", "moved")


async def appointment_cancel(ctx: Ctx) -> Response:
    """Cancel an appointment; the participant is told and reminders stop."""
    person = await ctx.own_participant()
    appointment_id = int(ctx.request.path_params["aid"])

    async def cancel() -> Appointment:
        await _belongs(ctx, appointment_id, person.id)
        return await cancel_appointment(
            ctx.session, actor=ctx.login.staff, appointment_id=appointment_id, now=ctx.now
        )

    _, error = await ctx.attempt(cancel)
    if error:
        return await participant_page(ctx, person, error=error)
    return ctx.redirect(f"/admin/participants/{person.id}#appointments", "cancelled")


routes: list[Page] = [
    post("/participants/{pid:id}/appointments", appointment_plan),
    post("/participants/{pid:id}/appointments/{aid:id}/move", appointment_move),
    post("/participants/{pid:id}/appointments/{aid:id}/cancel", appointment_cancel),
]
