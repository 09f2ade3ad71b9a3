"""The inbox of a staff member without a linked chat, and answering a participant from it."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.contact import QUESTION, answer_participant
from bot.outbox.render import render_outbox
from bot.web.admin.site import Ctx, Page, get, post
from storage.overview import inbox_rows


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


routes: list[Page] = [
    get("/inbox", inbox),
    post("/messages/{mid:id}/answer", answer_message),
]
