"""The web chat's stored state: the keys handed out (by hash) and each chat's transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import WebChatEntry, WebChatKey


async def add_key(session: AsyncSession, *, chat_id: str, now: datetime) -> None:
    """Remember a key in use (first posted now, or renewed), or that it was seen again."""
    insert = dialect_insert(session)
    await session.execute(
        insert(WebChatKey)
        .values(chat_id=chat_id, created_at=now, last_seen_at=now)
        .on_conflict_do_update(index_elements=[WebChatKey.chat_id], set_={"last_seen_at": now})
    )


async def key_known(session: AsyncSession, *, chat_id: str) -> bool:
    """True for a key this deployment handed out (and has not forgotten)."""
    return await session.get(WebChatKey, chat_id) is not None


async def forget_key(session: AsyncSession, *, chat_id: str) -> None:
    """A key that must no longer open its chat (renewed after binding)."""
    await session.execute(delete(WebChatKey).where(WebChatKey.chat_id == chat_id))


async def entries_of(session: AsyncSession, *, chat_id: str, limit: int) -> list[WebChatEntry]:
    """The newest `limit` entries of a chat, oldest first."""
    rows = await session.scalars(
        select(WebChatEntry)
        .where(WebChatEntry.chat_id == chat_id)
        .order_by(WebChatEntry.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


async def add_entry(
    session: AsyncSession, *, chat_id: str, sender: str, text: str, reply: dict[str, Any] | None
) -> WebChatEntry:
    """Append one entry to a chat's transcript."""
    entry = WebChatEntry(chat_id=chat_id, sender=sender, text=text, reply=reply)
    session.add(entry)
    await session.flush()
    return entry


async def trim(session: AsyncSession, *, chat_id: str, keep: int) -> None:
    """Keep only the newest `keep` entries of a chat (memory and disk per chat bounded)."""
    cutoff = await session.scalar(
        select(WebChatEntry.id)
        .where(WebChatEntry.chat_id == chat_id)
        .order_by(WebChatEntry.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is not None:
        await session.execute(
            delete(WebChatEntry).where(WebChatEntry.chat_id == chat_id, WebChatEntry.id <= cutoff)
        )


async def move_chat(session: AsyncSession, *, old: str, new: str) -> None:
    """A chat's transcript follows its renewed key."""
    await session.execute(
        update(WebChatEntry).where(WebChatEntry.chat_id == old).values(chat_id=new)
    )


async def clear(session: AsyncSession, *, chat_id: str) -> None:
    """Forget a chat's transcript (the person erased their data)."""
    await session.execute(delete(WebChatEntry).where(WebChatEntry.chat_id == chat_id))


async def prune_webchat(session: AsyncSession, *, before: datetime) -> int:
    """Drop transcript entries and unused keys older than `before`; how many rows."""
    entries = await session.execute(delete(WebChatEntry).where(WebChatEntry.created_at < before))
    keys = await session.execute(delete(WebChatKey).where(WebChatKey.last_seen_at < before))
    return int((entries.rowcount or 0) + (keys.rowcount or 0))  # type: ignore[attr-defined]
