"""The "what comes next" texts: each entry's status per language, and editing them."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.next_steps import (
    SOURCE,
    add_node,
    delete_node,
    save_contact,
    save_text,
    status,
)
from bot.i18n import LANGUAGES
from bot.web.admin.site import Ctx, Page, form, get, not_found, parse_id, post
from storage.content import all_nodes, texts_of
from storage.models import ContentNode

CODES = [SOURCE, *(language.code for language in LANGUAGES if language.code != SOURCE)]


async def content_list(ctx: Ctx) -> Response:
    """Every entry with its translation status per language."""
    nodes = await all_nodes(ctx.session)
    entries = await texts_of(ctx.session, keys=[n.key for n in nodes])
    rows = [
        {
            "node": node,
            "title": entries[(node.key, SOURCE)].title
            if (node.key, SOURCE) in entries
            else node.key,
            "status": {code: status(entries, node.key, code) for code in CODES},
        }
        for node in nodes
    ]
    return ctx.render("content.html", rows=rows, codes=CODES, nodes=rows)


async def content_new(ctx: Ctx) -> Response:
    """A new entry with its German text, at the top level or under another entry."""
    parent = ctx.field("parent")
    node, error = await ctx.attempt(
        lambda: add_node(
            ctx.session,
            actor=ctx.login.staff,
            parent_id=parse_id(parent),
            title=ctx.field("title"),
            body=ctx.field("body"),
            now=ctx.now,
        )
    )
    if node is None:
        return ctx.render("error.html", status=400, message=error)
    return ctx.redirect(f"/admin/content/{node.id}?lang=de", "created")


async def content_delete(ctx: Ctx) -> Response:
    """Remove an entry and its sub-entries (after a tick)."""
    node_id = int(ctx.request.path_params["nid"])
    if ctx.field("confirm") != "yes":
        return ctx.redirect(f"/admin/content/{node_id}")
    _, error = await ctx.attempt(
        lambda: delete_node(ctx.session, actor=ctx.login.staff, node_id=node_id)
    )
    if error:
        return ctx.render("error.html", status=400, message=error)
    return ctx.redirect("/admin/content", "saved")


async def content_edit(ctx: Ctx) -> Response:
    """One entry in one language (German first), and its contact."""
    node = await ctx.session.get(ContentNode, int(ctx.request.path_params["nid"]))
    if node is None:
        return not_found(ctx)
    code = ctx.query("lang", SOURCE)
    code = code if code in CODES else SOURCE
    error = None
    if ctx.form is not None and ctx.field("what") == "contact":
        fields = ("name", "phone", "address", "hours", "ask")
        _, error = await ctx.attempt(
            lambda: save_contact(
                ctx.session,
                actor=ctx.login.staff,
                node_id=node.id,
                values={k: ctx.field(k) for k in fields},
            )
        )
        if not error:
            return ctx.redirect(f"/admin/content/{node.id}?lang={code}", "saved")
    elif ctx.form is not None:
        _, error = await ctx.attempt(
            lambda: save_text(
                ctx.session,
                actor=ctx.login.staff,
                node_id=node.id,
                code=code,
                title=ctx.field("title"),
                body=ctx.field("body"),
                now=ctx.now,
            )
        )
        if not error:
            return ctx.redirect(f"/admin/content/{node.id}?lang={code}", "saved")
    entries = await texts_of(ctx.session, keys=[node.key])
    current = entries.get((node.key, code))
    return ctx.render(
        "content_edit.html",
        status=400 if error else 200,
        error=error,
        node=node,
        code=code,
        codes=CODES,
        states={c: status(entries, node.key, c) for c in CODES},
        entry=current,
        source=entries.get((node.key, SOURCE)),
        title=ctx.field("title") if error else (current.title if current else ""),
        body=ctx.field("body") if error else (current.body if current else ""),
    )


routes: list[Page] = [
    get("/content", content_list),
    post("/content/new", content_new, admin_only=True),
    form("/content/{nid:id}", content_edit, admin_only=True),
    post("/content/{nid:id}/delete", content_delete, admin_only=True),
]
