"""/metrics after real traffic: a reminder through the fake Bot API (one 429 first), a chat
that blocked the bot, a reply, a wrong password; and who may scrape it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.features.staff import accounts
from bot.web.app import create_app
from storage.models import PRIORITY_REMINDER
from storage.outbox import enqueue
from storage.types import utcnow
from tests.admin_client import AdminBrowser
from tests.conftest import Pushing, serve_app
from tests.test_processes import _free_port

PASSWORD = "correct horse battery staple"
TOKEN = "metrics-token-0123456789"


async def _scrape(
    url: str, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _reminder(sessions, make_participant, make_appointment, bind_chat, chat_id, due_at):
    """A participant on a Telegram chat with an appointment and its reminder, due at due_at."""
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, chat_id)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    async with sessions.begin() as session:
        await enqueue(
            session,
            template="appointment.reminder",
            participant_id=participant.id,
            subject=("appointment", appointment.id),
            params={"starts_at": appointment.starts_at.isoformat(), "offset": "2h"},
            due_at=due_at,
            priority=PRIORITY_REMINDER,
            dedup_key=f"test:{chat_id}",
        )
    return participant


async def test_metrics_count_sends_429s_blocked_chats_replies_and_failed_logins(
    telegram,
    settings,
    sessions,
    router,
    make_staff,
    make_participant,
    make_appointment,
    bind_chat,
    clock,
):
    await make_staff(
        email="admin@example.org",
        role="admin",
        password_hash=await accounts.hash_password(PASSWORD),
    )
    pushing = Pushing(telegram, sessions, settings)
    overdue = utcnow() - timedelta(seconds=90)  # the dispatcher is 90 s behind
    await _reminder(sessions, make_participant, make_appointment, bind_chat, 8101, overdue)
    await _reminder(sessions, make_participant, make_appointment, bind_chat, 8102, overdue)
    telegram.fake.block(8102)
    app = create_app(settings, sessions, router, telegram.application)
    async with serve_app(app) as url:
        first = await _scrape(url)
        assert _value(first, "wegweiser_database_up") == 1
        due = _value(
            first, "wegweiser_outbox_backlog", template="appointment.reminder", state="due"
        )
        assert due == 2
        assert 90 <= _value(first, "wegweiser_outbox_lag_seconds") < 120

        # One 429 from Telegram, then the reminder goes out on the next try.
        telegram.fake.fail_next("sendMessage", 429, retry_after=1, chat_id=8101)
        await pushing.dispatcher.drain()
        clock.shift(timedelta(seconds=2))
        await pushing.dispatcher.drain()
        [reminder] = telegram.fake.sent(8101)
        assert "Kreishaus Unna" in reminder["text"]  # proven at the chat, not by a row
        user = telegram.fake.user(chat_id=8101, language_code="de")
        await user.exchange("/help")

        browser = AdminBrowser(url)
        try:
            refused = await browser.login("admin@example.org", "not the password")
            assert refused.status_code != 303
        finally:
            await browser.close()

        second = await _scrape(url)

    def grew(name: str, **labels: str) -> float:
        return _value(second, name, **labels) - _value(first, name, **labels)

    assert grew("wegweiser_sends_total", channel="telegram", kind="push", outcome="sent") == 1
    assert (
        grew("wegweiser_sends_total", channel="telegram", kind="push", outcome="retry_after") == 1
    )
    assert grew("wegweiser_sends_total", channel="telegram", kind="push", outcome="blocked") == 1
    assert grew("wegweiser_telegram_429_total") == 1
    assert grew("wegweiser_failed_logins_total", reason="wrong_password") == 1
    assert grew("wegweiser_sends_total", channel="telegram", kind="reply", outcome="sent") >= 1
    assert grew("wegweiser_reply_seconds_count", channel="telegram") == 1
    assert 0 < grew("wegweiser_reply_seconds_sum", channel="telegram") < 10
    assert _value(second, "wegweiser_blocked_chats", channel="telegram") == 1
    assert _value(second, "wegweiser_outbox_lag_seconds") == 0
    assert (
        _value(second, "wegweiser_outbox_backlog", template="appointment.reminder", state="due")
        == 0
    )


async def test_metrics_are_for_loopback_or_a_token(settings, sessions, router):
    async with (
        serve_app(create_app(settings, sessions, router)) as url,
        httpx.AsyncClient() as web,
    ):
        assert (await web.get(f"{url}/metrics")).status_code == 200
        # Through a reverse proxy on the same machine: refused, the client is elsewhere.
        proxied = await web.get(f"{url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403 and "METRICS_TOKEN" in proxied.text
    guarded = settings.model_copy(update={"metrics_token": TOKEN})
    async with serve_app(create_app(guarded, sessions, router)) as url, httpx.AsyncClient() as web:
        assert (await web.get(f"{url}/metrics")).status_code == 401
        wrong = await web.get(f"{url}/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        samples = await _scrape(url, Authorization=f"Bearer {TOKEN}")
        assert _value(samples, "wegweiser_database_up") == 1


async def test_a_running_wegweiser_logs_json_lines_and_serves_metrics(tmp_path):
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "WEB_PORT": str(port),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    log = tmp_path / "stderr.log"
    with log.open("wb") as errors:  # a file: a full pipe could stall the process
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.clocked", utcnow().isoformat(), "bot", "run"),
            cwd=Path(__file__).parents[1],
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client, asyncio.timeout(60):
            while True:
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        samples = await _scrape(url)
        assert _value(samples, "wegweiser_database_up") == 1
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    lines = log.read_text().splitlines()
    assert lines, "the process logged nothing"
    events = [json.loads(line) for line in lines]  # every line is one JSON event
    messages = [event["message"] for event in events]
    assert f"web server on http://127.0.0.1:{port}" in messages
    assert "TELEGRAM_BOT_TOKEN is not set: serving the web chat only" in messages
    assert process.returncode == 0
