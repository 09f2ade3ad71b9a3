"""One chat at a time, every chat at once: the keyed serializer every channel adapter uses.

Work for one key (a chat) runs in the order it arrived; work for different keys runs
concurrently. A key's lock lives only while someone holds it or waits for it, so a million
chats leave no million locks behind — and a lock is never dropped while a waiter still
queues on it (which would let a third update of a chat run beside the second).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class ChatSerializer:
    """`async with serializer.turn(chat):` runs one chat's work in arrival order."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for the key's earlier work (FIFO), then run; different keys never wait."""
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)  # counted before waiting: nobody drops it now
        try:
            async with lock:
                yield
        finally:
            lock_now, users_now = self._locks[key]
            if users_now <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock_now, users_now - 1)

    def __len__(self) -> int:
        """How many keys have work running or waiting."""
        return len(self._locks)
