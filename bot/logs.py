"""How log lines look: one line per event, as text or (LOG_FORMAT=json) as a JSON object.

A traceback stays on its event's line (its lines joined with " | " in text, a field in
JSON), so a log collector never splits one event into many. What is logged is ids, types
and counts, never names or message text (see the privacy notes in the README).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Chatty libraries at WARNING, so no message bodies or URLs with tokens reach the log.
QUIET = ("httpx", "httpcore", "apscheduler", "telegram.ext", "aiosqlite", "alembic")


class OneLineFormatter(logging.Formatter):
    """The plain text format, with a traceback folded onto the event's line."""

    def format(self, record: logging.LogRecord) -> str:
        """One line."""
        return super().format(record).replace("\n", " | ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        event: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            event["traceback"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT ("text" or "json")."""
    return JsonFormatter() if log_format == "json" else OneLineFormatter(TEXT)


def configure_logging(level: str, log_format: str = "text") -> None:
    """Log to standard error at LOG_LEVEL in LOG_FORMAT."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
