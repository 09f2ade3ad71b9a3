"""Throttles of guessing: wrong invite codes per chat and per address, and staff logins.

The counts live in the database (`storage.throttles`), so they hold across every process and
over restarts; keys are stored as a keyed hash, never as the address, chat or e-mail itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import throttles
from storage.secrets import stored_secret
from storage.types import utcnow


@dataclass(frozen=True)
class Limit:
    """At most `tries` in any `seconds` seconds, counted under `scope`."""

    scope: str
    tries: int
    seconds: int

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    @property
    def minutes(self) -> int:
        return self.seconds // 60


# Five wrong codes per chat in 15 minutes; a guess of a 192-bit token is hopeless anyway,
# this keeps the database quiet and tells a confused user to ask for help.
BAD_CODES = Limit("code-chat", 5, 15 * 60)
# The web chat also counts per client address (a new cookie is free): more, since a
# classroom or a shelter shares one address. Past it a code is still checked, but only one
# per address every SLOW_CODES seconds (from all processes together; a try waits up to
# SLOW_WAIT seconds for its turn), so a participant at a shelter's address still gets in.
CODES_PER_ADDRESS = Limit("code-address", 20, 15 * 60)
SLOW_CODES = Limit("code-address-slow", 1, 3)
SLOW_WAIT = 10.0


# Guessing is slowed per account and address, and per address, never per account alone, so
# guesses from elsewhere cannot lock the real coach out: five tries for one account from one
# address (a success starts that count again) and thirty from one address in 15 minutes.
# Past either, tries from there are refused until the window has passed (an admin can lift
# an account's lock: `wegweiser admin unlock`). The counts are in the database: the same for
# every process and after a restart.
PER_ACCOUNT = Limit("login-account", 5, 15 * 60)
PER_CLIENT = Limit("login-address", 30, 15 * 60)


class Throttle:
    """Counts tries per key in the database; every method is one short transaction of its
    own, or part of the caller's (`within`, e.g. a turn's)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self._secret: bytes | None = None

    async def _key(self, session: AsyncSession, parts: tuple[str, ...]) -> str:
        """32 hex digits of a keyed hash per part (an account, an address): a key's first
        parts find all its rows (every address of an account)."""
        assert 1 <= len(parts) <= 2
        if self._secret is None:
            made = await stored_secret(
                session, name="throttle-key", make=lambda: secrets.token_hex(32)
            )
            self._secret = made.encode()
        secret = self._secret
        return "".join(
            hmac.new(secret, part.encode(), hashlib.sha256).hexdigest()[:32] for part in parts
        )

    async def take(self, limit: Limit, *parts: str) -> int | None:
        """Count a try on this key: its id, or None when `limit` is reached (not counted)."""
        now = self.clock()
        async with self.sessions.begin() as session:
            key = await self._key(session, parts)
            return await throttles.take(
                session,
                scope=limit.scope,
                key=key,
                limit=limit.tries,
                since=now - limit.window,
                now=now,
            )

    @asynccontextmanager
    async def _transaction(self, within: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if within is not None:
            yield within
        else:
            async with self.sessions.begin() as session:
                yield session

    async def add(self, limit: Limit, *parts: str, within: AsyncSession | None = None) -> None:
        """Count a try on this key whatever the count."""
        now = self.clock()
        async with self._transaction(within) as session:
            key = await self._key(session, parts)
            await throttles.add(session, scope=limit.scope, key=key, now=now)

    async def reached(self, limit: Limit, *parts: str, within: AsyncSession | None = None) -> bool:
        """True when `limit` tries on this key are counted in its window."""
        now = self.clock()
        async with self._transaction(within) as session:
            key = await self._key(session, parts)
            tries = await throttles.count(
                session, scope=limit.scope, key=key, since=now - limit.window
            )
        return tries >= limit.tries

    async def forget(self, ids: list[int]) -> None:
        """Take counted tries back."""
        async with self.sessions.begin() as session:
            await throttles.forget(session, ids)

    async def clear(self, limit: Limit, *parts: str, within: AsyncSession | None = None) -> int:
        """Forget every try on this key, or on every key it begins (an account from any
        address); how many there were."""
        async with self._transaction(within) as session:
            key = await self._key(session, parts)
            return await throttles.clear(session, scope=limit.scope, prefix=key)

    async def most(self, limit: Limit, *parts: str, within: AsyncSession | None = None) -> int:
        """The most tries in the window on any one key that begins with these parts (an
        account: its busiest address)."""
        now = self.clock()
        async with self._transaction(within) as session:
            key = await self._key(session, parts)
            return await throttles.most(
                session, scope=limit.scope, prefix=key, since=now - limit.window
            )


class BadCodeThrottle:
    """Counts wrong codes per chat (or address); `allowed` is false once the limit is hit."""

    def __init__(self, throttle: Throttle, limit: Limit = BAD_CODES) -> None:
        self.throttle = throttle
        self.limit = limit

    async def allowed(self, key: str, within: AsyncSession | None = None) -> bool:
        """True while this chat may try another code."""
        return not await self.throttle.reached(self.limit, key, within=within)

    async def failed(self, key: str, within: AsyncSession | None = None) -> None:
        """Count one wrong code for this chat."""
        await self.throttle.add(self.limit, key, within=within)


class SlowLane:
    """Past a limit, tries still go ahead, one per `limit` window and key across every
    process: a little effort (time) is asked of a busy address instead of a refusal."""

    def __init__(self, throttle: Throttle, limit: Limit = SLOW_CODES, wait: float = SLOW_WAIT):
        self.throttle = throttle
        self.limit = limit
        self.wait = wait

    async def enter(self, *parts: str) -> bool:
        """Wait for this key's next turn; False when none came within `wait` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while await self.throttle.take(self.limit, *parts) is None:
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(0.25, left))
        return True


class LoginThrottle:
    """Counts login tries per (account, address) and per address.

    A try is counted before its password is checked, so parallel guesses cannot all slip
    through while the ~100 ms checks run; a success takes its try back and clears the
    account's count from that address."""

    def __init__(self, throttle: Throttle) -> None:
        self.throttle = throttle

    async def attempt(self, email: str, client: str) -> list[int] | None:
        """Count a try: its counted ids, or None when the account from this address or the
        address has had too many (then nothing is counted)."""
        account = await self.throttle.take(PER_ACCOUNT, _account(email), client)
        if account is None:
            return None
        address = await self.throttle.take(PER_CLIENT, client)
        if address is None:
            await self.throttle.forget([account])
            return None
        return [account, address]

    async def succeeded(self, email: str, client: str, tries: list[int]) -> None:
        """The right password: this try does not count, nor do earlier ones from here."""
        await self.throttle.forget(tries)
        await self.throttle.clear(PER_ACCOUNT, _account(email), client)

    async def unlock(self, email: str, within: AsyncSession | None = None) -> int:
        """Lift the account's lock from every address; how many tries were counted."""
        return await self.throttle.clear(PER_ACCOUNT, _account(email), within=within)

    async def locked(self, email: str, within: AsyncSession | None = None) -> bool:
        """True while the account is locked from at least one address."""
        tries = await self.throttle.most(PER_ACCOUNT, _account(email), within=within)
        return tries >= PER_ACCOUNT.tries


def _account(email: str) -> str:
    """An e-mail address as logins compare it."""
    return email.strip().lower()[:254]
