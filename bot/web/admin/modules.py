"""Modules (Bausteine), managed by admins: add, rename, retire and offer again."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.modules import create_module, reinstate_module, rename_module, retire_module
from bot.web.admin.site import Ctx, Page, get, post
from storage.modules import list_modules, participants_per_module


async def module_list(
    ctx: Ctx, *, error: str | None = None, status: int = 200, typed: bool = False
) -> Response:
    """Every module with its code, its participants and whether it is still offered;
    `typed`: the add form keeps what was typed."""
    return ctx.render(
        "modules.html",
        status=status,
        modules=await list_modules(ctx.session),
        counts=await participants_per_module(ctx.session),
        values={k: ctx.field(k) for k in ("code", "name")} if typed else {},
        error=error,
    )


async def module_new(ctx: Ctx) -> Response:
    """Add a module."""
    _, error = await ctx.attempt(
        lambda: create_module(
            ctx.session, actor=ctx.login.staff, code=ctx.field("code"), name=ctx.field("name")
        )
    )
    if error:
        return await module_list(ctx, error=error, status=400, typed=True)
    return ctx.redirect("/admin/modules", "created")


def _mid(ctx: Ctx) -> int:
    return int(ctx.request.path_params["mid"])


async def module_rename(ctx: Ctx) -> Response:
    """Give a module a new name; its code stays."""
    _, error = await ctx.attempt(
        lambda: rename_module(
            ctx.session, actor=ctx.login.staff, module_id=_mid(ctx), name=ctx.field("name")
        )
    )
    if error:
        return await module_list(ctx, error=error, status=400)
    return ctx.redirect("/admin/modules", "saved")


async def module_retire(ctx: Ctx) -> Response:
    """Stop offering a module; its participants and report rows stay."""
    _, error = await ctx.attempt(
        lambda: retire_module(ctx.session, actor=ctx.login.staff, module_id=_mid(ctx), now=ctx.now)
    )
    if error:
        return await module_list(ctx, error=error, status=400)
    return ctx.redirect("/admin/modules", "module_retired")


async def module_reinstate(ctx: Ctx) -> Response:
    """Offer a retired module again."""
    _, error = await ctx.attempt(
        lambda: reinstate_module(ctx.session, actor=ctx.login.staff, module_id=_mid(ctx))
    )
    if error:
        return await module_list(ctx, error=error, status=400)
    return ctx.redirect("/admin/modules", "module_reinstated")


routes: list[Page] = [
    get("/modules", module_list, admin_only=True),
    post("/modules/new", module_new, admin_only=True),
    post("/modules/{mid:id}/rename", module_rename, admin_only=True),
    post("/modules/{mid:id}/retire", module_retire, admin_only=True),
    post("/modules/{mid:id}/reinstate", module_reinstate, admin_only=True),
]
