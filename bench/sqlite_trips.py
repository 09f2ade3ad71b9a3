"""What the start of every update costs on SQLite: the chat's identity lookup and the COMMIT.

SQLAlchemy's own aiosqlite adapter with the pool as it was (the baseline) against
`make_engine` now (storage/sqlite_driver.py: one trip to the connection's thread per
statement, none for an empty COMMIT; the pool hands out the connection used last, so few
threads stay warm), both on the same database in one run: turns per second one at a time
and 32 at once (as the Telegram adapter runs them), the CPU of the whole process per turn,
and the trips per turn.

Run: python -m bench.sqlite_trips          (small: 2,000 turns each, as CI runs it)
     python -m bench.sqlite_trips --full   (20,000 turns each)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.dispatch import _connected, _database
from storage.db import make_engine, make_sessionmaker
from storage.identities import find_identity

USERS = 200


def _stock(url: str) -> AsyncEngine:
    """The baseline: SQLAlchemy's aiosqlite adapter and pool, as make_engine had them."""
    return create_async_engine(url, pool_reset_on_return=None, connect_args={"timeout": 30})


async def _turns(engine: AsyncEngine, turns: int, at_once: int) -> tuple[float, float, float]:
    """Turns per second, process CPU per turn (µs) and trips per turn."""
    sessions = make_sessionmaker(engine)
    trips = 0
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kwargs)

    async def turn(i: int) -> None:
        async with sessions() as session:
            identity = await find_identity(
                session, channel="telegram", external_id=str(800_000 + i % USERS)
            )
            assert identity is not None and identity.participant is not None
            await session.commit()

    gate = asyncio.Semaphore(at_once)

    async def gated(i: int) -> None:
        async with gate:
            await turn(i)

    await asyncio.gather(*(gated(i) for i in range(300)))  # a warm pool, as a running bot has
    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(gated(i) for i in range(turns)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]
    return turns / elapsed, cpu / turns * 1e6, trips / turns


async def main(full: bool) -> None:
    """Alternate the baseline and ours (three rounds each) and print the medians' ratios."""
    turns = 20_000 if full else 2_000
    with tempfile.TemporaryDirectory() as folder:
        url, engine, sessions = await _database(Path(folder), "trips")
        await _connected(sessions, USERS)
        await engine.dispose()
        print(f"bench sqlite_trips ({turns:,} turns each): identity lookup + COMMIT per turn")
        for at_once in (1, 32):
            stock: list[tuple[float, float, float]] = []
            ours: list[tuple[float, float, float]] = []
            for _ in range(3):
                for engine, into in ((_stock(url), stock), (make_engine(url), ours)):
                    into.append(await _turns(engine, turns, at_once))
                    await engine.dispose()
            base_rate = statistics.median(r for r, _, _ in stock)
            our_rate = statistics.median(r for r, _, _ in ours)
            base_cpu = statistics.median(c for _, c, _ in stock)
            our_cpu = statistics.median(c for _, c, _ in ours)
            print(
                f"  {at_once:>2} at once: stock aiosqlite adapter {base_rate:,.0f} turns/s, "
                f"{base_cpu:.0f} µs CPU, {stock[0][2]:.1f} trips; ours {our_rate:,.0f} turns/s, "
                f"{our_cpu:.0f} µs CPU, {ours[0][2]:.1f} trips: "
                f"ratio {our_rate / base_rate:.2f}x turns/s, {our_cpu / base_cpu:.2f}x CPU"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full size")
    asyncio.run(main(parser.parse_args().full))
