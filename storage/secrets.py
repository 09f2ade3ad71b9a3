"""Secrets the deployment generates once and every process reads from the database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StoredSecret


async def stored_secret(session: AsyncSession, *, name: str, make: Callable[[], str]) -> str:
    """The secret `name`, made with `make()` and stored by whichever process comes first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(StoredSecret).values(name=name, value=make()).on_conflict_do_nothing()
    )
    value = await session.scalar(select(StoredSecret.value).where(StoredSecret.name == name))
    assert value is not None
    return value
