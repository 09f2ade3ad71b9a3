"""The "what comes next" texts: each entry's status per language, and editing them."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.next_steps import (
    SOURCE,
    add_node,
    delete_node,
    save_contact,
    save_text,
    spoken_text,
    status,
)
from bot.i18n import LANGUAGES
from bot.plumbing.recordings import recording_status
from bot.web.admin import recordings
from bot.web.admin.forms import (
    ContactForm,
    NewEntryForm,
    RecordingForm,
    Submitted,
    TextForm,
    empty,
)
from bot.web.admin.site import Ctx, NotFound, Page, form, get, post
from storage.content import all_nodes, texts_of
from storage.models import ContentEntry, ContentNode
from storage.recordings import recordings_of

CODES = [SOURCE, *(language.code for language in LANGUAGES if language.code != SOURCE)]


async def content_list(ctx: Ctx) -> Response:
    """Every entry with its translation status per language."""
    return await content_page(ctx, empty(NewEntryForm))


async def content_page(ctx: Ctx, new: Submitted[NewEntryForm]) -> Response:
    """The list, with the new-entry form as typed (400 when it was refused)."""
    nodes = await all_nodes(ctx.session)
    entries = await texts_of(ctx.session, keys=[n.key for n in nodes])
    spoken = await recordings_of(ctx.session, subject="content", keys=[n.key for n in nodes])
    rows = [
        {
            "node": node,
            "title": entries[(node.key, SOURCE)].title
            if (node.key, SOURCE) in entries
            else node.key,
            "status": {code: status(entries, node.key, code) for code in CODES},
            "recordings": {
                code: recording_status(
                    spoken.get((node.key, code)), _spoken(entries.get((node.key, code)))
                )
                for code in CODES
            },
        }
        for node in nodes
    ]
    return ctx.render(
        "content.html",
        status=400 if new.errors else 200,
        rows=rows,
        codes=CODES,
        nodes=rows,
        new=new,
    )


async def content_new(ctx: Ctx) -> Response:
    """A new entry with its German text, at the top level or under another entry."""
    posted = ctx.submitted(NewEntryForm)
    node = None
    if (data := posted.data) is not None:
        node = await ctx.save(
            posted,
            lambda: add_node(
                ctx.session,
                actor=ctx.login.staff,
                parent_id=data.parent,
                title=data.title,
                body=data.body,
                now=ctx.now,
            ),
        )
    if node is None:
        return await content_page(ctx, posted)
    return ctx.redirect(f"/admin/content/{node.id}?lang=de", "created")


async def content_delete(ctx: Ctx) -> Response:
    """Remove an entry and its sub-entries (after a tick)."""
    node = await _node(ctx)
    if ctx.field("confirm") != "yes":
        return ctx.redirect(f"/admin/content/{node.id}")
    _, error = await ctx.attempt(
        lambda: delete_node(ctx.session, actor=ctx.login.staff, node_id=node.id)
    )
    if error:
        return ctx.render("error.html", status=400, message=error)
    return ctx.redirect("/admin/content", "saved")


async def _node(ctx: Ctx) -> ContentNode:
    """The entry of the path; else the 404 page."""
    node = await ctx.session.get(ContentNode, int(ctx.request.path_params["nid"]))
    if node is None:
        raise NotFound
    return node


async def content_edit(ctx: Ctx) -> Response:
    """One entry in one language (German first), and its contact."""
    node = await _node(ctx)
    code = ctx.query("lang", SOURCE)
    code = code if code in CODES else SOURCE
    text: Submitted[TextForm] | None = None
    contact: Submitted[ContactForm] | None = None
    if ctx.form is not None and ctx.field("what") == "contact":
        contact = ctx.submitted(ContactForm)
        if (fields := contact.data) is not None:
            await ctx.save(
                contact,
                lambda: save_contact(
                    ctx.session,
                    actor=ctx.login.staff,
                    node_id=node.id,
                    values=fields.model_dump(),
                ),
            )
    elif ctx.form is not None:
        text = ctx.submitted(TextForm)
        if (typed := text.data) is not None:
            await ctx.save(
                text,
                lambda: save_text(
                    ctx.session,
                    actor=ctx.login.staff,
                    node_id=node.id,
                    code=code,
                    title=typed.title,
                    body=typed.body,
                    now=ctx.now,
                ),
            )
    refused = next((f for f in (text, contact) if f is not None and not f.ok), None)
    if ctx.form is not None and refused is None:
        return ctx.redirect(f"/admin/content/{node.id}?lang={code}", "saved")
    return await _edit_page(ctx, node, code, text=text, contact=contact)


async def _edit_page(
    ctx: Ctx,
    node: ContentNode,
    code: str,
    *,
    text: Submitted[TextForm] | None = None,
    contact: Submitted[ContactForm] | None = None,
    recording: Submitted[RecordingForm] | None = None,
) -> Response:
    """The entry's page in one language, with any refused form as it was sent (400)."""
    refused = any(f is not None and not f.ok for f in (text, contact, recording))
    entries = await texts_of(ctx.session, keys=[node.key])
    current = entries.get((node.key, code))
    if text is None:
        title, body = (current.title, current.body) if current else ("", "")
        text = empty(TextForm, title=title, body=body)
    if contact is None:
        contact = empty(
            ContactForm,
            name=node.contact_name or "",
            phone=node.contact_phone or "",
            address=node.contact_address or "",
            hours=node.contact_hours or "",
            ask="yes" if node.ask_person else "",
        )
    return ctx.render(
        "content_edit.html",
        status=400 if refused else 200,
        node=node,
        code=code,
        codes=CODES,
        states={c: status(entries, node.key, c) for c in CODES},
        entry=current,
        source=entries.get((node.key, SOURCE)),
        text=text,
        contact=contact,
        recording=await recordings.panel(
            ctx, subject="content", key=node.key, code=code, text=_spoken(current)
        ),
        recording_form=recording or empty(RecordingForm, lang=code),
        play_url=f"/admin/content/{node.id}/recording/{code}",
        upload_url=f"/admin/content/{node.id}/recording",
    )


def _spoken(entry: ContentEntry | None) -> str | None:
    """The text a recording of this language version speaks; None: there is none."""
    return spoken_text(entry) if entry is not None and entry.title.strip() else None


async def content_recording(ctx: Ctx) -> Response:
    """Upload or replace the recording of one language (converted before this runs)."""
    node = await _node(ctx)
    entries = await texts_of(ctx.session, keys=[node.key])
    posted, code = await recordings.upload(
        ctx,
        subject="content",
        key=node.key,
        text_of=lambda c: _spoken(entries.get((node.key, c))),
    )
    if not posted.ok:
        return await _edit_page(ctx, node, code if code in CODES else SOURCE, recording=posted)
    return ctx.redirect(f"/admin/content/{node.id}?lang={code}#recording", "recorded")


async def content_recording_delete(ctx: Ctx) -> Response:
    """Delete the recording of one language."""
    node = await _node(ctx)
    error = await recordings.remove(ctx, subject="content", key=node.key)
    if error:
        return ctx.render("error.html", status=400, message=error)
    code = ctx.field("lang")
    return ctx.redirect(f"/admin/content/{node.id}?lang={code}#recording", "recording_deleted")


async def content_recording_play(ctx: Ctx) -> Response:
    """A recording for the page's player."""
    node = await _node(ctx)
    return await recordings.play(ctx, subject="content", key=node.key)


routes: list[Page] = [
    get("/content", content_list),
    post("/content/new", content_new, admin_only=True),
    form("/content/{nid:id}", content_edit, admin_only=True),
    post("/content/{nid:id}/delete", content_delete, admin_only=True),
    post(
        "/content/{nid:id}/recording",
        content_recording,
        admin_only=True,
        prepare=recordings.checked_upload,
    ),
    post("/content/{nid:id}/recording/delete", content_recording_delete, admin_only=True),
    get("/content/{nid:id}/recording/{code}", content_recording_play),
]
