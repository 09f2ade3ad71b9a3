"""The numbered options shown to each Signal chat: number N means options[N - 1].

A number keeps its meaning: an option shown again gets the number it had, and a new option
gets a number not used yet, so a repeated or late "1" never does something else (after "1"
confirmed an appointment, the card shown again has no ✅, and "2" is still ❌). The numbers
start again from 1 only when they would pass MAX_NUMBER or the chat was shown nothing for
RESTART_AFTER.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import SignalMenu

MAX_NUMBER = 99  # numbers stay short to type
RESTART_AFTER = timedelta(days=1)


async def number_options(
    session: AsyncSession, *, chat_id: str, options: list[str], now: datetime
) -> list[int]:
    """The numbers under which `options` (button data, in order) are shown now; kept for
    the chat. The chat's row is locked, so two processes sending to one chat agree."""
    insert = dialect_insert(session)
    await session.execute(
        insert(SignalMenu)
        .values(chat_id=chat_id, options=[], updated_at=now)
        .on_conflict_do_nothing(index_elements=[SignalMenu.chat_id])
    )
    menu = await session.scalar(
        select(SignalMenu)
        .where(SignalMenu.chat_id == chat_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert menu is not None
    known = list(menu.options or [])
    new = [data for data in dict.fromkeys(options) if data not in known]
    stale = menu.updated_at is not None and menu.updated_at < now - RESTART_AFTER
    if stale or len(known) + len(new) > MAX_NUMBER:
        known = []
    numbers = []
    for data in options:
        if data not in known:
            known.append(data)
        numbers.append(known.index(data) + 1)
    menu.options, menu.updated_at = known, now
    return numbers


async def option(session: AsyncSession, *, chat_id: str, number: int) -> str | None:
    """The button data behind option `number` (1-based) of a chat, or None."""
    menu = await session.get(SignalMenu, chat_id)
    if menu is None or not 1 <= number <= len(menu.options):
        return None
    return menu.options[number - 1]


async def forget_menu(session: AsyncSession, *, chat_id: str) -> None:
    """Forget a chat's options (the person erased their data)."""
    await session.execute(delete(SignalMenu).where(SignalMenu.chat_id == chat_id))


async def prune_menus(session: AsyncSession, *, before: datetime) -> int:
    """Forget options not sent since `before`; how many chats."""
    result = await session.execute(delete(SignalMenu).where(SignalMenu.updated_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
