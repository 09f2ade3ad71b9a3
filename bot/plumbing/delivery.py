"""The outcome of one send through any channel, as the dispatcher and replies need it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
