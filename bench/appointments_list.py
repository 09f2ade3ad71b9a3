"""Benchmark: answering /appointments, as a ratio to answering /help in the same run.

/help loads the chat binding and renders a text (the floor of any update); /appointments adds
the appointment and enrolment queries, the course schedule and per-item rendering. The second
figure shows how the list scales when the database holds many other participants' rows.
Run: python -m bench.appointments_list
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.features import FEATURES, welcome
from bot.plumbing.messages import Incoming
from bot.plumbing.router import Router
from bot.settings import load_settings
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Appointment, ChannelIdentity, Participant, StaffUser
from storage.types import utcnow

ROUNDS = 150


async def _seed(sessions, others: int) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    async with sessions.begin() as session:
        coach = StaffUser(email="c@example.org", display_name="Coach", role="coach")
        session.add(coach)
        await session.flush()
        people = [
            Participant(
                display_name=f"P{i}", coach_id=coach.id, locale="ar", privacy_accepted_at=now
            )
            for i in range(others + 1)
        ]
        session.add_all(people)
        await session.flush()
        session.add(ChannelIdentity(participant_id=people[0].id, channel="bench", external_id="1"))
        session.add_all(
            Appointment(
                participant_id=p.id,
                coach_id=coach.id,
                kind="coaching",
                starts_at=now + timedelta(hours=5 + 17 * k),
                ends_at=now + timedelta(hours=6 + 17 * k),
                location="Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna",
            )
            for p in people
            for k in range(10)
        )


async def _time(router: Router, text: str) -> float:
    incoming = Incoming("bench", "1", text=text)
    await router.handle(incoming)  # warm up
    start = time.perf_counter()
    for _ in range(ROUNDS):
        await router.handle(incoming)
    return (time.perf_counter() - start) / ROUNDS


async def _run(others: int, folder: Path) -> tuple[float, float]:
    url = f"sqlite+aiosqlite:///{folder}/bench-{others}.db"
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    await _seed(sessions, others)
    settings = load_settings(_env_file=None, database_url=url)
    router = Router(settings, sessions, FEATURES, welcome)
    baseline = await _time(router, "/help")
    listing = await _time(router, "/appointments")
    await engine.dispose()
    return baseline, listing


async def main() -> None:
    """Print per-update times and ratios."""
    with tempfile.TemporaryDirectory() as folder:
        small = await _run(0, Path(folder))
        large = await _run(2000, Path(folder))
    print(f"bench appointments_list ({ROUNDS} rounds, SQLite, Arabic)")
    print(f"  /help baseline            {small[0] * 1000:7.2f} ms/update")
    print(
        f"  /appointments (10 items)  {small[1] * 1000:7.2f} ms/update  "
        f"ratio {small[1] / small[0]:.2f}x baseline"
    )
    print(
        f"  /appointments, 20,000 other rows in the table: {large[1] * 1000:7.2f} ms/update  "
        f"ratio {large[1] / large[0]:.2f}x its baseline, "
        f"{large[1] / small[1]:.2f}x the small database"
    )


if __name__ == "__main__":
    asyncio.run(main())
