"""Alembic environment: runs on a connection handed in by storage.db, or on DATABASE_URL.

`wegweiser db upgrade` hands in a connection. The plain `alembic` command reads the URL from
DATABASE_URL here, because storage imports nothing from the bot (not even its settings).
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    from storage.db import make_engine

    url = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./wegweiser.db")
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_from_settings())
