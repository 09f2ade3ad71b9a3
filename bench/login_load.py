"""Benchmark: how much a crowd of password guessers slows everyone else down.

One process serves every chat and the staff web. Argon2 needs ~100 ms of CPU per check; run
on the event loop it stalls every chat for that long. This measures the latency of a cheap
request (`GET /healthz`, the floor of any web-chat request) while G guessers post wrong
passwords to `/admin/login` as fast as they can, as a ratio to the same request with nobody
guessing, in one run:

- ours: checks run in a thread, at most two at once;
- baseline: the same server with the check run on the event loop (as before this change).

The login throttle is lifted for the run, so every guess costs a real check. On SQLite the
baseline also shows a second harm: with the loop stalled, write transactions wait past the
busy timeout ("database is locked", answered 500).
Run: python -m bench.login_load [--full]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from limits import RateLimitItemPerMinute

from bot.features import FEATURES, welcome
from bot.features.staff import accounts
from bot.plumbing.router import Router
from bot.settings import load_settings
from bot.web import app as web_app
from bot.web.admin import auth
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import StaffUser


async def _latencies(client: httpx.AsyncClient, requests: int) -> list[float]:
    found = []
    for _ in range(requests):
        start = time.perf_counter()
        response = await client.get("/healthz")
        found.append(time.perf_counter() - start)
        assert response.status_code == 200
        await asyncio.sleep(0.005)
    return found


async def _guess(client: httpx.AsyncClient, stop: asyncio.Event, counter: list[int]) -> None:
    page = await client.get("/admin/login")
    token = page.text.split('name="token" value="')[1].split('"')[0]
    while not stop.is_set():
        response = await client.post(
            "/admin/login",
            data={"token": token, "email": "coach@example.org", "password": "wrong guess"},
        )
        counter[0] += 1
        counter[1] += response.status_code >= 500


async def _phase(url: str, requests: int, guessers: int) -> tuple[list[float], list[int]]:
    stop = asyncio.Event()
    counter = [0, 0]  # guesses, server errors
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(guessers + 1)]
    try:
        tasks = [asyncio.create_task(_guess(c, stop, counter)) for c in clients[1:]]
        await asyncio.sleep(0.3 if guessers else 0)
        latencies = await _latencies(clients[0], requests)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        for client in clients:
            await client.aclose()
    return latencies, counter


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def main(full: bool) -> None:
    """Measure idle and loaded latency with the check in a thread and on the loop."""
    import uvicorn

    requests, guessers = (400, 16) if full else (60, 4)
    auth.PER_ACCOUNT = RateLimitItemPerMinute(10**9, 15)
    auth.PER_CLIENT = RateLimitItemPerMinute(10**9, 15)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}")
        engine = make_engine(settings.database_url)
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            session.add(
                StaffUser(
                    email="coach@example.org",
                    display_name="Coach",
                    role="coach",
                    password_hash=await accounts.hash_password("the right password"),
                )
            )
        router = Router(settings, sessions, FEATURES, welcome)
        app = web_app.create_app(settings, sessions, router)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="critical", lifespan="off"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        results: dict[str, Any] = {}
        try:
            idle, _ = await _phase(url, requests, 0)
            ours, ours_guesses = await _phase(url, requests, guessers)
            threaded = accounts._verify

            async def on_the_loop(stored: str, password: str) -> bool:
                try:
                    return bool(accounts._hasher.verify(stored, password))
                except Exception:
                    return False

            accounts._verify = on_the_loop  # type: ignore[assignment]
            try:
                base, base_guesses = await _phase(url, requests, guessers)
            finally:
                accounts._verify = threaded  # type: ignore[assignment]
            results = {"idle": idle, "ours": ours, "baseline": base}
        finally:
            server.should_exit = True
            await serving
            await engine.dispose()
    idle_p50, idle_p95 = _p(results["idle"], 50), _p(results["idle"], 95)
    print(f"login load: {guessers} guessers, {requests} requests per phase")
    print(f"  idle             p50 {idle_p50 * 1000:7.1f} ms   p95 {idle_p95 * 1000:7.1f} ms")
    for name, guesses in (("ours", ours_guesses), ("baseline", base_guesses)):
        p50, p95 = _p(results[name], 50), _p(results[name], 95)
        print(
            f"  {name:9} loaded p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
            f"p95 / idle {p95 / idle_p95:6.1f}x   ({guesses[0]} guesses checked, "
            f"{guesses[1]} answered 500)"
        )
    ratio = _p(results["baseline"], 95) / _p(results["ours"], 95)
    print(f"  baseline p95 / ours p95: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    asyncio.run(main(parser.parse_args().full))
