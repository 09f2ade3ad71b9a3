"""Configuration from environment variables and a `.env` file, validated once."""

from __future__ import annotations

import re
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER_TOKENS = {"changeme", "change-me", "your-token", "token", "xxx", "<token>"}
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{10,}$")


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    """All settings of one Wegweiser process; built once and passed down."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite+aiosqlite:///./wegweiser.db"
    telegram_bot_token: str | None = None
    telegram_bot_username: str = "WegweiserBot"
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_base_url: str | None = None
    timezone: str = "Europe/Berlin"
    invite_valid_days: int = Field(default=14, ge=1, le=90)
    log_level: str = "INFO"

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
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set")
    return settings
