"""My appointments: the list, ✅ / ❌ / 🔁, preferred days, calendar files, coach notices."""

from __future__ import annotations

from bot.features.appointments import chat, planning, render
from bot.features.appointments.actions import ANSWER_NOTICE
from bot.i18n import N_
from bot.plumbing.routes import (
    AnswerRoute,
    ButtonRoute,
    Command,
    Feature,
    Job,
    MenuEntry,
    ident,
    ident_or,
    small,
)

FEATURE = Feature(
    name="appointments",
    commands=(
        Command("appointments", N_("My next appointments"), chat.cmd_appointments, rank=10),
    ),
    buttons=(
        ButtonRoute("mn:ap", chat.cmd_appointments),
        ButtonRoute("ap:p", chat.cmd_appointments, (small(999),)),
        ButtonRoute("ap:c", chat.cb_confirm, (ident,)),
        ButtonRoute("ap:x", chat.cb_decline, (ident,)),
        ButtonRoute("ap:s", chat.cb_skip_reason, (ident,)),
        ButtonRoute("ap:r", chat.cb_other_time, (ident,)),
        ButtonRoute("ap:d", chat.cb_toggle_day, (ident, small(6))),
        ButtonRoute("ap:dd", chat.cb_days_done, (ident,)),
        ButtonRoute("ap:i", chat.cb_calendar, (ident_or("all"),)),
    ),
    answers=(AnswerRoute("ap:reason", chat.answer_reason),),
    menu=(MenuEntry(N_("📅 My appointments"), "mn:ap", row=0),),
    templates={
        ANSWER_NOTICE: render.answer_notice,
        planning.REMINDER: render.appointment_reminder,
        planning.UNCONFIRMED: render.appointment_unconfirmed,
        planning.CHANGED: render.appointment_changed,
        planning.DIGEST: render.coach_digest,
    },
    jobs=(
        Job("appointment reminders", planning.sweep, every=300),
        Job("coach digest", planning.digest, daily_at="coach_digest_time"),
    ),
)
