"""Benchmark: does converting a recording block the bot? Reply latency of /help (through
the router, with its database transaction) while an uploaded file is converted to OGG/Opus
(bot/plumbing/audio.py: ffmpeg as a child process), against the same with nothing else
running, as a ratio. For contrast, the same conversion run the wrong way (a blocking
`subprocess.run` on the event loop): what the figures look like when the loop is blocked.

Run: python -m bench.voice_convert          (small: a 60-second WAV, as CI runs it)
     python -m bench.voice_convert --full   (a 5-minute MP3: the length limit; as WAV it
                                             would pass the 10 MB limit)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.features import FEATURES, welcome
from bot.plumbing.audio import ffmpeg_exe, to_voice
from bot.plumbing.messages import Incoming
from bot.plumbing.router import Router
from bot.settings import load_settings
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import ChannelIdentity, Participant, StaffUser
from storage.types import utcnow

GAP = 0.02  # a participant's /help every 20 ms while the conversion runs


async def _seed(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        coach = StaffUser(email="c@example.org", display_name="Coach", role="coach")
        session.add(coach)
        await session.flush()
        person = Participant(
            display_name="P", coach_id=coach.id, locale="ar", privacy_accepted_at=utcnow()
        )
        session.add(person)
        await session.flush()
        session.add(ChannelIdentity(participant_id=person.id, channel="bench", external_id="1"))


def _upload(path: Path, seconds: int) -> bytes:
    """A spoken-length test tone (a sine wave), as an uploaded file (WAV or MP3 by name)."""
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=440:duration={seconds}", str(path)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path.read_bytes()


async def _latencies(
    router: Router, work: Callable[[], Coroutine[Any, Any, object]] | None
) -> list[float]:
    """/help sent every GAP until `work` is done (or for 2 s): each reply's latency counted
    from when it was due, so a stalled event loop shows as late replies."""
    incoming = Incoming("bench", "1", text="/help")
    task: asyncio.Task[object] | None = asyncio.create_task(work()) if work else None
    found: list[float] = []
    first = time.perf_counter()
    deadline = first + 2.0
    due = first
    while (task is not None and not task.done()) or (task is None and due < deadline):
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await router.handle(incoming)
        found.append(time.perf_counter() - due)
        due += GAP
    if task is not None:
        await task
    return found


def _figures(values: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum, in ms."""
    ordered = sorted(values) or [float("nan")]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


async def main(full: bool) -> None:
    """Idle, during our conversion, during a blocking one, alternated three times: print the
    figures of all replies of each kind and the ratio of their 95th percentiles."""
    seconds = 300 if full else 60
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        engine = make_engine(url)
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        await _seed(sessions)
        settings = load_settings(_env_file=None, database_url=url)
        router = Router(settings, sessions, FEATURES, welcome)
        wav_path = Path(folder, "upload.mp3" if full else "upload.wav")
        data = await asyncio.to_thread(_upload, wav_path, seconds)
        for _ in range(20):
            await router.handle(Incoming("bench", "1", text="/help"))  # warm up
        took: list[float] = []

        async def ours() -> None:
            await asyncio.sleep(0.1)  # a few replies first
            started = time.perf_counter()
            recording = await to_voice(data)
            took.append(time.perf_counter() - started)
            assert recording.converted and recording.data[:4] == b"OggS"

        async def blocking() -> None:  # the wrong way, for contrast only
            await asyncio.sleep(0.1)
            subprocess.run(  # noqa: ASYNC221 - deliberately blocking: the contrast
                [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i",
                 str(wav_path), "-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-threads", "1",
                 str(Path(folder, "blocking.ogg"))],
                check=True,
                timeout=120,
            )  # fmt: skip

        found: dict[str, list[float]] = {"idle": [], "during": [], "blocking": []}
        for _ in range(3):
            found["idle"] += await _latencies(router, None)
            found["during"] += await _latencies(router, ours)
            found["blocking"] += await _latencies(router, blocking)
        await engine.dispose()

    base = _figures(found["idle"])
    print(
        f"bench voice_convert ({seconds} s {wav_path.suffix[1:].upper()}, "
        f"{len(data) // 1000} kB, SQLite, "
        f"/help every {GAP * 1000:.0f} ms, 3 rounds)"
    )
    print(f"  conversion to OGG/Opus: median {statistics.median(took):.2f} s")
    names = {
        "idle": "idle",
        "during": "during a conversion",
        "blocking": "blocking (contrast)",
    }
    for key, name in names.items():
        median, p95, worst = _figures(found[key])
        print(
            f"  {name:20} {len(found[key]):4} replies  median {median:6.2f} ms  "
            f"p95 {p95:6.2f} ms  max {worst:7.1f} ms  p95 {p95 / base[1]:5.2f}x idle"
        )
    ratio = _figures(found["during"])[1] / base[1]
    print(f"  reply latency during a conversion / idle (p95): {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="a 5-minute recording")
    asyncio.run(main(parser.parse_args().full))
