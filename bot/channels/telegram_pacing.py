"""Telegram's limits for python-telegram-bot: every send waits for the shared Pacer.

Replies (priority 0) are retried after a 429 once the pause has passed; the dispatcher's
pushes pass `{"priority": 5, "retries": 0}` so a 429 comes back as an outcome and the row is
rescheduled instead of a worker sleeping on its lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.plumbing.pacer import Pacer

log = logging.getLogger(__name__)

# Methods that post a message into a chat; Telegram's flood limits count these.
PACED = frozenset(
    "sendMessage sendDocument sendPhoto sendVoice editMessageText editMessageReplyMarkup "
    "editMessageCaption copyMessage forwardMessage".split()
)
REPLY_RETRIES = 3


def seconds(retry_after: timedelta | float) -> float:
    """A RetryAfter's wait in seconds, whichever type PTB gives."""
    return (
        retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
    )


class PacedRateLimiter(BaseRateLimiter[dict[str, int]]):
    """Sends in Pacer order; counts the 429s that still happen (there should be none).

    Paid broadcasts (`{"paid": 1}`) wait for their own pacer: Telegram counts them apart.
    """

    def __init__(self, pacer: Pacer, paid: Pacer | None = None, in_flight: int = 16) -> None:
        self.pacer = pacer
        self.paid = paid or pacer
        self.retry_afters = 0
        # Requests on the wire at once: enough to keep the pace over a slow network, few
        # enough that the HTTP pool does not open (and scan) hundreds of connections.
        self._in_flight = asyncio.Semaphore(in_flight)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, int] | None,
    ) -> Any:
        """Wait for a slot, send; after a 429 hold everyone, then retry replies."""
        if endpoint not in PACED:
            return await callback(*args, **kwargs)
        options = rate_limit_args or {}
        priority = options.get("priority", 0)
        retries = options.get("retries", REPLY_RETRIES)
        chat = data.get("chat_id")
        pacer = self.paid if options.get("paid") else self.pacer
        for attempt in range(retries + 1):
            await pacer.acquire(chat, priority)
            try:
                async with self._in_flight:
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.retry_afters += 1
                pacer.hold(seconds(error.retry_after))
                log.warning("Telegram asked to wait %.1f s", seconds(error.retry_after))
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")
