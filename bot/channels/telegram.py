"""Telegram adapter: python-telegram-bot updates in, neutral replies rendered out."""

from __future__ import annotations

import contextlib
import logging
import os

# Opt in to PTB 22's timedelta time periods now (RetryAfter.retry_after and friends), which
# also silences the deprecation warning raised on every 429 with the old int periods.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.messages import Button, Incoming, Reply
from bot.core.router import Router
from bot.i18n import LANGUAGES, match_language, translator
from bot.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def build_application(settings: Settings, router: Router) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot application with every handler wired, in order."""
    assert settings.telegram_bot_token, "build_application needs TELEGRAM_BOT_TOKEN"
    api_url = settings.telegram_api_url.rstrip("/")
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(api_url)
        .base_file_url(api_url.removesuffix("/bot") + "/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=3))
    )
    if settings.webhook_mode:
        builder = builder.updater(None)  # updates arrive through our own web route
    application = builder.build()
    application.bot_data["router"] = router
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
    incoming = Incoming(
        channel="telegram",
        chat_id=str(chat.id),
        text=message.text,
        language_code=user.language_code if user else None,
        other=None if message.text is not None else "other",
    )
    replies = await _router(context).handle(incoming)
    await render(context, chat.id, replies, pressed=None)


async def cb_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: route its (untrusted) data, answer the press, render the replies."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    chat_id = query.message.chat.id
    incoming = Incoming(
        channel="telegram",
        chat_id=str(chat_id),
        callback=query.data or "",
        language_code=query.from_user.language_code,
    )
    replies = await _router(context).handle(incoming)
    toast = next((reply.toast for reply in replies if reply.toast), None)
    try:
        await query.answer(toast)
    except BadRequest:
        log.info("callback query expired before it was answered")
    pressed = query.message if isinstance(query.message, Message) else None
    await render(context, chat_id, replies, pressed=pressed)


async def render(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    replies: list[Reply],
    *,
    pressed: Message | None,
) -> None:
    """Send the replies in order; an `edit` reply replaces the message whose button was pressed."""
    bot = context.bot
    try:
        for reply in replies:
            markup = _keyboard(reply.buttons)
            if reply.document is not None:
                await bot.send_document(
                    chat_id,
                    InputFile(reply.document.content, filename=reply.document.filename),
                    caption=reply.text or None,
                    reply_markup=markup,
                )
            elif reply.edit and pressed is not None and pressed.text is not None:
                try:
                    await pressed.edit_text(reply.text, reply_markup=markup)
                except BadRequest as error:
                    if "not modified" not in str(error):
                        raise
                pressed = None  # one message is edited; further replies are new messages
            else:
                await bot.send_message(chat_id, reply.text, reply_markup=markup)
    except Forbidden:
        log.info("chat %s blocked the bot; reply dropped", chat_id)


def _keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def _router(context: ContextTypes.DEFAULT_TYPE) -> Router:
    router: Router = context.application.bot_data["router"]
    return router


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its traceback and tell the user something useful."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    t = translator(match_language(user.language_code if user else None) or "en")
    text = t.gettext("Sorry, something went wrong on our side. Please try again in a minute.")
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered already
            await update.callback_query.answer()
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)


async def publish_commands(application: Application) -> None:  # type: ignore[type-arg]
    """Set the command list shown in Telegram's menu, in each language Telegram knows."""
    for language in LANGUAGES:
        code = language.code
        if len(code) != 2:  # Telegram takes two-letter ISO 639-1 codes only
            continue
        t = translator(code)
        commands = [
            BotCommand("menu", t.gettext("Main menu")),
            BotCommand("appointments", t.gettext("My next appointments")),
            BotCommand("courses", t.gettext("My courses")),
            BotCommand("language", t.gettext("Change the language")),
            BotCommand("privacy", t.gettext("What we store about you")),
            BotCommand("help", t.gettext("Help")),
        ]
        await application.bot.set_my_commands(
            commands, language_code=None if code == "en" else code
        )
