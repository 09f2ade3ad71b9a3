"""python-telegram-bot's requests over aiohttp instead of httpx.

Why: every send through httpx's pool first checks every idle connection (a system call and
several Python calls each) before it picks one, so with the connections a busy bot keeps
open, the pool costs more than the request. aiohttp hands out an idle connection from a
queue. Measured in bench/dispatch.py and bench/broadcast.py.

The behaviour PTB expects is kept: the same default timeouts (5 s; 1 s waiting for a free
connection), a timeout raises `TimedOut`, any other transport error `NetworkError`, and a
proxy set in the environment (HTTPS_PROXY, NO_PROXY) is used as with httpx.
"""

from __future__ import annotations

import json
import urllib.request

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.plumbing.metrics import TELEGRAM_429


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session with at most `connections` open connections."""

    def __init__(
        self,
        *,
        connections: int = 16,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies: dict[str, str] = {}
        self._proxy_of_host: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, as PTB's long polling asks for it."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (it needs the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
                # Errors are PTB's to judge (it reads the JSON of a 4xx/5xx itself).
                raise_for_status=False,
            )
        # HTTPS_PROXY / NO_PROXY from the environment, as httpx (PTB's default) reads them:
        # an office network may reach Telegram only through a proxy. Read once, not per
        # request as aiohttp's trust_env does (that cost a paid broadcast a fifth of its pace).
        self._env_proxies = urllib.request.getproxies_environment()
        self._proxy_of_host = {}

    async def shutdown(self) -> None:
        """Close every connection."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp's `connect` covers waiting for a free connection and opening one.
        timeout = aiohttp.ClientTimeout(
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,  # aiohttp has no write timeout; the OS send buffer absorbs it
        )
        body = _body(request_data)
        proxy = self._proxy(url)
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=proxy
            ) as response:
                if response.status == 429:
                    TELEGRAM_429.inc()
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _proxy(self, url: str) -> str | None:
        """The proxy for this address from the environment (remembered per host)."""
        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
        key = (scheme, host)
        if key not in self._proxy_of_host:
            proxy = self._env_proxies.get(scheme)
            bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
            if proxy and bypass(host, self._env_proxies):
                proxy = None
            self._proxy_of_host[key] = proxy or None
        return self._proxy_of_host[key]


def _body(request_data: RequestData | None) -> aiohttp.FormData | aiohttp.BytesPayload | None:
    """A JSON body (the Bot API takes one; one dumps() costs far less than form-encoding
    every field); files make it multipart, with the fields as PTB encodes them."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        payload = json.dumps(request_data.parameters, ensure_ascii=False).encode()
        return aiohttp.BytesPayload(payload, content_type="application/json")
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
