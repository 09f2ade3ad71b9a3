"""Tests of the fake Telegram server, driven by the real python-telegram-bot client."""

# ruff: noqa: F811  (the imported fixture is used as a parameter name)

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.channels.telegram_pacing import seconds
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401

CHAT = 1001


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in pairs]])


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    """An initialised PTB Bot talking to the fake."""
    async with Bot(
        fake_telegram.token,
        base_url=fake_telegram.base_url,
        base_file_url=fake_telegram.base_file_url,
        request=HTTPXRequest(read_timeout=2.0),
    ) as instance:
        yield instance


async def test_get_me_unknown_method_and_wrong_token(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    assert bot.username == "WegweiserTestBot"
    assert bot.first_name == "Wegweiser"
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendPigeon", api_kwargs={"chat_id": CHAT})
    assert fake_telegram.calls[-1].status == 404
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake_telegram.base_url}{bot.token}/sendPigeon") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        # JSON bodies and GET query strings are accepted too.
        url = f"{fake_telegram.base_url}{bot.token}/sendMessage"
        async with session.post(url, json={"chat_id": CHAT, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        async with session.get(url, params={"chat_id": str(CHAT), "text": "query"}) as resp:
            assert (await resp.json())["result"]["message_id"] == 2
    wrong = Bot("999:WRONG-TOKEN", base_url=fake_telegram.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()
    assert fake_telegram.calls[-1].status == 401


async def test_send_message_and_validation(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.rate_limits(enabled=False)
    first = await bot.send_message(CHAT, "Hallo", reply_markup=keyboard(("Ja", "yes")))
    second = await bot.send_message(CHAT, "<b>fett</b> &lt;3", parse_mode="HTML")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == CHAT and first.from_user and first.from_user.is_bot
    assert first.reply_markup == keyboard(("Ja", "yes"))
    assert second.text == "fett <3"
    stored = fake_telegram.sent(CHAT)
    assert [m["text"] for m in stored] == ["Hallo", "fett <3"]
    assert stored[1]["raw_text"] == "<b>fett</b> &lt;3"
    assert fake_telegram.calls_of("sendMessage")[0].params["chat_id"] == CHAT

    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "  \n "}, "message text is empty"),
        ({"text": "a", "reply_markup": keyboard(("ok", "x" * 65))}, "button_data_invalid"),
        ({"text": "a", "reply_markup": keyboard(("ok", "ä" * 33))}, "button_data_invalid"),
        ({"text": "a", "reply_markup": keyboard(("", "x"))}, "text must be non-empty"),
        ({"text": "<foo>x</foo>", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<b>x</i>", "parse_mode": "HTML"}, "unmatched end tag"),
        ({"text": "1. Punkt", "parse_mode": "MarkdownV2"}, "is reserved"),
    ]
    for kwargs, expected in cases:
        with pytest.raises(BadRequest) as excinfo:
            await bot.send_message(CHAT, **kwargs)
        assert expected in excinfo.value.message.lower(), kwargs
    assert fake_telegram.calls[-1].status == 400
    ok = await bot.send_message(CHAT, "x" * 4096, reply_markup=keyboard(("ok", "d" * 64)))
    assert ok.message_id == 3
    assert len(fake_telegram.sent(CHAT)) == 3


async def test_fault_injection(
    fake_telegram: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else PTB warns when creating RetryAfter
    fake_telegram.rate_limits(enabled=False)
    fake_telegram.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(CHAT, "a")
    fake_telegram.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(CHAT, "a")
    assert seconds(excinfo.value.retry_after) == 7  # a timedelta from PTB 22.2, before an int
    fake_telegram.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "a")
    fake_telegram.fail_next("sendMessage", 400, chat_id=2002, count=2)
    await bot.send_message(CHAT, "other chat is unaffected")
    for _ in range(2):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(2002, "a")
    await bot.send_message(2002, "works again")

    fake_telegram.block(CHAT)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(CHAT, "typing")
    fake_telegram.unblock(CHAT)
    assert await bot.send_chat_action(CHAT, "typing") is True

    fake_telegram.delay_next("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "slow", read_timeout=0.1)
    # Like the real API, the request still takes effect after the client gave up.
    await fake_telegram.wait_for(lambda f: f.sent(CHAT)[-1]["text"] == "slow", timeout=2)
    assert [c.status for c in fake_telegram.calls_of("sendMessage")] == [
        403,
        429,
        500,
        200,
        400,
        400,
        200,
        200,
    ]


async def test_rate_limits(
    fake_telegram: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns when *constructing* RetryAfter unless PTB_TIMEDELTA is set.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    for i in range(3):
        await bot.send_message(CHAT, f"burst {i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "one too many")
    assert fake_telegram.rejected_429 == 1
    await bot.send_message(CHAT + 1, "other chats have their own bucket")
    fake_telegram.rate_limits(enabled=False)
    for i in range(5):
        await bot.send_message(CHAT, f"unlimited {i}")
    assert fake_telegram.rejected_429 == 1


async def test_edit_delete_and_callback_answers(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.rate_limits(enabled=False)
    user = fake_telegram.user(CHAT, "Amina", "ar")
    markup = keyboard(("Ja", "yes"), ("Nein", "no"))
    msg = await bot.send_message(CHAT, "Frage?", reply_markup=markup)
    assert user.buttons() == [[("Ja", "yes"), ("Nein", "no")]]
    query_id = await user.press("yes")
    with pytest.raises(AssertionError, match="no bot message"):
        await user.press("maybe")
    forged = await user.press("maybe", force=True)
    update = Update.de_json(fake_telegram.pending_updates[0], bot)
    assert update.callback_query and update.callback_query.data == "yes"
    assert update.callback_query.message.message_id == msg.message_id  # type: ignore[union-attr]

    assert await bot.answer_callback_query(query_id, text="Danke", show_alert=True)
    assert fake_telegram.callback_answer(query_id) == {
        "text": "Danke",
        "show_alert": True,
        "url": None,
        "cache_time": None,
    }
    assert fake_telegram.callback_answer(forged) is None
    for bad_id in (query_id, "123"):
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(bad_id)

    same = keyboard(("Ja", "yes"), ("Nein", "no"))
    edited = await bot.edit_message_text("Frage 2?", CHAT, msg.message_id, reply_markup=same)
    assert isinstance(edited, type(msg)) and edited.text == "Frage 2?" and edited.edit_date
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Frage 2?", CHAT, msg.message_id, reply_markup=same)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)
    await bot.edit_message_text("Ohne Knöpfe", CHAT, msg.message_id)  # drops the keyboard
    assert user.buttons() == []
    await bot.edit_message_reply_markup(CHAT, msg.message_id, reply_markup=keyboard(("A", "a")))
    state = fake_telegram.message(CHAT, msg.message_id)
    assert state is not None and state["text"] == "Ohne Knöpfe"
    assert [e["method"] for e in state["edits"]] == [
        "editMessageText",
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert await bot.delete_message(CHAT, msg.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(CHAT, msg.message_id)
    assert user.last_message() is None and fake_telegram.sent(CHAT)[0]["deleted"]


async def test_send_document_commands_and_menu(fake_telegram: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_document(
        CHAT,
        b"BEGIN:VCALENDAR",
        filename="termin.ics",
        caption="<i>Termin</i>",
        parse_mode="HTML",
        reply_markup=keyboard(("OK", "ok")),
    )
    assert msg.document and msg.document.file_name == "termin.ics"
    assert msg.caption == "Termin" and msg.reply_markup == keyboard(("OK", "ok"))
    stored = fake_telegram.sent(CHAT)[-1]
    assert stored["document_content"] == b"BEGIN:VCALENDAR"
    assert stored["document"]["mime_type"] == "text/calendar"
    file = await bot.get_file(msg.document.file_id)
    assert await file.download_as_bytearray() == bytearray(b"BEGIN:VCALENDAR")
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_document(CHAT, "not-a-file-id")

    assert await bot.set_my_commands([("start", "Start"), ("hilfe", "Hilfe")], language_code="de")
    assert await bot.set_my_commands([("start", "Begin")])
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start", "hilfe"]
    assert [c.description for c in await bot.get_my_commands()] == ["Begin"]
    assert await bot.delete_my_commands(language_code="de")
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([("Bad Command", "x")])
    assert await bot.set_chat_menu_button(CHAT)
    assert fake_telegram.menu_buttons[CHAT] == {"type": "default"}


async def test_long_polling_wakes_and_confirms(fake_telegram: FakeTelegram, bot: Bot) -> None:
    user = fake_telegram.user(CHAT, "Amina", "ar")
    started = time.monotonic()
    assert await bot.get_updates(timeout=0.2) == ()
    assert 0.15 < time.monotonic() - started < 1.0
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    update_id = await user.send("/start abc")
    updates = await poll
    assert time.monotonic() - started < 0.3
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message and message.text == "/start abc" and message.from_user
    assert message.from_user.language_code == "ar"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    await user.send_other("sticker")
    assert len(await bot.get_updates(offset=update_id)) == 2
    assert len(await bot.get_updates(offset=update_id + 1)) == 1
    assert await bot.get_updates(offset=update_id + 2) == ()
    assert fake_telegram.pending_updates == []


async def test_stop_wakes_long_pollers() -> None:
    fake = FakeTelegram()
    await fake.start()
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/getUpdates"

        async def long_poll() -> Any:
            async with session.post(url, data={"timeout": "30"}) as response:
                return await response.json()

        poll = asyncio.create_task(long_poll())
        await asyncio.sleep(0.1)
        assert not poll.done()
        started = time.monotonic()
        await fake.stop()
        assert (await poll)["result"] == []
        assert time.monotonic() - started < 1.0


async def test_wait_for_timeout_lists_calls(fake_telegram: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(CHAT, "hi")
    expected = r"(?s)2 call\(s\) of sendMessage.*sendMessage -> 200"
    with pytest.raises(AssertionError, match=expected):
        await fake_telegram.wait_for_calls("sendMessage", 2, timeout=0.05)
    calls = await fake_telegram.wait_for_calls("sendMessage", 1)
    assert calls[0].params["text"] == "hi"


async def test_application_polling_roundtrip(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.rate_limits(enabled=False)  # /start alone sends two messages, then comes an edit
    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Willkommen!")
        await update.message.reply_text(
            "Was möchtest du?",
            reply_markup=keyboard(("Termine", "menu:dates"), ("Hilfe", "menu:help")),
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"gewählt: {query.data}")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
    await app.start()
    try:
        user = fake.user(CHAT, "Amina", "ar")
        reply = await user.reply("hi")
        assert reply["text"] == "echo: hi" and reply["event"] == "sent"
        messages = await user.exchange("/start")
        assert [m["text"] for m in messages] == ["Willkommen!", "Was möchtest du?"]
        assert user.buttons() == [[("Termine", "menu:dates"), ("Hilfe", "menu:help")]]
        edits = await user.press_and_wait("menu:help")
        assert [(m["event"], m["text"]) for m in edits] == [("edited", "gewählt: menu:help")]
        assert [c.status for c in fake.calls_of("answerCallbackQuery")] == [200]
        assert await user.exchange("/unknown", timeout=0.3) == []  # no handler answers
    finally:
        started = time.monotonic()
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        await app.shutdown()
        assert time.monotonic() - started < 2.0
    assert fake.pending_updates == []


async def test_webhook_mode(fake_telegram: FakeTelegram, bot: Bot) -> None:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cr3t_-":
            return web.Response(status=403)
        received.append(await request.json())
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        with pytest.raises(BadRequest, match="Secret token"):
            await bot.set_webhook(url, secret_token="not allowed!")
        assert await bot.set_webhook(url, secret_token="s3cr3t_-")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        update = {
            "update_id": 99,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "x",
                "chat": {"id": CHAT, "type": "private"},
            },
        }
        assert await fake_telegram.deliver_webhook(update, secret_token="wrong") == 403
        assert await fake_telegram.deliver_webhook(update, secret_token=None) == 403
        assert await fake_telegram.deliver_webhook(update) == 200
        user = fake_telegram.user(CHAT, "Amina", "ar")
        update_id = await user.send("über Webhook")
        assert received[-1]["update_id"] == update_id
        assert received[-1]["message"]["text"] == "über Webhook"
        assert fake_telegram.pending_updates == []
        await runner.cleanup()
        await user.send("receiver is down")  # stays pending, error is reported
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1 and info.last_error_message
        assert await bot.delete_webhook()
        assert [u.message.text for u in await bot.get_updates()] == [  # type: ignore[union-attr]
            "receiver is down"
        ]
    finally:
        await runner.cleanup()


async def test_get_file_and_download_as_the_bot_api_documents_them(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    """A user's voice message: getFile gives a file_path, the bytes are at
    /file/bot<token>/<file_path>; a file over 20 MB is refused as Telegram refuses it."""
    user = fake_telegram.user(chat_id=CHAT)
    await user.send_voice(b"OggS-voice", duration=4)
    updates = await bot.get_updates(timeout=0)
    voice = updates[-1].message.voice
    assert (seconds(voice.duration), voice.file_size, voice.mime_type) == (4, 10, "audio/ogg")
    file = await bot.get_file(voice.file_id)
    assert file.file_path.endswith(".oga") and file.file_path.startswith(
        f"{fake_telegram.base_file_url}{fake_telegram.token}/voice/"
    )
    assert bytes(await file.download_as_bytearray()) == b"OggS-voice"
    async with aiohttp.ClientSession() as http:
        wrong = file.file_path.replace(fake_telegram.token, "123:WRONG")
        async with http.get(wrong) as response:
            assert response.status == 404
    await user.send_voice(b"x" * (20 * 1024 * 1024 + 1), kind="audio", mime_type="audio/mpeg")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    audio = updates[-1].message.audio
    assert audio is not None and audio.mime_type == "audio/mpeg"
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(audio.file_id)
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_send_voice_is_recorded_with_buttons_and_rate_limited(
    fake_telegram: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sendVoice by upload: stored like a message (voice object, bytes, buttons), its file
    can be fetched again, and it counts against the per-chat limit like sendMessage."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    sent = await bot.send_voice(
        CHAT, b"OggS-answer", duration=2, reply_markup=keyboard(("↩️ Reply", "cm:r:1"))
    )
    assert seconds(sent.voice.duration) == 2 and sent.voice.file_size == 11
    stored = fake_telegram.sent(CHAT)[-1]
    assert stored["voice_content"] == b"OggS-answer"
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "cm:r:1"
    again = await bot.get_file(sent.voice.file_id)
    assert bytes(await again.download_as_bytearray()) == b"OggS-answer"
    with pytest.raises(BadRequest, match="no voice"):
        await bot.send_voice(CHAT, "")
    await bot.send_message(CHAT, "two")
    with pytest.raises(RetryAfter):  # burst of 3 per chat: voice, message, and this one
        for _ in range(2):
            await bot.send_voice(CHAT, sent.voice.file_id)
    assert fake_telegram.count("sendVoice", 429) == 1
