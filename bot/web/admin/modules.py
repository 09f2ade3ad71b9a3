"""Modules (Bausteine), managed by admins: add, rename, retire and offer again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from bot.features.modules import create_module, reinstate_module, rename_module, retire_module
from bot.web.admin.forms import Form, Submitted, empty
from bot.web.admin.site import Ctx, Page, get, post
from storage.modules import list_modules, participants_per_module


class ModuleForm(Form):
    """A new module: its name, and the code CSV files name it by."""

    name: str = ""
    code: str = ""


class RenameForm(Form):
    """A module's new name."""

    name: str = ""


async def module_list(
    ctx: Ctx, form: Submitted[ModuleForm] | None = None, refused: tuple[int, str] | None = None
) -> Response:
    """Every module with its code, its participants and whether it is still offered;
    `form`: the add form as typed; `refused`: a module's id and why its change failed."""
    failed = form is not None and bool(form.errors)
    return ctx.render(
        "modules.html",
        status=400 if failed or refused else 200,
        modules=await list_modules(ctx.session),
        counts=await participants_per_module(ctx.session),
        form=form or empty(ModuleForm),
        refused=refused,
    )


async def module_new(ctx: Ctx) -> Response:
    """Add a module."""
    posted = ctx.submitted(ModuleForm)
    if (data := posted.data) is None:
        return await module_list(ctx, posted)
    created = await ctx.save(
        posted,
        lambda: create_module(ctx.session, actor=ctx.login.staff, code=data.code, name=data.name),
    )
    if created is None:
        return await module_list(ctx, posted)
    return ctx.redirect("/admin/modules", "created")


async def _change(
    ctx: Ctx, model: type[Form], change: Callable[[int, Any], Awaitable[object]], done: str
) -> Response:
    """One change of the path's module; the list with a confirmation, or with the refusal
    beside that module."""
    module_id = int(ctx.request.path_params["mid"])
    posted = ctx.submitted(model)
    data = posted.data
    if data is not None and await ctx.save(posted, lambda: change(module_id, data)) is not None:
        return ctx.redirect("/admin/modules", done)
    message, params = next(iter(posted.errors.values()))
    return await module_list(ctx, refused=(module_id, ctx._(message, **params)))


async def module_rename(ctx: Ctx) -> Response:
    """Give a module a new name; its code stays."""
    return await _change(
        ctx,
        RenameForm,
        lambda mid, data: rename_module(
            ctx.session, actor=ctx.login.staff, module_id=mid, name=data.name
        ),
        "saved",
    )


async def module_retire(ctx: Ctx) -> Response:
    """Stop offering a module; its participants and report rows stay."""
    return await _change(
        ctx,
        Form,
        lambda mid, _: retire_module(
            ctx.session, actor=ctx.login.staff, module_id=mid, now=ctx.now
        ),
        "module_retired",
    )


async def module_reinstate(ctx: Ctx) -> Response:
    """Offer a retired module again."""
    return await _change(
        ctx,
        Form,
        lambda mid, _: reinstate_module(ctx.session, actor=ctx.login.staff, module_id=mid),
        "module_reinstated",
    )


routes: list[Page] = [
    get("/modules", module_list, admin_only=True),
    post("/modules/new", module_new, admin_only=True),
    post("/modules/{mid:id}/rename", module_rename, admin_only=True),
    post("/modules/{mid:id}/retire", module_retire, admin_only=True),
    post("/modules/{mid:id}/reinstate", module_reinstate, admin_only=True),
]
