"""Secrets the deployment generates once and every process reads from the database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import StoredSecret


async def stored_secret(session: AsyncSession, *, name: str, make: Callable[[], str]) -> str:
    """The secret `name`, made with `make()` and stored by whichever process comes first."""
    insert = dialect_insert(session)
    await session.execute(
        insert(StoredSecret).values(name=name, value=make()).on_conflict_do_nothing()
    )
    value = await session.scalar(select(StoredSecret.value).where(StoredSecret.name == name))
    assert value is not None
    return value
