"""Telegram adapter: python-telegram-bot updates in, neutral replies sent out by the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Audio as TelegramAudio
from telegram import Bot, BotCommand, Message, Update, Voice
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_pacing import PacedRateLimiter
from bot.channels.telegram_sender import TelegramSender
from bot.i18n import LANGUAGES, N_, match_language, translator
from bot.plumbing.blocked import record_blocked
from bot.plumbing.delivery import Status
from bot.plumbing.messages import MAX_AUDIO_BYTES, MAX_AUDIO_SECONDS, Audio, Incoming, Reply
from bot.plumbing.metrics import count_send, reply_timer
from bot.plumbing.pacer import Pacer
from bot.plumbing.router import Router
from bot.plumbing.routes import Audience
from bot.plumbing.serial import ChatSerializer
from bot.settings import ConfigError, Settings
from storage.types import utcnow

log = logging.getLogger(__name__)

CHANNEL = "telegram"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
SOMETHING_WRONG = N_("Sorry, something went wrong on our side. Please try again in a minute.")
AUDIO_DOWNLOAD_SECONDS = 20.0  # getFile and the download together
# What Telegram's command menu shows: what a connected participant can do.
PUBLISHED = {Audience.ANYONE, Audience.CONNECTED, Audience.PARTICIPANT}


class PerChatUpdates(BaseUpdateProcessor):
    """Updates of different chats are handled concurrently, those of one chat in order.

    PTB starts a task per update in arrival order; the per-chat lock is fair (FIFO), so a
    chat's second message waits for its first, while other chats carry on. One chat's long
    answer or a rate-limit pause therefore never stalls the others.
    """

    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._chats = ChatSerializer()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handling in its chat's turn."""
        chat = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        async with self._chats.turn(chat):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def make_pacer(settings: Settings) -> Pacer:
    """The pacer for Telegram's limits as the settings give them."""
    return Pacer(
        settings.telegram_messages_per_second,
        settings.telegram_seconds_per_chat,
        settings.telegram_chat_burst,
    )


def paid_pacer(settings: Settings) -> Pacer | None:
    """A pacer for paid broadcasts, when the deployment uses them."""
    if not settings.telegram_paid_broadcast:
        return None
    return Pacer(
        settings.telegram_paid_per_second,
        settings.telegram_seconds_per_chat,
        settings.telegram_chat_burst,
    )


@contextlib.contextmanager
def refusals_as_config_errors() -> Iterator[None]:
    """Telegram refusing the token, or not answering, as one line naming the variable."""
    try:
        yield
    except InvalidToken:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN: Telegram does not accept this token; "
            "copy it again from @BotFather (/mybots, API Token)"
        ) from None
    except NetworkError as error:
        raise ConfigError(f"TELEGRAM_API_URL: cannot reach the Bot API ({error})") from None


async def fetch_bot_username(settings: Settings) -> str:
    """The username of TELEGRAM_BOT_TOKEN's bot, as Telegram's getMe gives it."""
    assert settings.telegram_bot_token, "fetch_bot_username needs TELEGRAM_BOT_TOKEN"
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_url.rstrip("/"),
        request=AiohttpRequest(connections=1),
        get_updates_request=AiohttpRequest(connections=1),
    )
    with refusals_as_config_errors():
        async with bot:  # initialize() asks getMe
            return bot.username


def build_application(
    settings: Settings, router: Router, pacer: Pacer | None = None
) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot application with every handler wired, in order.

    Every send waits for `pacer` (Telegram's limits, replies first); the dispatcher shares
    it, so pushes and replies never exceed the limits together.
    """
    assert settings.telegram_bot_token, "build_application needs TELEGRAM_BOT_TOKEN"
    api_url = settings.telegram_api_url.rstrip("/")
    pacer = pacer or make_pacer(settings)
    paid = paid_pacer(settings)
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(api_url)
        .base_file_url(api_url.removesuffix("/bot") + "/file/bot")
        .rate_limiter(PacedRateLimiter(pacer, paid, settings.telegram_max_in_flight))
        .concurrent_updates(PerChatUpdates())
        .request(AiohttpRequest(connections=settings.telegram_max_in_flight + 4))
        .get_updates_request(AiohttpRequest(connections=1))
    )
    if settings.webhook_mode:
        builder = builder.updater(None)  # updates arrive through our own web route
    application = builder.build()
    application.bot_data["router"] = router
    # Every pacer of the bot token, the overall one first (bot/channels/telegram_budget.py).
    application.bot_data["pacers"] = [pacer, *([paid] if paid else [])]
    application.bot_data["sender"] = TelegramSender(
        application.bot, paid_broadcast=settings.telegram_paid_broadcast
    )
    # Button presses first; then every private message, commands included: the router
    # decides what a command means, so all channels share one set of commands.
    application.add_handler(CallbackQueryHandler(cb_button))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED, on_message)
    )
    application.add_error_handler(on_error)
    return application


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message: text, a command, or something else (sticker, photo...)."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    user = update.effective_user
    media = message.voice or message.audio
    # Fetched before the turn: no transaction waits for Telegram's file server.
    audio = await fetch_audio(context.bot, media) if media is not None else None
    incoming = Incoming(
        channel=CHANNEL,
        chat_id=str(chat.id),
        text=message.text,
        language_code=user.language_code if user else None,
        other=None if message.text is not None else "other",
        audio=audio,
    )
    with reply_timer(CHANNEL):
        replies = await _router(context).handle(incoming)
        await send_replies(context, chat.id, replies, pressed=None)


async def fetch_audio(bot: Bot, media: Voice | TelegramAudio) -> Audio:
    """A voice message's bytes through getFile and the file URL, within the limits: one
    longer or larger than them (as Telegram states, or as it turns out) is not kept, and a
    download that fails or takes longer than AUDIO_DOWNLOAD_SECONDS is given up."""
    seconds = _seconds(media.duration)
    mime = media.mime_type or ("audio/ogg" if isinstance(media, Voice) else "audio/mpeg")
    if seconds > MAX_AUDIO_SECONDS:
        return Audio(None, mime, seconds, problem="long")
    if media.file_size is not None and media.file_size > MAX_AUDIO_BYTES:
        return Audio(None, mime, seconds, problem="big")
    try:
        async with asyncio.timeout(AUDIO_DOWNLOAD_SECONDS):
            file = await bot.get_file(media.file_id)
            content = bytes(await file.download_as_bytearray())
    except (TelegramError, TimeoutError) as error:
        log.warning("a voice message could not be fetched: %s", type(error).__name__)
        return Audio(None, mime, seconds, problem="failed")
    if len(content) > MAX_AUDIO_BYTES:
        return Audio(None, mime, seconds, problem="big")
    return Audio(content, mime, seconds)


def _seconds(duration: object) -> int:
    """Telegram's duration in whole seconds, whichever type python-telegram-bot gives."""
    total = getattr(duration, "total_seconds", None)
    return int(total()) if callable(total) else int(duration or 0)  # type: ignore[call-overload]


async def cb_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: route its (untrusted) data, answer the press, send the replies."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    chat_id = query.message.chat.id
    incoming = Incoming(
        channel=CHANNEL,
        chat_id=str(chat_id),
        callback=query.data or "",
        language_code=query.from_user.language_code,
    )
    with reply_timer(CHANNEL):
        replies = await _router(context).handle(incoming)
        toast = next((reply.toast for reply in replies if reply.toast), None)
        try:
            await query.answer(toast)
        except BadRequest:
            log.info("callback query expired before it was answered")
        pressed = query.message if isinstance(query.message, Message) else None
        await send_replies(context, chat_id, replies, pressed=pressed)


async def send_replies(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    replies: list[Reply],
    *,
    pressed: Message | None,
) -> None:
    """Send the replies in order; an `edit` reply replaces the message whose button was pressed.

    A chat that blocked the bot is marked on its identity; any other failure tells the user.
    """
    sender: TelegramSender = context.application.bot_data["sender"]
    for reply in replies:
        editable = reply.edit and pressed is not None and pressed.text is not None
        outcome = await sender.send(
            chat_id, reply, edit_message_id=pressed.message_id if editable and pressed else None
        )
        count_send(CHANNEL, "reply", outcome.status.value)
        if editable:
            pressed = None  # one message is edited; further replies are new messages
        if outcome.ok:
            continue
        if outcome.status is Status.BLOCKED:
            log.info("a telegram chat blocked the bot; reply dropped")
            await _mark_blocked(context, chat_id)
            return
        log.warning("reply not delivered: %s", outcome.error)
        text = translator(reply.lang).gettext(SOMETHING_WRONG)
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat_id, text)
        return


async def _mark_blocked(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    sessions: async_sessionmaker[AsyncSession] = _router(context).sessions
    async with sessions.begin() as session:
        await record_blocked(session, channel=CHANNEL, external_id=str(chat_id), now=utcnow())


def _router(context: ContextTypes.DEFAULT_TYPE) -> Router:
    return _router_of(context.application)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its traceback and tell the user something useful."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    t = translator(match_language(user.language_code if user else None) or "en")
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered already
            await update.callback_query.answer()
    try:
        await context.bot.send_message(update.effective_chat.id, t.gettext(SOMETHING_WRONG))
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)


async def publish_commands(application: Application) -> None:  # type: ignore[type-arg]
    """Set the command list of Telegram's menu, in each language, from the route tables."""
    commands = _router_of(application).routes.listed_commands(PUBLISHED)
    for language in LANGUAGES:
        code = language.code
        if len(code) != 2:  # Telegram takes two-letter ISO 639-1 codes only
            continue
        t = translator(code)
        await application.bot.set_my_commands(
            [BotCommand(c.name, t.gettext(c.description)) for c in commands],
            language_code=None if code == "en" else code,
        )


def _router_of(application: Application) -> Router:  # type: ignore[type-arg]
    router: Router = application.bot_data["router"]
    return router
