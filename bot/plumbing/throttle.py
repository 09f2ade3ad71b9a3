"""Throttling of repeated wrong invite codes from one chat."""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

# Five wrong codes per chat in 15 minutes; a guess of a 192-bit token is hopeless anyway,
# this keeps the database quiet and tells a confused user to ask for help.
BAD_CODES = RateLimitItemPerMinute(5, 15)
# The web chat also counts per client address (a new cookie is free): more, since a
# classroom or a shelter shares one address.
CODES_PER_ADDRESS = RateLimitItemPerMinute(20, 15)


class BadCodeThrottle:
    """Counts wrong codes per chat (or address); `allowed` is false once the limit is hit."""

    def __init__(
        self, storage: Storage | None = None, limit: RateLimitItemPerMinute = BAD_CODES
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._limit = limit

    async def allowed(self, key: str) -> bool:
        """True while this chat may try another code."""
        return await self._limiter.test(self._limit, "invite", key)

    async def failed(self, key: str) -> None:
        """Count one wrong code for this chat."""
        await self._limiter.hit(self._limit, "invite", key)
