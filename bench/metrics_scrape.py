"""Benchmark: what a Prometheus scrape of /metrics costs against a large outbox backlog.

/metrics reads the backlog, the oldest due push and the blocked chats from the database at
every scrape; /healthz touches nothing. This fills the outbox with N unfinished pushes
(half due, half planned, over six templates), serves the web app and times both requests
in turn, then `wegweiser backup` of that database (SQLite). Prints the medians and the
ratio. Run: python -m bench.metrics_scrape [--rows N] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from bot.features import FEATURES, welcome
from bot.plumbing.router import Router
from bot.settings import load_settings
from bot.web.app import create_app
from storage.backup import backup
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import OutboxMessage, Participant
from storage.types import utcnow

TEMPLATES = ("appointment.reminder", "course.reminder", "broadcast", "notice", "a", "b")


async def _fill(url: str, rows: int) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    now = utcnow()
    async with make_sessionmaker(engine).begin() as session:
        person = Participant(display_name="Bench", locale="de")
        session.add(person)
        await session.flush()
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "participant_id": person.id,
                    "template": TEMPLATES[i % len(TEMPLATES)],
                    "params": {},
                    "due_at": now + timedelta(minutes=(i % 2) * 60 - 30, seconds=i),
                    "state": "pending",
                }
                for i in range(rows)
            ],
        )
    await engine.dispose()


async def _times(client: httpx.AsyncClient, path: str, n: int) -> list[float]:
    found = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(path)
        found.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return found


async def main(rows: int, postgresql: str | None) -> None:
    """Fill, serve, time /healthz and /metrics, back up."""
    import uvicorn

    with tempfile.TemporaryDirectory() as tmp:
        url = postgresql or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await _fill(url, rows)
        settings = load_settings(_env_file=None, database_url=url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        app = create_app(settings, sessions, Router(settings, sessions, FEATURES, welcome))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await _times(client, "/metrics", 3)  # warm up
                health = await _times(client, "/healthz", 50)
                scrape = await _times(client, "/metrics", 50)
        finally:
            server.should_exit = True
            await serving
            await engine.dispose()
        backup_line = ""
        if not postgresql:
            started = time.perf_counter()
            size = await backup(url, Path(tmp) / "bench.backup")
            backup_line = f"; backup {size / 1e6:.1f} MB in {time.perf_counter() - started:.2f} s"
    h, m = statistics.median(health), statistics.median(scrape)
    database = "PostgreSQL" if postgresql else "SQLite"
    print(f"metrics scrape: {rows} unfinished pushes on {database}{backup_line}")
    print(f"  /healthz median {h * 1000:6.1f} ms")
    p95 = statistics.quantiles(scrape, n=20)[-1]
    print(
        f"  /metrics median {m * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   "
        f"median {m / h:.1f}x /healthz"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgresql", help="a database to fill (its schema is replaced)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.postgresql))
