"""One scenario, two ways of receiving updates: polling and webhook must behave the same.

Onboard with an invite → list the appointments → confirm one → its reminder arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import _start_telegram, _stop_telegram
from bot.channels.telegram import build_application
from bot.features import FEATURES, welcome
from bot.features.appointments.planning import create_appointment
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.reminders import ReminderPolicy
from bot.plumbing.router import Router
from bot.web.app import create_app
from storage.models import StaffUser
from storage.types import utcnow
from tests.conftest import serve_app, track_handled_updates
from tests.helpers import data_of, tr

SECRET = "scenario-secret-0123456789"


@pytest.fixture(params=["polling", "webhook"])
async def bot(request, fake_telegram, settings, sessions) -> AsyncIterator[dict[str, Any]]:
    """The bot receiving updates by polling or by webhook, with its dispatcher."""
    fake_telegram.rate_limits(enabled=False)
    base = settings.model_copy(
        update={
            "telegram_bot_token": fake_telegram.token,
            "telegram_api_url": fake_telegram.base_url,
            "telegram_messages_per_second": 1000.0,
            "telegram_seconds_per_chat": 0.0,
            "quiet_hours": "",
        }
    )
    holder: dict[str, Any] = {}

    class LateApp:  # the webhook URL needs the port before the app exists
        async def __call__(self, scope, receive, send):
            await holder["app"](scope, receive, send)

    async with serve_app(LateApp()) as url:
        if request.param == "webhook":
            base = base.model_copy(
                update={
                    "telegram_webhook_url": f"{url}/telegram/webhook",
                    "telegram_webhook_secret": SECRET,
                }
            )
        router = Router(base, sessions, FEATURES, welcome)
        application = build_application(base, router)
        holder["app"] = create_app(base, sessions, router, application)
        track_handled_updates(application, fake_telegram)
        await _start_telegram(base, application)
        dispatcher = Dispatcher(
            sessions=sessions,
            routes=router.routes,
            settings=base,
            senders={"telegram": application.bot_data["sender"]},
        )
        try:
            yield {"settings": base, "dispatcher": dispatcher, "mode": request.param}
        finally:
            await _stop_telegram(application)


async def test_onboard_confirm_and_get_the_reminder(
    bot, fake_telegram, sessions, make_participant, make_invite
):
    participant = await make_participant(display_name="Farid")
    invite = await make_invite(participant)
    user = fake_telegram.user(chat_id=9990, language_code="de")
    [languages] = await user.exchange(f"/start {invite.token}")
    assert "lang:de" in data_of(languages)
    await user.press_and_wait("lang:de")
    done, _menu = await user.press_and_wait("pv:ok:de")
    assert done["text"] == tr("de", "Thank you! You are connected now.")

    starts_at = utcnow() + timedelta(hours=2, seconds=2)
    async with sessions.begin() as session:
        coach = await session.get(StaffUser, participant.coach_id)
        appointment = await create_appointment(
            session,
            actor=coach,
            participant_id=participant.id,
            kind="coaching",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            location="Kreishaus Unna",
            policy=ReminderPolicy.from_settings(bot["settings"]),
            now=utcnow(),
        )
    replies = await user.exchange("/appointments")
    assert f"ap:c:{appointment.id}" in data_of(replies[1])
    [confirmed] = await user.press_and_wait(f"ap:c:{appointment.id}")
    assert tr("de", "✅ You confirmed. Thank you!") in confirmed["text"]

    async with asyncio.timeout(20):
        while not any("⏰" in m["text"] for m in user.messages()):
            await bot["dispatcher"].tick()
            await asyncio.sleep(0.2)
    reminder = next(m for m in user.messages() if "⏰" in m["text"])
    assert reminder["text"].startswith("⏰ " + tr("de", "Reminder of your appointment:"))
    assert tr("de", "✅ You confirmed. Thank you!") in reminder["text"]
    if bot["mode"] == "webhook":
        assert fake_telegram.webhook_deliveries and not fake_telegram.calls_of("getUpdates")
    else:
        assert fake_telegram.calls_of("getUpdates")
