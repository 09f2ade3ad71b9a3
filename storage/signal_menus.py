"""The numbered options last sent to each Signal chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import SignalMenu


async def remember_options(
    session: AsyncSession, *, chat_id: str, options: list[str], now: datetime
) -> None:
    """Replace a chat's options with those of the message just sent (one upsert, so two
    processes sending to one chat never collide)."""
    insert = dialect_insert(session)
    statement = insert(SignalMenu).values(chat_id=chat_id, options=options, updated_at=now)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SignalMenu.chat_id],
            set_={"options": statement.excluded.options, "updated_at": now},
        )
    )


async def option(session: AsyncSession, *, chat_id: str, number: int) -> str | None:
    """The button data behind option `number` (1-based) of a chat, or None."""
    menu = await session.get(SignalMenu, chat_id)
    if menu is None or not 1 <= number <= len(menu.options):
        return None
    return menu.options[number - 1]


async def prune_menus(session: AsyncSession, *, before: datetime) -> int:
    """Forget options not sent since `before`; how many chats."""
    result = await session.execute(delete(SignalMenu).where(SignalMenu.updated_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
