"""Configuration from environment variables and a `.env` file, validated once."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.plumbing.labels import KIND_LABELS

_PLACEHOLDER_TOKENS = {"changeme", "change-me", "your-token", "token", "xxx", "<token>"}
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{10,}$")
_BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")  # Telegram's rule for usernames


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the variable."""


_OFFSET = re.compile(r"^(\d{1,3})([dhm])$")
MAX_OFFSET = timedelta(days=7)
# What REMINDER_OFFSETS_BY_KIND may name: the appointment kinds, and "course" for sessions.
OFFSET_KINDS = [kind for kind in KIND_LABELS if not kind.endswith("_course")] + ["course"]


@dataclass(frozen=True)
class Offset:
    """How long before a start a reminder goes: `days` keep the wall-clock time."""

    label: str  # "1d", "2h": part of the reminder's dedup key
    days: int = 0
    delta: timedelta = timedelta(0)


def parse_offsets(value: str) -> list[Offset]:
    """ "1d,2h,30m" as offsets, each from 1m to 7d and once; ValueError naming the bad part."""
    offsets: dict[tuple[int, timedelta], Offset] = {}
    for part in (p.strip() for p in value.split(",")):
        match = _OFFSET.match(part)
        if not match:
            raise ValueError(f"{part!r} is not an offset like 1d, 2h or 30m")
        number, unit = int(match.group(1)), match.group(2)
        if unit == "d":
            offset, span = Offset(part, days=number), timedelta(days=number)
        else:
            minutes = number * 60 if unit == "h" else number
            span = timedelta(minutes=minutes)
            offset = Offset(part, delta=span)
        if not timedelta(0) < span <= MAX_OFFSET:
            raise ValueError(f"{part!r} is out of range; use offsets from 1m to 7d")
        same = offsets.setdefault((offset.days, offset.delta), offset)
        if same is not offset:
            again = "is listed twice" if same.label == part else f"is the same as {same.label!r}"
            raise ValueError(f"{part!r} {again}; list each offset once")
    return list(offsets.values())


def _clock(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a time like 07:30") from None


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """ "21:00-08:00" as two local times."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError("use two times like 21:00-08:00")
    return _clock(start), _clock(end)


class Settings(BaseSettings):
    """All settings of one Wegweiser process; built once and passed down."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite+aiosqlite:///./wegweiser.db"
    telegram_bot_token: str | None = None
    # Empty: the name Telegram's getMe gives at start. Set, it must be the token's bot.
    telegram_bot_username: str = ""
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    # Polling allows one receiver: with several processes, set this false on all but one.
    telegram_receive: bool = True
    # Signal through signal-cli's HTTP daemon (run it with --receive-mode=on-connection).
    signal_rpc_url: str | None = None  # e.g. http://127.0.0.1:8081
    signal_account: str | None = None  # the bot's number, e.g. +4923031234567
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_base_url: str | None = None
    # Addresses whose X-Forwarded-For is believed (a reverse proxy, Docker's gateway), so
    # the per-address limits see each client, not the proxy. Comma-separated, or "*".
    trusted_proxies: str = "127.0.0.1"
    timezone: str = "Europe/Berlin"
    invite_valid_days: int = Field(default=14, ge=1, le=90)
    log_level: str = "INFO"
    # LOG_FORMAT=json: one JSON object per line (for a log collector); "text" otherwise.
    log_format: Literal["text", "json"] = "text"
    # /metrics: without a token only loopback clients that came through no proxy; with one,
    # anyone who sends "Authorization: Bearer <token>".
    metrics_token: str | None = Field(default=None, min_length=16)
    # A turn that lost its database connection waits this long for the database to answer
    # again, then is tried once more; after that the user is asked to send it again.
    database_outage_seconds: float = Field(default=15.0, ge=0, le=120)

    # Reminders: offsets before the start, "1d" = the day before at the same wall-clock time,
    # "2h" = two hours before; per appointment kind as JSON, e.g. {"nursing": "2d,1d,2h"}.
    reminder_offsets: str = "1d,2h"
    reminder_offsets_by_kind: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    quiet_hours: str = "21:00-08:00"  # no reminder in this window; moved earlier instead
    reminder_catch_up_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # The dispatcher: how often it looks, how much it takes, how long a claim holds.
    dispatch_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    dispatch_batch: int = Field(default=30, ge=1, le=1000)
    dispatch_lease_seconds: int = Field(default=120, ge=5, le=3600)
    dispatch_max_attempts: int = Field(default=5, ge=1, le=50)
    # Telegram's limits: messages per second overall, seconds between two to one chat.
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=100_000)
    telegram_seconds_per_chat: float = Field(default=1.0, ge=0, le=60)
    telegram_chat_burst: int = Field(default=3, ge=1, le=30)
    # Paid broadcasts (Telegram's allow_paid_broadcast, charged in Stars): bulk messages go
    # up to this rate instead of the overall limit. Off unless the provider pays for it.
    # Requests on the wire at once (a slow network needs more to keep the pace).
    telegram_max_in_flight: int = Field(default=16, ge=1, le=256)
    telegram_paid_broadcast: bool = False
    telegram_paid_per_second: float = Field(default=1000.0, gt=0, le=100_000)
    coach_digest_time: str = "07:30"
    # When coaches answer messages: outside these, a participant is told when to expect one.
    office_hours: str = "08:00-16:00"
    office_days: str = "0,1,2,3,4"  # 0 = Monday
    unconfirmed_escalation_hours: int = Field(default=24, ge=1, le=24 * 7)
    outbox_retention_days: int = Field(default=30, ge=1, le=3650)
    # Web chat transcripts and unused chat keys are deleted after this many days.
    webchat_retention_days: int = Field(default=30, ge=1, le=365)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept the async SQLite and PostgreSQL drivers; map plain postgres URLs."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator("signal_rpc_url", "signal_account")
    @classmethod
    def _signal_empty_is_none(cls, value: str | None) -> str | None:
        """Treat an empty variable like a missing one."""
        return value or None

    @field_validator("signal_rpc_url")
    @classmethod
    def _signal_url(cls, value: str | None) -> str | None:
        """The daemon's base URL, http(s)://host:port."""
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("use the daemon's address, e.g. http://127.0.0.1:8081")
        return value

    @field_validator("telegram_bot_token", "telegram_webhook_url", "telegram_webhook_secret")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        """Treat an empty variable like a missing one."""
        return value or None

    @field_validator("telegram_bot_token")
    @classmethod
    def _real_token(cls, value: str | None) -> str | None:
        """Refuse placeholders; a token looks like 123456:ABC-DEF..."""
        if value is None:
            return None
        if value.lower() in _PLACEHOLDER_TOKENS or not _TOKEN_SHAPE.match(value):
            raise ValueError("not a bot token from @BotFather (looks like 123456:ABC-DEF...)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        """Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -."""
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError("use 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """The zone must exist in the tz database."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone, e.g. Europe/Berlin") from None
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets_shape(cls, value: str) -> str:
        """A comma-separated list like "1d,2h,30m"."""
        parse_offsets(value)
        return value

    @field_validator("reminder_offsets_by_kind", mode="before")
    @classmethod
    def _offsets_by_kind_json(cls, value: Any) -> Any:
        """The variable is a JSON object of kinds and their offsets (a dict passed in too)."""
        example = 'write it like {"nursing": "2d,1d,2h", "course": "2h"}'
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError(f"not JSON; {example}") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError(f"not an object of kinds and offsets; {example}")
        return value

    @field_validator("reminder_offsets_by_kind")
    @classmethod
    def _offsets_by_kind_shape(cls, value: dict[str, str]) -> dict[str, str]:
        """Each key is a known kind, each value offsets like REMINDER_OFFSETS."""
        for kind, offsets in value.items():
            if kind not in OFFSET_KINDS:
                raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(OFFSET_KINDS)}")
            try:
                parse_offsets(offsets)
            except ValueError as error:
                raise ValueError(f"{kind}: {error}") from None
        return value

    @field_validator("telegram_bot_username")
    @classmethod
    def _username_shape(cls, value: str) -> str:
        """A Telegram username, with or without its "@"; empty: ask Telegram."""
        value = value.strip().removeprefix("@")
        if value and not _BOT_USERNAME.match(value):
            raise ValueError("not a bot's username; use the name after t.me/, e.g. KreisHelferBot")
        return value

    @field_validator("web_base_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        """Where participants open the web chat: an absolute http(s):// address."""
        if not value:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(
                "use the absolute address participants open, e.g. https://wegweiser.example.org"
            )
        return value.strip().rstrip("/")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_shape(cls, value: str) -> str:
        """Two times, "21:00-08:00"; an empty value switches quiet hours off."""
        if value:
            parse_quiet_hours(value)
        return value

    @field_validator("office_hours")
    @classmethod
    def _office_shape(cls, value: str) -> str:
        """Two times, "08:00-16:00"."""
        start, end = parse_quiet_hours(value)
        if not start < end:
            raise ValueError("the office must open before it closes, e.g. 08:00-16:00")
        return value

    @field_validator("office_days")
    @classmethod
    def _days_shape(cls, value: str) -> str:
        """Weekday numbers, "0,1,2,3,4" (0 = Monday)."""
        days = [part.strip() for part in value.split(",") if part.strip()]
        if not days or not all(d.isdigit() and int(d) <= 6 for d in days):
            raise ValueError("use weekday numbers 0-6 separated by commas, e.g. 0,1,2,3,4")
        return value

    @property
    def office(self) -> tuple[set[int], time, time]:
        """Office days (0 = Monday) and hours, local time."""
        start, end = parse_quiet_hours(self.office_hours)
        return {int(d) for d in self.office_days.split(",") if d.strip()}, start, end

    @field_validator("coach_digest_time")
    @classmethod
    def _digest_shape(cls, value: str) -> str:
        """A time of day, "07:30"."""
        _clock(value)
        return value

    @property
    def dispatch_batch_size(self) -> int:
        """Rows per claim: DISPATCH_BATCH, or a quarter second of the fastest pace if more.

        The dispatcher claims and renders the next batch while the last one is sent; a batch
        shorter than that work would leave the pacer waiting (paid broadcasts: 250 rows).
        """
        fastest = self.telegram_messages_per_second
        if self.telegram_paid_broadcast:
            fastest = max(fastest, self.telegram_paid_per_second)
        return max(self.dispatch_batch, min(int(fastest / 4), 1000))

    def offsets_for(self, kind: str) -> list[Offset]:
        """The reminder offsets for an appointment kind (or a course: kind "course")."""
        return parse_offsets(self.reminder_offsets_by_kind.get(kind, self.reminder_offsets))

    @property
    def quiet(self) -> tuple[time, time] | None:
        """Quiet hours as (start, end) local times, or None."""
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None

    @property
    def digest_at(self) -> time:
        """When the coaches' daily digest goes out, local time."""
        return _clock(self.coach_digest_time)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The programme's local time zone."""
        return ZoneInfo(self.timezone)

    @property
    def webhook_mode(self) -> bool:
        """Telegram updates come by webhook when a webhook URL is set."""
        return self.telegram_webhook_url is not None

    @property
    def public_web_url(self) -> str:
        """Base URL of the web server as users reach it."""
        return self.web_base_url or f"http://{self.web_host}:{self.web_port}"

    @property
    def telegram_link_username(self) -> str | None:
        """The bot that Telegram invite links open; None without a token or a known name."""
        return (self.telegram_bot_username or None) if self.telegram_bot_token else None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one line per variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
            lines.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError("; ".join(lines)) from None
    if (settings.signal_rpc_url is None) != (settings.signal_account is None):
        raise ConfigError("SIGNAL_RPC_URL and SIGNAL_ACCOUNT: set both to use Signal, or neither")
    if settings.web_base_url is None and not _loopback(settings.web_host):
        raise ConfigError(
            f"WEB_BASE_URL: required when WEB_HOST is {settings.web_host} (not loopback), or "
            "invite links name that address; set it to the address participants open, "
            "e.g. https://wegweiser.example.org"
        )
    # Webhook mode without TELEGRAM_WEBHOOK_SECRET: one is generated and stored in the
    # database at start (bot.app.with_webhook_secret), the same for every process.
    return settings
