"""The outcome of one send through any channel, as the dispatcher and replies need it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bot.plumbing.messages import Reply


class Status(enum.Enum):
    """What became of a send."""

    SENT = "sent"
    RETRY_AFTER = "retry_after"  # the platform asked us to wait `retry_after` seconds
    BLOCKED = "blocked"  # the user blocked the bot or the chat is gone: final
    BAD_REQUEST = "bad_request"  # the platform refused this message: final for it
    TRANSIENT = "transient"  # network trouble, timeout or 5xx: may be retried


@dataclass(frozen=True)
class Outcome:
    """A typed send result; `ambiguous` marks a timeout after which it may have arrived."""

    status: Status
    message_id: int | None = None
    retry_after: float | None = None
    error: str | None = None
    ambiguous: bool = False

    @property
    def ok(self) -> bool:
        """True when the message was delivered."""
        return self.status is Status.SENT


class Sender(Protocol):
    """Sends one rendered message to one chat of a channel; never raises for the platform's
    answers. `priority` orders sends in the channel's pacer (0 = a reply)."""

    async def send(self, chat_id: str, reply: Reply, *, priority: int = 0) -> Outcome:
        """Send `reply` to `chat_id`."""
        ...
