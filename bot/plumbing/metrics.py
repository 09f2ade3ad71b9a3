"""The counters of this process for Prometheus, incremented where the events happen.

What the database knows (the outbox backlog, the dispatcher's lag, blocked chats) is read
when /metrics is scraped (bot.web.metrics), so it is the same from every process; these
count what this process did since it started.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

SENDS = Counter(
    "wegweiser_sends",
    "Messages this process sent to a chat, by channel, kind (reply or push) and outcome "
    "(sent, retry_after, blocked, bad_request, transient)",
    ["channel", "kind", "outcome"],
)
TELEGRAM_429 = Counter(
    "wegweiser_telegram_429",
    "Answers 429 Too Many Requests from Telegram to this process (any request)",
)
REPLY_SECONDS = Histogram(
    "wegweiser_reply_seconds",
    "From an incoming message or button press to its last reply sent, by channel",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
FAILED_LOGINS = Counter(
    "wegweiser_failed_logins",
    "Staff logins refused (admin web and invite API), by reason (wrong_password, throttled)",
    ["reason"],
)


def count_send(channel: str, kind: str, outcome: str) -> None:
    """One send and what became of it."""
    SENDS.labels(channel, kind, outcome).inc()


@contextmanager
def reply_timer(channel: str) -> Iterator[None]:
    """Time one update from its arrival to its last reply sent."""
    started = time.perf_counter()
    try:
        yield
    finally:
        REPLY_SECONDS.labels(channel).observe(time.perf_counter() - started)
