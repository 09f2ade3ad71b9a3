"""GET /metrics for Prometheus: this process's counters, and what the database knows now.

The database's figures (the outbox backlog, how long the oldest due push has waited, blocked
chats) are read at scrape time, within METRICS_DB_SECONDS; they are the same from every
process. The counters (bot.plumbing.metrics) count what this process did since it started.
Served to loopback clients that came through no proxy, or to anyone with METRICS_TOKEN.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.settings import Settings
from storage.identities import blocked_chats
from storage.outbox import backlog, oldest_due
from storage.types import utcnow

log = logging.getLogger(__name__)

METRICS_DB_SECONDS = 5.0  # a scrape never waits longer for the database
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


@dataclass(eq=False)  # a registry keeps its collectors in a dict
class DatabaseFigures:
    """What the database says at one scrape."""

    ok: bool = False
    backlog: list[tuple[str, str, int]] = field(default_factory=list)
    lag_seconds: float = 0.0
    blocked: dict[str, int] = field(default_factory=dict)

    def collect(self) -> Iterable[Metric]:
        """The figures as Prometheus gauges (a collector of a registry made per scrape)."""
        up = GaugeMetricFamily(
            "wegweiser_database_up",
            f"1 if the database answered this scrape within {METRICS_DB_SECONDS:g} s",
        )
        up.add_metric([], 1 if self.ok else 0)
        yield up
        if not self.ok:
            return
        rows = GaugeMetricFamily(
            "wegweiser_outbox_backlog",
            "Unfinished pushes in the database, by template and state (due: waiting to be "
            "sent now; planned: due later; claimed: a dispatcher is sending them)",
            labels=["template", "state"],
        )
        for template, state, count in self.backlog:
            rows.add_metric([template, state], count)
        yield rows
        yield GaugeMetricFamily(
            "wegweiser_outbox_lag_seconds",
            "How long the oldest due push has waited (0: none waits)",
            value=self.lag_seconds,
        )
        blocked = GaugeMetricFamily(
            "wegweiser_blocked_chats",
            "Chats that have blocked the bot, by channel",
            labels=["channel"],
        )
        for channel, count in sorted(self.blocked.items()):
            blocked.add_metric([channel], count)
        yield blocked


async def read_figures(sessions: async_sessionmaker[AsyncSession]) -> DatabaseFigures:
    """Ask the database, within METRICS_DB_SECONDS; `ok` False when it did not answer."""
    now = utcnow()
    try:
        async with asyncio.timeout(METRICS_DB_SECONDS), sessions() as session:
            rows = await backlog(session, now=now)
            oldest = await oldest_due(session, now=now)
            blocked = await blocked_chats(session)
    except Exception as error:  # a scrape answers anyway: wegweiser_database_up 0
        log.warning("metrics: the database did not answer (%s)", type(error).__name__)
        return DatabaseFigures()
    lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return DatabaseFigures(ok=True, backlog=rows, lag_seconds=lag, blocked=blocked)


def metrics_page(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics handler."""
    token = settings.metrics_token

    async def metrics(request: Request) -> Response:
        if token is not None:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse(
                    "send Authorization: Bearer <METRICS_TOKEN>",
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        elif not _local(request):
            return PlainTextResponse(
                "metrics are served to loopback only; set METRICS_TOKEN to scrape from elsewhere",
                status_code=403,
            )
        figures = await read_figures(sessions)
        scrape = CollectorRegistry()
        scrape.register(figures)  # type: ignore[arg-type]  # has collect(), as required
        body = generate_latest(REGISTRY) + generate_latest(scrape)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def _local(request: Request) -> bool:
    """A client on this machine that no proxy forwarded (a proxy may run here too)."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
