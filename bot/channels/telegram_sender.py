"""The one way anything is sent to Telegram: a Reply in, a typed Outcome out.

Replies use it now; the dispatcher will use it for reminders, notices and broadcasts. It
never raises for what Telegram answers: 429, 403, 400, timeouts and 5xx become outcomes.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.channels.telegram_pacing import seconds
from bot.plumbing.delivery import Outcome, Status
from bot.plumbing.messages import Button, Reply
from storage.models import PRIORITY_BULK

log = logging.getLogger(__name__)


class TelegramSender:
    """Sends neutral replies through a python-telegram-bot `Bot`."""

    def __init__(self, bot: Bot, *, paid_broadcast: bool = False) -> None:
        self.bot = bot
        self.paid_broadcast = paid_broadcast
        self._private_post = _has_private_post(bot)

    async def send(
        self,
        chat_id: int | str,
        reply: Reply,
        *,
        edit_message_id: int | None = None,
        priority: int = 0,
    ) -> Outcome:
        """Send (or, with `edit_message_id`, edit in place) one reply; never raises.

        `priority` 0 is a reply (retried after a 429); anything else is a push, whose 429
        comes back as RETRY_AFTER for the dispatcher to reschedule.
        """
        markup = keyboard(reply.buttons)
        extra: dict[str, Any] = {}
        paid = self.paid_broadcast and priority >= PRIORITY_BULK
        if isinstance(self.bot, ExtBot) and priority:
            extra["rate_limit_args"] = {"priority": priority, "retries": 0, "paid": int(paid)}
        try:
            if reply.audio is not None and reply.audio.content is not None:
                voice = await self.bot.send_voice(
                    chat_id,
                    InputFile(reply.audio.content, filename=_voice_file(reply.audio.mime_type)),
                    duration=reply.audio.seconds or None,
                    caption=reply.text or None,
                    reply_markup=markup,
                    **extra,
                )
                message_id = voice.message_id
            elif reply.document is not None and reply.document.spoken:
                voice = await self.bot.send_voice(
                    chat_id,
                    InputFile(reply.document.content, filename=reply.document.filename),
                    caption=reply.text or None,
                    reply_markup=markup,
                    **extra,
                )
                message_id = voice.message_id
            elif reply.document is not None:
                document = await self.bot.send_document(
                    chat_id,
                    InputFile(reply.document.content, filename=reply.document.filename),
                    caption=reply.text or None,
                    reply_markup=markup,
                    **extra,
                )
                message_id = document.message_id
            elif edit_message_id is not None:
                try:
                    edited = await self.bot.edit_message_text(
                        reply.text,
                        chat_id=chat_id,
                        message_id=edit_message_id,
                        reply_markup=markup,
                    )
                except BadRequest as error:
                    if "not modified" not in str(error):
                        raise
                    return Outcome(Status.SENT, message_id=edit_message_id)
                edited_id = edited.message_id if not isinstance(edited, bool) else None
                return Outcome(Status.SENT, message_id=edited_id or edit_message_id)
            else:
                limits = extra.get("rate_limit_args")
                message_id = await self._send_text(chat_id, reply.text, markup, paid, limits)
        except RetryAfter as error:
            wait = seconds(error.retry_after)
            return Outcome(Status.RETRY_AFTER, retry_after=wait, error="429")
        except Forbidden as error:
            return Outcome(Status.BLOCKED, error=_short(error))
        except ChatMigrated as error:
            return Outcome(Status.BAD_REQUEST, error=_short(error))
        except BadRequest as error:
            if "chat not found" in str(error).lower():
                return Outcome(Status.BLOCKED, error=_short(error))
            return Outcome(Status.BAD_REQUEST, error=_short(error))
        except TimedOut as error:
            return Outcome(Status.TRANSIENT, error=_short(error), ambiguous=True)
        except (NetworkError, TelegramError) as error:
            return Outcome(Status.TRANSIENT, error=_short(error))
        return Outcome(Status.SENT, message_id=message_id)

    async def _send_text(
        self,
        chat_id: int | str,
        text: str,
        markup: InlineKeyboardMarkup | None,
        paid: bool,
        limits: dict[str, int] | None,
    ) -> int:
        """sendMessage, reading only the new message's id from Telegram's answer.

        `send_message` turns every answer into a `Message` (a fifth of the CPU of a /help
        turn and a tenth of a broadcast's in bench/); the id is all we keep. `Bot._post` is
        the step right below it: the same defaults, rate limiter and error mapping. Without
        it (another python-telegram-bot) the public `send_message` does the same, slower.
        """
        if not self._private_post:
            extra: dict[str, Any] = {"rate_limit_args": limits} if limits else {}
            message = await self.bot.send_message(
                chat_id,
                text,
                reply_markup=markup,
                allow_paid_broadcast=True if paid else None,
                **extra,
            )
            return message.message_id
        data: dict[str, Any] = {"chat_id": chat_id, "text": text, "reply_markup": markup}
        if paid:
            data["allow_paid_broadcast"] = True
        api_kwargs = ExtBot._merge_api_rl_kwargs(None, limits) if limits else None
        result = await self.bot._post("sendMessage", data, api_kwargs=api_kwargs)
        return int(result["message_id"])


def _has_private_post(bot: Bot) -> bool:
    """True if this python-telegram-bot has `Bot._post` and `ExtBot._merge_api_rl_kwargs` as
    22.x does; else False, with one warning: text then goes through `send_message`."""
    post = getattr(bot, "_post", None)
    merge = getattr(ExtBot, "_merge_api_rl_kwargs", None)
    if callable(post) and callable(merge):
        try:
            posts = {"data", "api_kwargs"} <= inspect.signature(post).parameters.keys()
            merges = len(inspect.signature(merge).parameters) == 2
        except ValueError:  # no signature to read
            posts = merges = False
        if posts and merges:
            return True
    log.warning(
        "python-telegram-bot has no Bot._post(data, api_kwargs) and "
        "ExtBot._merge_api_rl_kwargs as 22.x does: sending through Bot.send_message"
    )
    return False


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Neutral button rows as an inline keyboard (None for none)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def _voice_file(mime_type: str) -> str:
    """A file name whose ending tells Telegram the format (OGG/Opus, MP3 or M4A)."""
    ending = {"audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/x-m4a": "m4a"}.get(mime_type)
    return f"voice.{ending or 'ogg'}"


def _short(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:200]
