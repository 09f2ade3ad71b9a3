"""One pacer for everything sent to a platform: stay under its limits instead of provoking
429s, and hand out the next free slot by priority (replies, then notices, then reminders,
then bulk), so a broadcast never delays an answer.

Limits: `per_second` messages overall, and per chat one message every `per_chat` seconds
with a burst of `chat_burst` (Telegram tolerates a short burst in one chat; the fake Bot API
enforces the same bucket). `hold(seconds)` stops every send for the time the platform asked.

Slots are kept on a fixed schedule: when the event loop wakes the pacer late (a busy loop
does; at 1,000/s a slot is 1 ms, which is about the loop's timer resolution), the slots
missed in the last CATCH_UP seconds are granted at once instead of being lost. On top of the
schedule a sliding window holds: never more than `per_second` grants in any WINDOW (a second
and a margin for the requests' varying way to the platform). Telegram may refuse the 31st
message in any one second, also right after a pause or a hold, so neither a made-up slot nor
the first sends after a 429 may put a 31st into a second.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Hashable

CATCH_UP = 0.01  # seconds of missed slots granted at once after a late wake-up
# No more than `per_second` grants within this many seconds: one second as the platform
# counts it, and 30 ms for two requests that reach it in another spacing than granted.
WINDOW = 1.03


class Pacer:
    """Grants send slots at a steady rate, highest priority (lowest number) first."""

    def __init__(
        self,
        per_second: float,
        per_chat: float,
        chat_burst: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.per_second = per_second
        self.shares = 1
        self._recent: deque[float] = deque()  # the last grants, up to the window's limit
        self._pace(per_second)
        # A tenth of headroom: a request can reach the platform later than its slot, and the
        # platform counts arrivals, so two slots exactly `per_chat` apart may look closer.
        self.per_chat = per_chat * 1.1
        self.chat_burst = max(chat_burst, 1)
        self._clock = clock
        self._next_slot = 0.0
        self._held_until = 0.0
        # Per chat: (tokens, when counted); a token comes back every `per_chat` seconds.
        self._chat_tokens: dict[Hashable, tuple[float, float]] = {}
        self._waiting: list[tuple[int, int, Hashable, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._wake: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def acquire(self, chat: Hashable, priority: int = 0) -> None:
        """Wait for this chat's next slot; lower `priority` numbers go first.

        A chat is one budget whether its id comes as a number (a reply) or as text (a push
        whose chat id was stored): both are keyed by the text.
        """
        chat = str(chat)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), chat, future))
        self._start()
        try:
            await future
        except asyncio.CancelledError:
            if not future.done():
                future.cancel()
            raise

    def divide(self, shares: int) -> None:
        """Spend one of `shares` equal parts of the overall rate: the other parts belong to
        other processes sending with the same bot token. The window shrinks at once, so the
        sends of the last second count against the smaller part."""
        shares = max(int(shares), 1)
        if shares == self.shares:
            return
        self.shares = shares
        self._pace(self.per_second / shares)
        self._start()

    def _pace(self, rate: float) -> None:
        """Grant `rate` a second: the slot interval, and the window keeps the newest grants."""
        self.interval = 1.0 / rate
        # How far the schedule may lag behind the clock: at least one slot (as always).
        self._catch_up = max(self.interval, CATCH_UP)
        self._window_limit = max(int(rate), 1)
        self._recent = deque(self._recent, maxlen=self._window_limit)

    def hold(self, seconds: float) -> None:
        """The platform said "retry after": nothing is sent before that time has passed."""
        self._held_until = max(self._held_until, self._now() + seconds)
        self._start()

    @property
    def held_for(self) -> float:
        """Seconds until sending may resume (0 when not held)."""
        return max(0.0, self._held_until - self._now())

    def _start(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._drop_cancelled()
            if not self._waiting:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 30)
                except TimeoutError:
                    if not self._waiting:
                        return  # idle: the next acquire starts a new pump
                continue
            now = self._now()
            start = max(self._next_slot, self._held_until, self._window_opens())
            if now < start:
                await self._sleep(start - now)
                continue
            granted = self._grant(now)
            if granted is None:
                ready_at = [
                    self._chat_ready_at(chat, now)
                    for _, _, chat, future in self._waiting
                    if not future.done()
                ]
                if ready_at:
                    await self._sleep(max(min(ready_at) - now, 0.001))

    def _grant(self, now: float) -> Hashable | None:
        """Release the most urgent waiter whose chat is ready; None if none is."""
        skipped = []
        granted = None
        while self._waiting:
            entry = heapq.heappop(self._waiting)
            _, _, chat, future = entry
            if future.done():
                continue
            if self._chat_ready_at(chat, now) <= now:
                future.set_result(None)
                self._next_slot = max(self._next_slot, now - self._catch_up) + self.interval
                self._recent.append(now)
                tokens = self._chat_tokens_now(chat, now)
                self._chat_tokens[chat] = (tokens - 1, now)
                granted = chat
                break
            skipped.append(entry)
        for entry in skipped:
            heapq.heappush(self._waiting, entry)
        if len(self._chat_tokens) > 10_000:  # forget chats whose bucket is full again
            self._chat_tokens = {
                c: v for c, v in self._chat_tokens.items() if self._chat_tokens_now(c, now) < 1
            }
        return granted

    def _window_opens(self) -> float:
        """When one more grant fits the sliding window (0.0: now)."""
        if len(self._recent) < self._window_limit:
            return 0.0
        return self._recent[0] + WINDOW

    def _chat_tokens_now(self, chat: Hashable, now: float) -> float:
        if not self.per_chat:
            return float(self.chat_burst)
        tokens, stamp = self._chat_tokens.get(chat, (float(self.chat_burst), now))
        return min(float(self.chat_burst), tokens + (now - stamp) / self.per_chat)

    def _chat_ready_at(self, chat: Hashable, now: float) -> float:
        """When this chat has a token again (now, if it has one)."""
        tokens = self._chat_tokens_now(chat, now)
        return now if tokens >= 1 else now + (1 - tokens) * self.per_chat

    def _drop_cancelled(self) -> None:
        """Drop cancelled waiters from the top of the heap (O(log n) each; the ones deeper
        down are skipped when they come up — a full scan per grant made a broadcast of n
        messages cost n² checks)."""
        while self._waiting and self._waiting[0][3].done():
            heapq.heappop(self._waiting)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early for a new waiter (it may be more urgent or ready sooner)."""
        assert self._wake is not None
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
