"""The fake Bot API in a process of its own, as Telegram's servers are machines of their own.

In the benches' own process the fake's work (parsing requests, storing every message,
answering) would take event-loop time from the bot being measured. Run apart, the bot and
the baseline each get the machine's other core for "Telegram", the same for both.

Serve (the bench starts it): python -m bench.remote_fake [--global-per-second N] [--no-limits]
It prints its port, then serves until its standard input closes. Two extra methods drive it
over the same HTTP as the bot: `benchStats` (counts), `benchSend` (queue a message from
many chats at once), `benchAsk` (one chat writes; the seconds until its answer arrived)
and `benchLast` (the last text a chat got).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import aiohttp

from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegram


async def serve(global_per_second: float, limits: bool) -> None:
    """Serve until standard input closes (the bench ended or died)."""
    async with FakeTelegram() as fake:
        fake.rate_limits(enabled=limits, global_per_second=global_per_second)

        def stats(_params: dict[str, Any]) -> dict[str, int]:
            return {
                "sent": fake.count("sendMessage", 200),
                "calls": fake.count("sendMessage"),
                "rejected_429": fake.rejected_429,
            }

        async def send(params: dict[str, Any]) -> bool:
            first, count = int(params["first_chat"]), int(params["count"])
            for chat in range(first, first + count):
                await fake.user(chat_id=chat, language_code="de").send(str(params["text"]))
            return True

        def last(params: dict[str, Any]) -> str:
            sent = fake.sent(int(params["chat_id"]))
            return str(sent[-1]["text"]) if sent else ""

        async def ask(params: dict[str, Any]) -> float:
            """A chat writes; seconds until the bot's first answer to it reached the fake."""
            chat_id = int(params["chat_id"])
            started = time.monotonic()
            await fake.user(chat_id=chat_id, language_code="de").send(str(params["text"]))

            def answered(f: FakeTelegram) -> float | None:
                for call in reversed(f.calls_of("sendMessage")):
                    if call.time < started:
                        break
                    if call.status == 200 and call.params.get("chat_id") == chat_id:
                        return call.time - started
                return None

            latency: float = await fake.wait_for(answered, timeout=30, description="answer")
            return latency

        fake.register_method("benchStats", stats)
        fake.register_method("benchAsk", ask)
        fake.register_method("benchLast", last)
        fake.register_method("benchSend", send)
        print(fake.port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # EOF: the parent is gone


class RemoteFake:
    """Start the fake in a child process; `stats()` and `send()` talk to it over HTTP."""

    token = DEFAULT_TOKEN

    def __init__(self, *, global_per_second: float = 30.0, limits: bool = True) -> None:
        self.args = ["--global-per-second", str(global_per_second)]
        if not limits:
            self.args.append("--no-limits")
        self.port = 0
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> RemoteFake:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.remote_fake",
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 30)
        self.port = int(line)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()

    async def _call(self, method: str, **params: Any) -> Any:
        assert self._session is not None
        url = f"{self.base_url}{self.token}/{method}"
        async with self._session.post(url, json=params) as response:
            body = await response.json()
        assert body["ok"], body
        return body["result"]

    async def stats(self) -> dict[str, int]:
        """Messages sent (200), sendMessage calls, 429s so far."""
        result: dict[str, int] = await self._call("benchStats")
        return result

    async def last_text(self, chat_id: int) -> str:
        """The text of the last message the bot sent to a chat ("" if none)."""
        text: str = await self._call("benchLast", chat_id=chat_id)
        return text

    async def ask(self, text: str, chat_id: int) -> float:
        """`chat_id` sends `text`; the seconds until the bot's answer reached the fake."""
        latency: float = await self._call("benchAsk", text=text, chat_id=chat_id)
        return latency

    async def send(self, text: str, first_chat: int, count: int) -> None:
        """`count` chats from `first_chat` on each send `text` (queued for getUpdates)."""
        await self._call("benchSend", text=text, first_chat=first_chat, count=count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--global-per-second", type=float, default=30.0)
    parser.add_argument("--no-limits", action="store_true")
    options = parser.parse_args()
    asyncio.run(serve(options.global_per_second, not options.no_limits))
