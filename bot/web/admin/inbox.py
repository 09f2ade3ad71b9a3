"""The inbox of a staff member without a linked chat, and answering a participant from it."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.appointments.actions import ANSWER_NOTICE
from bot.features.contact import QUESTION, answer_participant
from bot.outbox.render import render_outbox
from bot.web.admin.site import Ctx, Page, get, post
from storage.models import Appointment, OutboxMessage
from storage.overview import answers_to, inbox_rows


async def inbox(ctx: Ctx) -> Response:
    """Notices for a staff user without a linked chat, in their language; seen = read."""
    staff = ctx.login.staff
    rows = await inbox_rows(ctx.session, staff_id=staff.id)
    answers = await answers_to(
        ctx.session,
        message_ids=[r.subject_id for r in rows if r.template == QUESTION and r.subject_id],
    )
    items = []
    for row in rows:
        rendered = await render_outbox(
            ctx.session, row, routes=ctx.site.routes, tz=ctx.settings.tz, now=ctx.now
        )
        text = rendered.reply.text if rendered.reply else None
        question = row.template == QUESTION and text is not None and row.subject_id
        items.append(
            {
                "row": row,
                "text": text,
                "new": row.state == "inbox",
                # A participant's message can be answered right here, once; then the
                # answer shows instead of the form.
                "message_id": row.subject_id if question else None,
                "answers": answers.get(row.subject_id or 0, []) if question else [],
                "appointment": await _answered(ctx, row) if text else None,
            }
        )
        if row.state == "inbox":
            row.state = "read"
    ctx.unread = 0
    return ctx.render("inbox.html", items=items)


async def _answered(ctx: Ctx, row: OutboxMessage) -> Appointment | None:
    """The appointment a notice about an answer is about, while that answer still stands:
    the staff web shows its reason and wished days, which the chat notice leaves out."""
    if row.template != ANSWER_NOTICE or row.subject_id is None:
        return None
    appointment = await ctx.session.get(Appointment, row.subject_id)
    if appointment is None or appointment.response != row.params.get("response"):
        return None
    return appointment


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


routes: list[Page] = [
    get("/inbox", inbox),
    post("/messages/{mid:id}/answer", answer_message),
]
