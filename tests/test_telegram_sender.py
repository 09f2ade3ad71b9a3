"""The Telegram sender: every answer of the Bot API becomes a typed outcome, never an error.

The real python-telegram-bot client talks to the fake over loopback HTTP, without a rate
limiter in between, so each fault reaches the sender as Telegram would send it. Every test
runs on the transport the bot uses (aiohttp, bot/channels/telegram_http.py) and on PTB's
own (httpx): the outcomes must not depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_sender import TelegramSender
from bot.plumbing.delivery import Status
from bot.plumbing.messages import Button, Document, Reply
from storage.models import PRIORITY_BULK


@pytest.fixture(params=["aiohttp", "httpx"])
async def sender(fake_telegram, request) -> AsyncIterator[TelegramSender]:
    fake_telegram.rate_limits(enabled=False)
    transport: BaseRequest = (
        AiohttpRequest(read_timeout=0.3, connect_timeout=2)
        if request.param == "aiohttp"
        else HTTPXRequest(read_timeout=0.3, connect_timeout=2)
    )
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url, request=transport)
    async with bot:
        yield TelegramSender(bot)


REPLY = Reply("Termin morgen", [[Button("✅", "ap:c:1")]])


async def test_sent_and_edited(sender, fake_telegram):
    sent = await sender.send(4001, REPLY)
    assert sent.status is Status.SENT and sent.message_id is not None
    [message] = fake_telegram.sent(4001)
    assert message["text"] == "Termin morgen"
    assert message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ap:c:1"
    edited = await sender.send(4001, Reply("Bestätigt"), edit_message_id=sent.message_id)
    assert edited.ok and fake_telegram.sent(4001)[0]["text"] == "Bestätigt"
    # Editing to the same text is "not modified" for Telegram: delivered all the same.
    again = await sender.send(4001, Reply("Bestätigt"), edit_message_id=sent.message_id)
    assert again.ok
    document = Reply("Kalender", document=Document("a.ics", b"BEGIN:VCALENDAR", "text/calendar"))
    assert (await sender.send(4001, document)).ok
    upload = fake_telegram.sent(4001)[-1]
    assert upload["document"]["file_name"] == "a.ics"
    assert upload["document_content"] == b"BEGIN:VCALENDAR"
    assert upload["caption"] == "Kalender"


@pytest.mark.parametrize(
    ("status", "expected", "retry_after"),
    [
        (429, Status.RETRY_AFTER, 7.0),
        (403, Status.BLOCKED, None),
        (400, Status.BLOCKED, None),  # "chat not found": the chat is gone
        (500, Status.TRANSIENT, None),
        (502, Status.TRANSIENT, None),
    ],
)
async def test_faults_become_outcomes(sender, fake_telegram, status, expected, retry_after):
    fake_telegram.fail_next("sendMessage", status, retry_after=7 if status == 429 else None)
    outcome = await sender.send(4002, REPLY)
    assert outcome.status is expected
    assert outcome.retry_after == retry_after
    assert not outcome.ok and outcome.error
    assert fake_telegram.sent(4002) == []


async def test_a_refused_message_is_a_bad_request(sender, fake_telegram):
    outcome = await sender.send(4003, Reply("x" * 5000))  # over Telegram's 4,096 characters
    assert outcome.status is Status.BAD_REQUEST and "too long" in (outcome.error or "")


async def test_a_blocked_chat(sender, fake_telegram):
    fake_telegram.block(4004)
    outcome = await sender.send(4004, REPLY)
    assert outcome.status is Status.BLOCKED


async def test_a_timeout_is_transient_and_ambiguous(sender, fake_telegram):
    """The request may have arrived (the fake still executes it): counted as ambiguous."""
    fake_telegram.delay_next("sendMessage", 0.6)
    outcome = await sender.send(4005, REPLY)
    assert outcome.status is Status.TRANSIENT and outcome.ambiguous
    await fake_telegram.wait_for(lambda f: f.sent(4005), timeout=5)


@pytest.mark.parametrize("transport", [AiohttpRequest, HTTPXRequest])
async def test_no_server_is_transient_and_not_ambiguous(transport, unused_tcp_port):
    """Nothing listens: the message cannot have arrived, so it is simply retried later."""
    request = transport()
    bot = Bot("123:abc", base_url=f"http://127.0.0.1:{unused_tcp_port}/bot", request=request)
    await request.initialize()  # not bot.initialize(): its getMe would fail first
    try:
        outcome = await TelegramSender(bot).send(4006, REPLY)
    finally:
        await request.shutdown()
    assert outcome.status is Status.TRANSIENT and not outcome.ambiguous
    assert "ConnectError" in (outcome.error or "") or "Connector" in (outcome.error or "")


async def test_a_proxy_from_the_environment_is_used(fake_telegram, monkeypatch):
    """HTTP_PROXY is honoured as by PTB's own transport: the request goes to the proxy."""
    from aiohttp import web

    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))  # a forward proxy gets the absolute address
        return web.json_response(
            {
                "ok": True,
                "result": {"message_id": 1, "date": 0, "chat": {"id": 4007, "type": "private"}},
            }
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest()
    # A name that does not resolve: only going through the proxy can answer it.
    bot = Bot("123:abc", base_url="http://telegram.invalid/bot", request=request)
    await request.initialize()
    try:
        outcome = await TelegramSender(bot).send(4007, REPLY)
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert outcome.ok
    assert seen and seen[0].startswith("http://telegram.invalid/bot123:abc/sendMessage")


async def test_a_paid_broadcast_asks_telegram_for_it_and_a_reply_never_does(sender, fake_telegram):
    sender.paid_broadcast = True
    bulk = await sender.send(4010, REPLY, priority=PRIORITY_BULK)
    reply = await sender.send(4010, REPLY)
    assert bulk.ok and reply.ok
    assert [bulk.message_id, reply.message_id] == [
        m["message_id"] for m in fake_telegram.sent(4010)
    ]
    paid, plain = fake_telegram.calls_of("sendMessage")[-2:]
    assert paid.params["allow_paid_broadcast"] in (True, "true")
    assert "allow_paid_broadcast" not in plain.params


class RecordingLimiter(BaseRateLimiter[dict[str, Any]]):
    """Lets every request through at once and keeps the `rate_limit_args` each one had."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any] | None]] = []

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(  # type: ignore[override]
        self, callback, args, kwargs, endpoint, data, rate_limit_args
    ) -> Any:
        self.seen.append((endpoint, rate_limit_args))
        return await callback(*args, **kwargs)


@pytest.mark.parametrize("private", ["Bot._post", "ExtBot._merge_api_rl_kwargs", None])
async def test_without_the_private_api_text_goes_through_send_message(
    fake_telegram, monkeypatch, caplog, private
):
    """Another python-telegram-bot may lack Bot._post or ExtBot._merge_api_rl_kwargs: the
    sender then warns once and sends with the public send_message, with the same message,
    the same rate-limit arguments and the same paid-broadcast flag."""
    fake_telegram.rate_limits(enabled=False)
    limiter = RecordingLimiter()
    bot = ExtBot(
        fake_telegram.token,
        base_url=fake_telegram.base_url,
        request=AiohttpRequest(read_timeout=2, connect_timeout=2),
        rate_limiter=limiter,
    )
    public: list[int | str] = []
    send_message = ExtBot.send_message

    async def counted(self, chat_id, *args, **kwargs):
        public.append(chat_id)
        return await send_message(self, chat_id, *args, **kwargs)

    monkeypatch.setattr(ExtBot, "send_message", counted)
    caplog.set_level(logging.WARNING, logger="bot.channels.telegram_sender")
    async with bot:
        # PTB itself needs the private methods to send at all: they are gone only while
        # the sender looks for them, as they would be in a release without them.
        with monkeypatch.context() as missing:
            if private is not None:
                owner, name = private.split(".")
                missing.delattr(Bot if owner == "Bot" else ExtBot, name)
            sender = TelegramSender(bot, paid_broadcast=True)
        bulk = await sender.send(4020, REPLY, priority=PRIORITY_BULK)
        reply = await sender.send(4020, Reply("Hallo"))
    assert bulk.ok and reply.ok
    sent = fake_telegram.sent(4020)
    assert [m["text"] for m in sent] == ["Termin morgen", "Hallo"]
    assert [bulk.message_id, reply.message_id] == [m["message_id"] for m in sent]
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ap:c:1"
    paid, plain = fake_telegram.calls_of("sendMessage")[-2:]
    assert paid.params["allow_paid_broadcast"] in (True, "true")
    assert "allow_paid_broadcast" not in plain.params
    assert [args for endpoint, args in limiter.seen if endpoint == "sendMessage"] == [
        {"priority": PRIORITY_BULK, "retries": 0, "paid": 1},
        None,
    ]
    warnings = [r for r in caplog.records if r.name == "bot.channels.telegram_sender"]
    if private is None:  # 22.x as it is: the quick path, no warning
        assert public == [] and warnings == []
    else:
        assert public == [4020, 4020]
        assert len(warnings) == 1 and "send_message" in warnings[0].getMessage()
