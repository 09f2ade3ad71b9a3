"""The audit log: append-only, ids only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    )
