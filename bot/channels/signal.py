"""Signal through signal-cli's HTTP JSON-RPC daemon (`signal-cli daemon --http`).

Receiving: `GET /api/v1/events` is a Server-Sent Events stream (`event:receive`, data
`{"envelope": ..., "account": ...}`). signal-cli keeps no event ids and replays nothing, so
the daemon must run with `--receive-mode=on-connection`: messages wait on the Signal server
while nobody listens, and the bot reconnects at once when the stream ends.

Sending: `POST /api/v1/rpc`, method `send` (`recipient`, `message`, `attachments` as data
URIs). Signal has no buttons: they become numbered lines ("1 ✅ I will come"), remembered
per chat, and a typed number presses them. An invite code comes as "start CODE" (or
"/start CODE"). Outcomes come from the per-recipient results: UNREGISTERED_FAILURE marks the
chat blocked, RATE_LIMIT_FAILURE reschedules after `retryAfterSeconds`, and the JSON-RPC
errors -1 (user), -3 (I/O), -4 (untrusted identity) and -5 (rate limit) are each mapped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.plumbing.blocked import record_blocked
from bot.plumbing.delivery import Outcome, Status
from bot.plumbing.messages import Incoming, Reply
from bot.plumbing.metrics import count_send, reply_timer
from bot.plumbing.router import Router
from bot.plumbing.serial import ChatSerializer
from storage.signal_menus import forget_menu, number_options, option
from storage.types import utcnow

log = logging.getLogger(__name__)

CHANNEL = "signal"
RECONNECT_SECONDS = (0.0, 1.0, 2.0, 5.0, 10.0)  # after the stream ends: at once, then slower
DEFAULT_RETRY_AFTER = 60.0
MAX_CONCURRENT = 32  # Signal messages handled at once (different chats)
STOP_SECONDS = 10.0  # on stop, how long messages being handled may take to finish
REPLY_ATTEMPTS = 5  # a reply refused for a rate limit or a transient error is sent again
REPLY_MAX_WAIT = 15 * 60.0  # a longer wait asked (a proof challenge: a day) drops the reply
TRANSIENT_WAITS = (1.0, 5.0, 15.0, 30.0)  # pauses after a network or I/O error
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_START = re.compile(r"^\s*/?start\s+(\S+)\s*$", re.IGNORECASE)


def numbered(reply: Reply, numbers: list[int]) -> tuple[str, list[str]]:
    """The text to send, with the buttons as numbered lines ("2 ❌ I cannot come"), and the
    buttons' data in order. `numbers` holds one number per button (see
    storage.signal_menus.number_options: a number keeps its meaning)."""
    options = [button for row in reply.buttons for button in row]
    if not options:
        return reply.text, []
    lines = [reply.text, ""]
    shown = zip(numbers, options, strict=True)
    lines.extend(f"{number} {button.label}" for number, button in shown)
    return "\n".join(lines), [button.data for button in options]


def options_of(reply: Reply) -> list[str]:
    """The data of a reply's buttons, in the order they are numbered."""
    return [button.data for row in reply.buttons for button in row]


def sender_of(envelope: dict[str, Any]) -> str | None:
    """The chat id of an envelope: the sender's UUID (or number when there is none)."""
    source = envelope.get("sourceUuid") or envelope.get("sourceNumber") or envelope.get("source")
    return str(source) if source else None


class SignalSender:
    """Sends replies and pushes to Signal chats through the daemon's JSON-RPC endpoint."""

    def __init__(
        self,
        *,
        rpc_url: str,
        account: str,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.rpc_url = rpc_url.rstrip("/") + "/api/v1/rpc"
        self.account = account
        self.sessions = sessions
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0))
        self._ids = itertools.count(1)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def send(self, chat_id: str, reply: Reply, *, priority: int = 0) -> Outcome:
        """One message (a push) to one chat, its options numbered as the chat knows them."""
        numbers = await self.numbers(chat_id, options_of(reply))
        return await self.send_numbered(chat_id, reply, numbers)

    async def numbers(self, chat_id: str, options: list[str]) -> list[int]:
        """The numbers the chat's options are shown under (kept, so a typed number means
        what it meant when it was shown)."""
        if not options:
            return []
        async with self.sessions.begin() as session:
            return await number_options(session, chat_id=chat_id, options=options, now=utcnow())

    async def send_numbered(self, chat_id: str, reply: Reply, numbers: list[int]) -> Outcome:
        """One message with its options under `numbers`; the outcome from signal-cli's
        per-recipient result."""
        text, _options = numbered(reply, numbers)
        params: dict[str, Any] = {"account": self.account, "recipient": [chat_id], "message": text}
        if reply.document is not None:
            document = reply.document
            encoded = base64.b64encode(document.content).decode()
            params["attachments"] = [
                f"data:{document.mime_type};filename={document.filename};base64,{encoded}"
            ]
        request = {"jsonrpc": "2.0", "method": "send", "params": params, "id": next(self._ids)}
        try:
            response = await self.client.post(self.rpc_url, json=request)
        except httpx.TimeoutException:
            return Outcome(Status.TRANSIENT, error="signal-cli timed out", ambiguous=True)
        except httpx.HTTPError as error:
            reason = f"signal-cli unreachable: {type(error).__name__}"
            return Outcome(Status.TRANSIENT, error=reason)
        return self._outcome(response)

    def _outcome(self, response: httpx.Response) -> Outcome:
        if response.status_code >= 500:
            return Outcome(Status.TRANSIENT, error=f"signal-cli HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            return Outcome(Status.TRANSIENT, error="signal-cli sent no JSON")
        if not isinstance(body, dict):
            return Outcome(Status.TRANSIENT, error="signal-cli sent no JSON object")
        if "error" in body:
            return _from_error(body["error"] if isinstance(body["error"], dict) else {})
        return _from_results(
            _mapping(body.get("result")).get("results") or [], default=Status.SENT
        )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _from_results(results: list[Any], *, default: Status, error: str = "") -> Outcome:
    """The outcome of a one-recipient send from its result entry."""
    first = results[0] if results and isinstance(results[0], dict) else {}
    kind = first.get("type")
    if kind == "SUCCESS":
        return Outcome(Status.SENT)
    if kind == "UNREGISTERED_FAILURE":
        return Outcome(Status.BLOCKED, error="not on Signal (unregistered)")
    if kind == "RATE_LIMIT_FAILURE":
        wait = float(first.get("retryAfterSeconds") or DEFAULT_RETRY_AFTER)
        reason = "rate limited (proof required)" if first.get("token") else "rate limited"
        return Outcome(Status.RETRY_AFTER, error=reason, retry_after=wait)
    if kind in ("NETWORK_FAILURE", "INVALID_PRE_KEY_FAILURE"):
        return Outcome(Status.TRANSIENT, error=kind.lower())
    if kind == "IDENTITY_FAILURE":
        return Outcome(Status.BAD_REQUEST, error="safety number changed (untrusted identity)")
    if default is Status.SENT:
        return Outcome(Status.SENT)
    return Outcome(default, error=error or "signal-cli error")


def _from_error(error: dict[str, Any]) -> Outcome:
    """The outcome of a JSON-RPC error, using its per-recipient results when it has them."""
    code = error.get("code")
    message = str(error.get("message") or "")
    data = _mapping(error.get("data"))
    results = _mapping(data.get("response")).get("results") or []
    if code == -5:  # rate limit
        outcome = _from_results(results, default=Status.RETRY_AFTER, error="rate limited")
        if outcome.status is Status.RETRY_AFTER and outcome.retry_after is None:
            return Outcome(
                Status.RETRY_AFTER, error="rate limited", retry_after=DEFAULT_RETRY_AFTER
            )
        return outcome
    if code == -3:  # I/O error on the daemon's side
        return Outcome(Status.TRANSIENT, error="signal-cli I/O error")
    if code == -4:
        return Outcome(Status.BAD_REQUEST, error="safety number changed (untrusted identity)")
    if code == -1:
        if results:
            return _from_results(results, default=Status.BAD_REQUEST, error="refused")
        if "not registered" in message:
            return Outcome(Status.BLOCKED, error="not on Signal (unregistered)")
        return Outcome(Status.BAD_REQUEST, error="refused by signal-cli")
    return Outcome(Status.TRANSIENT, error=f"signal-cli error {code}")


class SignalReceiver:
    """Reads the daemon's event stream and feeds each text message to the router; replies
    go back to the same chat. Reconnects at once when the stream ends."""

    def __init__(
        self,
        *,
        events_url: str,
        router: Router,
        sender: SignalSender,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.events_url = events_url.rstrip("/") + "/api/v1/events"
        self.router = router
        self.sender = sender
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(None, connect=5.0))
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        # Chats are handled concurrently (one slow send never stalls every Signal chat),
        # each chat's messages in order; at most MAX_CONCURRENT at once, then the stream
        # waits.
        self._chats = ChatSerializer()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._handling: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start listening in the background."""
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        """Stop listening (messages not yet delivered wait on the Signal server); messages
        being handled are finished first, for at most STOP_SECONDS."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._handling:
            await asyncio.wait(self._handling, timeout=STOP_SECONDS)
        await self.client.aclose()

    @property
    def running(self) -> bool:
        """True while the listener runs."""
        return self._task is not None and not self._task.done()

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                async for event in self._events():
                    failures = 0
                    await self._start_handling(event)
                log.info("signal event stream ended; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the stream broke: never give up
                log.warning("signal event stream failed (%s); reconnecting", type(error).__name__)
                failures += 1
            self.connected.clear()
            await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])

    async def _events(self) -> AsyncIterator[dict[str, Any]]:
        """The `receive` events of one connection, as parsed JSON."""
        async with self.client.stream("GET", self.events_url) as response:
            response.raise_for_status()
            self.connected.set()
            kind: str | None = None
            data: list[str] = []
            async for line in response.aiter_lines():
                if line == "":
                    if kind == "receive" and data:
                        with contextlib.suppress(ValueError):
                            yield json.loads("\n".join(data))
                    kind, data = None, []
                elif line.startswith(":"):
                    continue  # keep-alive
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))

    async def _start_handling(self, event: dict[str, Any]) -> None:
        """Handle one event in the background, in its chat's turn."""
        await self._slots.acquire()
        task = asyncio.get_running_loop().create_task(self._handle_in_turn(event))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle_in_turn(self, event: dict[str, Any]) -> None:
        try:
            envelope = event.get("envelope") if isinstance(event, dict) else None
            chat = sender_of(envelope) if isinstance(envelope, dict) else None
            async with self._chats.turn(chat):
                await self._handle(event)
        except Exception:
            log.exception("a signal event could not be handled")
        finally:
            self._slots.release()

    async def _handle(self, event: dict[str, Any]) -> None:
        envelope = event.get("envelope") if isinstance(event, dict) else None
        if not isinstance(envelope, dict):
            return
        chat_id = sender_of(envelope)
        message = envelope.get("dataMessage")
        if chat_id is None or not isinstance(message, dict):
            return  # receipts, typing, sync messages
        text = message.get("message")
        if isinstance(text, str) and text.strip():
            incoming = await self.to_incoming(chat_id, text)
        elif message.get("attachments") or message.get("sticker"):
            # A voice note, photo, file or sticker: the same answer as on Telegram.
            incoming = Incoming(CHANNEL, chat_id, other="attachment")
        else:
            return  # a reaction, an empty message
        with reply_timer(CHANNEL):
            await self._answer(chat_id, incoming)

    async def _answer(self, chat_id: str, incoming: Incoming) -> None:
        try:
            replies = await self.router.handle(incoming)
        except Exception:
            log.exception("a signal message could not be handled")
            return
        forget = any(reply.forget for reply in replies)  # an erasure leaves nothing behind
        options = [data for reply in replies for data in options_of(reply)]
        numbers = (
            list(range(1, len(options) + 1))
            if forget
            else await self.sender.numbers(chat_id, options)
        )
        for reply in replies:
            count = len(options_of(reply))
            mine, numbers = numbers[:count], numbers[count:]
            outcome = await self._send_reply(chat_id, reply, mine)
            count_send(CHANNEL, "reply", outcome.status.value)
            if outcome.status is Status.BLOCKED:
                async with self.router.sessions.begin() as session:
                    await record_blocked(
                        session, channel=CHANNEL, external_id=chat_id, now=utcnow()
                    )
                return
        if forget:
            async with self.router.sessions.begin() as session:
                await forget_menu(session, chat_id=chat_id)

    async def _send_reply(self, chat_id: str, reply: Reply, numbers: list[int]) -> Outcome:
        """Send one reply; refused for a rate limit, it goes again after the time Signal
        asks (up to REPLY_MAX_WAIT), after a transient error after a short pause, like a
        push, at most REPLY_ATTEMPTS times. The chat's later messages wait their turn."""
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            outcome = await self.sender.send_numbered(chat_id, reply, numbers)
            if outcome.status is Status.RETRY_AFTER:
                wait = outcome.retry_after or DEFAULT_RETRY_AFTER
            elif outcome.status is Status.TRANSIENT:
                wait = TRANSIENT_WAITS[min(attempt, len(TRANSIENT_WAITS)) - 1]
            else:
                if outcome.status is Status.BAD_REQUEST:
                    log.warning("signal reply refused: %s", outcome.error)
                return outcome
            if attempt == REPLY_ATTEMPTS or wait > REPLY_MAX_WAIT:
                log.warning(
                    "signal reply dropped after %d attempts: %s (wait asked %.0fs)",
                    attempt,
                    outcome.error,
                    wait,
                )
                return outcome
            log.info("signal reply not sent (%s); again in %.1fs", outcome.error, wait)
            await asyncio.sleep(wait)
        return outcome  # pragma: no cover - the loop always returns

    async def to_incoming(self, chat_id: str, text: str) -> Incoming:
        """Typed text as the bot understands it: a number presses that option, "start CODE"
        is an invite, anything else is text."""
        start = _START.match(text)
        if start:
            return Incoming(CHANNEL, chat_id, text=f"/start {start.group(1)}")
        number = _NUMBER.match(text)
        if number:
            async with self.router.sessions() as session:
                data = await option(session, chat_id=chat_id, number=int(number.group(1)))
            if data is not None:
                return Incoming(CHANNEL, chat_id, callback=data)
        return Incoming(CHANNEL, chat_id, text=text)
