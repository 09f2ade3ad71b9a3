"""The programme's modules ("Bausteine"): admins add, rename and retire them.

A module's code is what CSV files name; it never changes, so old files and reports keep
meaning the same module. A retired module keeps its participants, history and report
rows, and is no longer offered for new participants, courses or imports.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_
from bot.plumbing.errors import UserError
from storage import audit
from storage.models import Module, StaffUser
from storage.modules import find_module_by_code, find_module_by_name

CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_NAME = 200


def _require_admin(actor: StaffUser) -> None:
    if actor.role != "admin":
        raise UserError(A_("Only admins may open this page."))


def _check_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise UserError(A_("The name must not be empty."), field="name")
    if len(name) > MAX_NAME:
        raise UserError(A_("The name may have at most {n} characters."), n=MAX_NAME, field="name")
    return name


async def _unique_name(session: AsyncSession, name: str, module_id: int | None = None) -> None:
    other = await find_module_by_name(session, name=name)
    if other is not None and other.id != module_id:
        raise UserError(A_("A module with this name exists already."), field="name")


async def _module(session: AsyncSession, module_id: int) -> Module:
    module = await session.get(Module, module_id)
    if module is None:
        raise UserError(A_("This module does not exist."))
    return module


async def create_module(
    session: AsyncSession, *, actor: StaffUser, code: str, name: str
) -> Module:
    """Add a module; `code` (lower-case letters, digits, - and _) is what CSV files name."""
    _require_admin(actor)
    code = code.strip().lower()
    if not CODE.fullmatch(code):
        raise UserError(
            A_(
                "The code may have lower-case letters a-z, digits, - and _ "
                "(at most 40, e.g. coaching)."
            ),
            field="code",
        )
    name = _check_name(name)
    if await find_module_by_code(session, code=code) is not None:
        raise UserError(A_("A module with this code exists already."), field="code")
    await _unique_name(session, name)
    module = Module(code=code, name_de=name)
    session.add(module)
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="module.created",
        object_type="module",
        object_id=module.id,
    )
    return module


async def rename_module(
    session: AsyncSession, *, actor: StaffUser, module_id: int, name: str
) -> Module:
    """Give a module a new name; its code stays."""
    _require_admin(actor)
    module = await _module(session, module_id)
    name = _check_name(name)
    if name == module.name_de:
        return module
    await _unique_name(session, name, module.id)
    module.name_de = name
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="module.renamed",
        object_type="module",
        object_id=module.id,
    )
    return module


async def retire_module(
    session: AsyncSession, *, actor: StaffUser, module_id: int, now: datetime
) -> Module:
    """Stop offering a module; its participants and report rows stay as they are."""
    _require_admin(actor)
    module = await _module(session, module_id)
    if module.retired_at is None:
        module.retired_at = now
        await audit.record(
            session,
            actor=f"staff:{actor.id}",
            action="module.retired",
            object_type="module",
            object_id=module.id,
        )
    return module


async def reinstate_module(session: AsyncSession, *, actor: StaffUser, module_id: int) -> Module:
    """Offer a retired module again."""
    _require_admin(actor)
    module = await _module(session, module_id)
    if module.retired_at is not None:
        module.retired_at = None
        await audit.record(
            session,
            actor=f"staff:{actor.id}",
            action="module.reinstated",
            object_type="module",
            object_id=module.id,
        )
    return module
