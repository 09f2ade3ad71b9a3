"""A fake signal-cli HTTP daemon for tests, built from signal-cli's own documentation and code
(man/signal-cli-jsonrpc.5.adoc, http/HttpServerHandler.java, ServerSentEventSender.java,
json/JsonSendMessageResult.java, util/SendMessageResultUtils.java,
jsonrpc/SignalJsonRpcCommandHandler.java):

- `POST /api/v1/rpc`: JSON-RPC 2.0; `send` answers `{"timestamp", "results": [{
  "recipientAddress": {"uuid", "number"}, "type": "SUCCESS"}]}`. When no recipient
  succeeded it answers an error instead: -4 if every failure is an untrusted identity, -5 if
  every failure is a rate limit (data.response carries the results, with
  `retryAfterSeconds` and, when a proof is required, `token`), else -1; an unregistered
  recipient that signal-cli cannot even resolve gives -1 "The user … is not registered.";
  an I/O problem -3.
- `GET /api/v1/events`: Server-Sent Events, `event:receive` + `data:{"envelope":…,
  "account":…}` + blank line, and `:` keep-alives. Like `--receive-mode=on-connection`,
  messages wait while no client is connected and are delivered on the next connection.
- `GET /api/v1/check`: 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

ACCOUNT = "+4923031234500"


@dataclass
class Sent:
    """One message the bot sent through the fake."""

    recipient: str
    message: str
    attachments: list[str] = field(default_factory=list)
    at: float = 0.0  # loop time it was sent


class FakeSignal:
    """The daemon's state: what was sent, what waits to be received, failure modes."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.calls = 0
        # recipient -> list of failures to answer next ("unregistered", "rate_limit",
        # "proof_required", "untrusted", "io", "network", "unresolvable")
        self.failures: dict[str, list[str]] = {}
        self._waiting: list[dict[str, Any]] = []
        self._streams: list[asyncio.Queue[dict[str, Any] | None]] = []
        self._changed = asyncio.Event()
        self._ts = itertools.count(int(time.time() * 1000))
        self.connections = 0
        self.slow: dict[str, float] = {}  # recipient -> seconds each send to them takes
        self.retry_after = 42  # retryAfterSeconds of a "rate_limit" failure
        self.refused_at: list[float] = []  # loop time of each refused send

    # ------------------------------------------------------------ test controls

    def fail(self, recipient: str, *kinds: str) -> None:
        """Answer the next sends to `recipient` with these failures, in order."""
        self.failures.setdefault(recipient, []).extend(kinds)

    def deliver(self, envelope: dict[str, Any]) -> None:
        """A message arrives on the Signal server for the bot's account."""
        event = {"envelope": envelope, "account": ACCOUNT}
        if self._streams:
            for queue in self._streams:
                queue.put_nowait(event)
        else:
            self._waiting.append(event)  # on-connection: kept until someone listens

    def drop_connections(self) -> None:
        """End every event stream (the daemon restarts, a proxy times out)."""
        for queue in self._streams:
            queue.put_nowait(None)
        self._streams.clear()  # from now on messages wait for the next connection

    def to(self, recipient: str) -> list[Sent]:
        """Everything sent to one recipient."""
        return [s for s in self.sent if s.recipient == recipient]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := predicate()):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out; sent so far: {[s.message[:40] for s in self.sent]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
        return result

    def envelope(self, uuid: str, text: str, *, number: str | None = None) -> dict[str, Any]:
        """An incoming text message as signal-cli's JSON envelope shows it."""
        stamp = next(self._ts)
        return {
            "source": number or uuid,
            "sourceNumber": number,
            "sourceUuid": uuid,
            "sourceName": "",
            "sourceDevice": 1,
            "timestamp": stamp,
            "serverReceivedTimestamp": stamp,
            "serverDeliveredTimestamp": stamp,
            "dataMessage": {
                "timestamp": stamp,
                "message": text,
                "expiresInSeconds": 0,
                "viewOnce": False,
            },
        }

    def attachment_envelope(self, uuid: str, content_type: str) -> dict[str, Any]:
        """A voice note, photo or file without text, as signal-cli shows it."""
        envelope = self.envelope(uuid, "")
        message = envelope["dataMessage"]
        message["message"] = None
        message["attachments"] = [
            {
                "contentType": content_type,
                "filename": None,
                "id": "e8QhXk2Hq1yq5xwYyI9n.m4a",
                "size": 5832,
                "voiceNote": content_type.startswith("audio/"),
            }
        ]
        return envelope

    # ------------------------------------------------------------ the HTTP app

    def app(self) -> Starlette:
        """The daemon's HTTP endpoints."""
        return Starlette(
            routes=[
                Route("/api/v1/rpc", self._rpc, methods=["POST"]),
                Route("/api/v1/events", self._events, methods=["GET"]),
                Route("/api/v1/check", lambda _r: PlainTextResponse(""), methods=["GET"]),
            ]
        )

    async def _rpc(self, request: Request) -> Response:
        self.calls += 1
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(
                {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
            )
        request_id = body.get("id")
        if body.get("method") != "send":
            return JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "error": {"code": -32601, "message": "Method not found"},
                    "id": request_id,
                }
            )
        params = body.get("params") or {}
        [recipient] = params.get("recipient") or [None]
        if self.slow.get(recipient):
            await asyncio.sleep(self.slow[recipient])
        pending = self.failures.get(recipient) or []
        failure = pending.pop(0) if pending else None
        stamp = next(self._ts)
        address = {"uuid": recipient, "number": None}

        def error(code: int, message: str, result: dict[str, Any] | None = None) -> Response:
            data = {"response": {"timestamp": stamp, "results": [result]}} if result else None
            return JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "error": {"code": code, "message": message, "data": data},
                    "id": request_id,
                }
            )

        self._changed.set()
        if failure is not None:
            self.refused_at.append(asyncio.get_running_loop().time())
        if failure == "unregistered":
            return error(
                -1,
                "Failed to send message",
                {"recipientAddress": address, "type": "UNREGISTERED_FAILURE"},
            )
        if failure == "unresolvable":
            return error(-1, f"The user {recipient} is not registered.")
        if failure == "rate_limit":
            return error(
                -5,
                "Failed to send message due to rate limiting",
                {
                    "recipientAddress": address,
                    "type": "RATE_LIMIT_FAILURE",
                    "retryAfterSeconds": self.retry_after,
                },
            )
        if failure == "proof_required":
            return error(
                -5,
                "Failed to send message due to rate limiting",
                {
                    "recipientAddress": address,
                    "type": "RATE_LIMIT_FAILURE",
                    "token": "challenge-token",
                    "retryAfterSeconds": 86400,
                },
            )
        if failure == "untrusted":
            return error(
                -4,
                "Failed to send message due to untrusted identities",
                {"recipientAddress": address, "type": "IDENTITY_FAILURE"},
            )
        if failure == "network":
            return error(
                -1,
                "Failed to send message",
                {"recipientAddress": address, "type": "NETWORK_FAILURE"},
            )
        if failure == "io":
            return error(-3, "IOException: connection reset")
        self.sent.append(
            Sent(
                recipient,
                str(params.get("message") or ""),
                list(params.get("attachments") or []),
                asyncio.get_running_loop().time(),
            )
        )
        return JSONResponse(
            {
                "jsonrpc": "2.0",
                "result": {
                    "timestamp": stamp,
                    "results": [{"recipientAddress": address, "type": "SUCCESS"}],
                },
                "id": request_id,
            }
        )

    async def _events(self, _request: Request) -> Response:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        for event in self._waiting:
            queue.put_nowait(event)
        self._waiting.clear()
        self._streams.append(queue)
        self.connections += 1
        self._changed.set()

        async def stream() -> AsyncIterator[bytes]:
            try:
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), 1.0)
                    except TimeoutError:
                        yield b":\n"  # keep-alive, as signal-cli sends
                        continue
                    if event is None:
                        return
                    yield f"event:receive\ndata:{json.dumps(event)}\n\n".encode()
            finally:
                if queue in self._streams:
                    self._streams.remove(queue)

        return StreamingResponse(stream(), media_type="text/event-stream")
