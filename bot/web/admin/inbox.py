"""The inbox of a staff member without a linked chat, and answering a participant from it.

Opening the inbox changes nothing (a GET never does: a reload, a prefetch or a restored tab
would mark notices read that nobody saw). New notices stay marked until the staff member
presses "Mark as read", which marks exactly those the page showed.
"""

from __future__ import annotations

from starlette.responses import Response

from bot.features.appointments.actions import ANSWER_NOTICE
from bot.features.contact import QUESTION, answer_participant
from bot.outbox.render import render_outbox
from bot.web.admin.forms import AnswerForm, ReadForm, Submitted, empty
from bot.web.admin.site import Ctx, Page, get, post
from storage.models import Appointment, OutboxMessage
from storage.overview import answers_to, inbox_rows, mark_read
from storage.voice_messages import spoken_ids


async def inbox(ctx: Ctx) -> Response:
    """Notices for a staff user without a linked chat, in their language."""
    return await inbox_page(ctx)


async def inbox_page(
    ctx: Ctx, answering: tuple[int, Submitted[AnswerForm]] | None = None
) -> Response:
    """The inbox; a refused answer comes back beside its message with what was typed."""
    rows = await inbox_rows(ctx.session, staff_id=ctx.login.staff.id)
    answers = await answers_to(
        ctx.session,
        message_ids=[r.subject_id for r in rows if r.template == QUESTION and r.subject_id],
    )
    asked = [r.subject_id for r in rows if r.template == QUESTION and r.subject_id]
    spoken = await spoken_ids(
        ctx.session,
        message_ids=asked + [a.id for found in answers.values() for a in found],
    )
    items = []
    for row in rows:
        rendered = await render_outbox(
            ctx.session, row, routes=ctx.site.routes, tz=ctx.settings.tz, now=ctx.now
        )
        text = rendered.reply.text if rendered.reply else None
        # A participant's message can be answered right here.
        message_id = row.subject_id if text is not None and row.template == QUESTION else None
        form = answering[1] if answering and message_id == answering[0] else empty(AnswerForm)
        items.append(
            {
                "row": row,
                "text": text,
                "new": row.state == "inbox",
                "message_id": message_id,
                "form": form,
                # A voice message: the page plays it (the recording is served on its own).
                "spoken": message_id in spoken,
                # An answered message shows its answer instead of the form.
                "answers": answers.get(message_id, []) if message_id else [],
                "appointment": await _answered(ctx, row) if text else None,
            }
        )
    newest = max((row.id for row in rows if row.state == "inbox"), default=None)
    return ctx.render(
        "inbox.html",
        status=400 if answering else 200,
        items=items,
        newest=newest,
        answering=answering[1] if answering else None,
        spoken=spoken,
    )


async def inbox_read(ctx: Ctx) -> Response:
    """Mark the new notices the page showed as read (later ones stay new)."""
    form = ctx.submitted(ReadForm)
    if form.data is not None:
        await mark_read(ctx.session, staff_id=ctx.login.staff.id, upto_id=form.data.upto)
    return ctx.redirect("/admin/inbox", "read" if form.data else None)


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
    form = ctx.submitted(AnswerForm)
    if (data := form.data) is None:
        return await inbox_page(ctx, (message_id, form))
    answer = await ctx.save(
        form,
        lambda: answer_participant(
            ctx.session, actor=ctx.login.staff, message_id=message_id, text=data.text, now=ctx.now
        ),
    )
    if answer is None:
        return await inbox_page(ctx, (message_id, form))
    return ctx.redirect("/admin/inbox", "answered")


routes: list[Page] = [
    get("/inbox", inbox),
    post("/inbox/read", inbox_read),
    post("/messages/{mid:id}/answer", answer_message),
]
