"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime as the same instant in UTC; a naive one is refused.

    Actions normalise every instant they are given with this, once, so what they keep in
    memory, write into outbox parameters and build dedup keys from is what the database
    gives back: a web form's `+01:00` and the stored `+00:00` never meet as text.
    """
    if value.tzinfo is None:
        raise ValueError("naive datetime where an instant is needed")
    return value.astimezone(UTC)


def instant_text(value: datetime) -> str:
    """The canonical text of an instant for parameters and keys: ISO 8601 in UTC."""
    return as_utc(value).isoformat()


def parse_instant(text: object) -> datetime | None:
    """An instant written by `instant_text` (or any aware ISO 8601 text); None if not one."""
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return as_utc(value) if value.tzinfo is not None else None


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so naive values read from it are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values read back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
