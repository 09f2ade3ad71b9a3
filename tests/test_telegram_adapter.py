"""The Telegram adapter's edges: webhook mode, Bot API failures, rate limits, commands."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.app import _start_telegram, _stop_telegram
from bot.channels.telegram import build_application
from bot.features import FEATURES, welcome
from bot.i18n import LANGUAGES
from bot.plumbing.menu import HELP_NOT_CONNECTED
from bot.plumbing.router import Router
from bot.web.app import create_app
from storage.models import Appointment, ChannelIdentity
from tests.conftest import serve_app
from tests.helpers import labels, tr

SECRET = "webhook-secret-0123456789"


async def test_webhook_mode_checks_the_secret(
    fake_telegram, settings, sessions, make_participant, make_invite
):
    """setWebhook with a secret; a wrong secret is refused, the right one is handled."""
    fake_telegram.rate_limits(enabled=False)
    participant = await make_participant()
    invite = await make_invite(participant)
    base = settings.model_copy(
        update={
            "telegram_bot_token": fake_telegram.token,
            "telegram_api_url": fake_telegram.base_url,
        }
    )
    # The web app must exist before the webhook URL (with its port) is known.
    holder: dict = {}

    class LateApp:
        async def __call__(self, scope, receive, send):
            await holder["app"](scope, receive, send)

    async with serve_app(LateApp()) as url:
        hooked = base.model_copy(
            update={
                "telegram_webhook_url": f"{url}/telegram/webhook",
                "telegram_webhook_secret": SECRET,
            }
        )
        router = Router(hooked, sessions, FEATURES, welcome)
        application = build_application(hooked, router)
        holder["app"] = create_app(hooked, sessions, router, application)
        await _start_telegram(hooked, application)
        try:
            [set_call] = fake_telegram.calls_of("setWebhook")
            assert set_call.params["secret_token"] == SECRET
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 9001, "type": "private"},
                    "from": {"id": 9001, "is_bot": False, "first_name": "X"},
                    "text": "/help",
                },
            }
            assert await fake_telegram.deliver_webhook(update, secret_token="wrong") == 403
            assert await fake_telegram.deliver_webhook(update, secret_token=None) == 403
            # Wrong shapes and oversized bodies: 400, never 500, nothing handled.
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with httpx.AsyncClient() as client:
                for body in (
                    b"[]",
                    b"{}",
                    b"null",
                    b"{",
                    b'{"update_id": "x"}',
                    b'{"update_id": 5, "message": 7}',
                    b"x" * 2_000_000,
                ):
                    answer = await client.post(
                        f"{url}/telegram/webhook", content=body, headers=headers
                    )
                    assert answer.status_code == 400, body[:40]
            assert fake_telegram.sent(9001) == []
            user = fake_telegram.user(chat_id=9002, language_code="de")
            [menu] = await user.exchange(f"/start {invite.token}")
            assert len(labels(menu)) == len(LANGUAGES)
        finally:
            await _stop_telegram(application)


async def test_a_failed_send_tells_the_user_and_keeps_the_data(
    telegram, sessions, make_participant, make_invite, make_appointment, bind_chat
):
    """A 5xx on the reply: the answer is stored anyway and the user hears something useful."""
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9101)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=9101, language_code="de")
    await user.exchange("/appointments")
    telegram.fake.fail_next("editMessageText", 500)
    replies = await user.press_and_wait(f"ap:c:{appointment.id}")
    assert replies[-1]["text"] == tr(
        "de", "Sorry, something went wrong on our side. Please try again in a minute."
    )
    async with sessions() as session:
        assert await session.scalar(select(Appointment.response)) == "confirmed"


async def test_a_blocked_chat_is_marked_and_unmarked(
    telegram, sessions, make_participant, bind_chat
):
    """A reply that gets 403 marks that chat blocked (not the person); the bot carries on,
    and the mark goes when the user writes again."""
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9201)
    await bind_chat(participant, "w-second-chat", channel="web")
    telegram.fake.block(9201)
    blocked = telegram.fake.user(chat_id=9201)
    assert await blocked.exchange("/menu") == []
    assert [c.status for c in telegram.fake.calls_of("sendMessage")] == [403]
    async with sessions() as session:
        query = select(ChannelIdentity.external_id, ChannelIdentity.blocked_at)
        marks = {chat: blocked_at for chat, blocked_at in (await session.execute(query)).all()}
    assert marks["9201"] is not None and marks["w-second-chat"] is None

    other = telegram.fake.user(chat_id=9202, language_code="de")
    [answer] = await other.exchange("/help")
    assert answer["text"].startswith(tr("de", HELP_NOT_CONNECTED))

    telegram.fake.unblock(9201)
    [menu] = await blocked.exchange("/menu")
    assert tr("de", "📅 My appointments") in labels(menu)
    async with sessions() as session:
        assert (
            await session.scalar(
                select(ChannelIdentity.blocked_at).where(ChannelIdentity.external_id == "9201")
            )
            is None
        )


async def test_replies_survive_telegram_rate_limits(
    telegram, make_participant, bind_chat, make_appointment
):
    """With the fake enforcing 1 msg/s per chat (burst 5), a 7-message answer still arrives."""
    participant = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9301)
    for day in range(1, 6):
        from datetime import timedelta

        await make_appointment(participant, starts_in=timedelta(days=day))
    telegram.fake.rate_limits(enabled=True, per_chat_per_second=1, per_chat_burst=5)
    user = telegram.fake.user(chat_id=9301)
    replies = await user.exchange("/appointments", timeout=20.0, quiet=2.5)
    assert len(replies) == 7
    assert telegram.fake.rejected_429 >= 1


@pytest.mark.parametrize("code", ["de", "ar", "uk"])
async def test_commands_are_published_per_language(telegram, code):
    commands = telegram.fake.commands
    key = next(k for k in commands if k[1] == code)
    names = [c["command"] for c in commands[key]]
    assert names == [
        "menu",
        "appointments",
        "courses",
        "write",
        "next",
        "language",
        "handover",
        "privacy",
        "delete",
        "stop",
        "help",
    ]
    assert commands[key][0]["description"] == tr(code, "Main menu")


async def test_webhook_mode_without_a_secret_generates_and_stores_one(
    fake_telegram, settings, sessions
):
    """Every process gets the same generated secret from the database; Telegram gets it."""
    from bot.app import with_webhook_secret
    from storage.models import StoredSecret

    fake_telegram.rate_limits(enabled=False)
    hooked = settings.model_copy(
        update={
            "telegram_bot_token": fake_telegram.token,
            "telegram_api_url": fake_telegram.base_url,
            "telegram_webhook_url": "http://127.0.0.1:9/telegram/webhook",
            "telegram_webhook_secret": None,
        }
    )
    first = await with_webhook_secret(hooked, sessions)
    second = await with_webhook_secret(hooked, sessions)  # another process, later
    secret = first.telegram_webhook_secret
    assert secret and len(secret) >= 32 and second.telegram_webhook_secret == secret
    async with sessions() as session:
        assert (await session.get(StoredSecret, "telegram_webhook_secret")).value == secret
    application = build_application(first, Router(first, sessions, FEATURES, welcome))
    await _start_telegram(first, application)
    try:
        [call] = fake_telegram.calls_of("setWebhook")
        assert call.params["secret_token"] == secret
    finally:
        await _stop_telegram(application)
