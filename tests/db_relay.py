"""A TCP relay on loopback between the bot and its database that can fail like a network:
it cuts every open connection and refuses new ones for a while (tests of outages)."""

from __future__ import annotations

import asyncio
import contextlib
import socket


class Relay:
    """Forwards 127.0.0.1:<port> to `target`; `outage(seconds)` cuts and refuses."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self.cut = 0  # connections cut by outages

    async def start(self) -> None:
        """Listen: new connections are accepted and forwarded."""
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Stop listening and cut what is open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def outage(self, seconds: float) -> None:
        """Cut every connection at once and refuse new ones (connection refused) for
        `seconds`, as a restarted or unreachable database does; then accept again."""
        self.cut += len(self._open) // 2
        await self.stop()
        await asyncio.sleep(seconds)
        await self.start()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._open |= {client_w, server_w}
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            task = asyncio.create_task(self._pipe(reader, writer))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._open.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()
