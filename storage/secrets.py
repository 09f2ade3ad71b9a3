"""Values the deployment makes or learns for itself and every process reads from the database:
secrets it generates once, names Telegram tells it at start."""

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


async def remember_value(session: AsyncSession, *, name: str, value: str) -> None:
    """Store `value` under `name`, replacing an older one (e.g. the bot's name from getMe)."""
    insert = dialect_insert(session)
    await session.execute(
        insert(StoredSecret)
        .values(name=name, value=value)
        .on_conflict_do_update(index_elements=[StoredSecret.name], set_={"value": value})
    )


async def recalled_value(session: AsyncSession, *, name: str) -> str | None:
    """The value stored under `name`, if any process stored one."""
    value: str | None = await session.scalar(
        select(StoredSecret.value).where(StoredSecret.name == name)
    )
    return value
