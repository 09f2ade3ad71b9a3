"""Route tables: what each feature answers, for whom; callback data parsed once.

A feature declares its commands (with the msgid of their description), its button prefixes
with typed arguments, the answers it waits for, its main-menu entries and the templates it
renders for the outbox. The router, `/help` and Telegram's command menu read the same list.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.i18n import BY_CODE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.plumbing.messages import Reply
    from bot.plumbing.voice import Voice
    from storage.models import OutboxMessage

MAX_ID = 2**31 - 1  # ids are 32-bit keys on PostgreSQL
_DIGITS = re.compile(r"[0-9]{1,10}")


class Audience(enum.Enum):
    """Who may use a route."""

    ANYONE = "anyone"  # also a chat that is not connected yet
    CONNECTED = "connected"  # an onboarded participant or a linked staff user
    PARTICIPANT = "participant"  # a connected participant who accepted the privacy notice
    STAFF = "staff"  # a chat linked to a staff user


class Skip(Exception):
    """Raised by an outbox template: this push must not be sent; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadArgument(ValueError):
    """Callback data that does not parse: forged, garbled or from an old version."""


Arg = Callable[[str], Any]


def ident(raw: str) -> int:
    """A database id: ASCII digits only, 1 to 2**31-1 (never `²`, `①` or an overflow)."""
    if not _DIGITS.fullmatch(raw) or not 0 < int(raw) <= MAX_ID:
        raise BadArgument(raw)
    return int(raw)


def small(limit: int) -> Arg:
    """A small number 0..limit (a page, a weekday)."""

    def parse(raw: str) -> int:
        if not _DIGITS.fullmatch(raw) or int(raw) > limit:
            raise BadArgument(raw)
        return int(raw)

    return parse


def language(raw: str) -> str:
    """One of the supported language codes."""
    if raw not in BY_CODE:
        raise BadArgument(raw)
    return raw


def ident_or(word: str) -> Arg:
    """An id, or the literal `word` (e.g. "all")."""

    def parse(raw: str) -> int | str:
        return word if raw == word else ident(raw)

    return parse


Handler = Callable[..., Awaitable[list["Reply"]]]
Template = Callable[["AsyncSession", "Voice", "OutboxMessage"], Awaitable["Reply | None"]]


@dataclass(frozen=True)
class Command:
    """A /command; `description` is a msgid shown in /help and Telegram's menu."""

    name: str
    description: str
    handler: Handler
    audience: Audience = Audience.PARTICIPANT
    rank: int = 50  # order in /help and the command menu, lowest first
    listed: bool = True  # shown in /help and Telegram's menu


@dataclass(frozen=True)
class ButtonRoute:
    """Button data `prefix:arg:arg`; each argument is parsed by its `Arg` before the call."""

    prefix: str
    handler: Handler
    args: tuple[Arg, ...] = ()
    audience: Audience = Audience.PARTICIPANT
    # A failing parse of the arguments answers with this msgid (default: stale button).
    bad_argument: str | None = None


@dataclass(frozen=True)
class AnswerRoute:
    """Free text that answers an open question `prefix:<id>` stored on the chat."""

    prefix: str
    handler: Handler  # (turn, id, text)
    audience: Audience = Audience.PARTICIPANT


@dataclass(frozen=True)
class MenuEntry:
    """A main-menu button: `label` msgid, button data, row (entries of a row side by side)."""

    label: str
    data: str
    row: int
    audience: Audience = Audience.PARTICIPANT


JobFunction = Callable[["JobContext"], Awaitable[int]]


@dataclass(frozen=True)
class JobContext:
    """What a periodic job gets: a session factory, the settings, the moment it runs."""

    sessions: Any  # async_sessionmaker[AsyncSession]
    settings: Any  # bot.settings.Settings
    now: datetime


@dataclass(frozen=True)
class Job:
    """A periodic job: every `every` seconds, or daily at the time of setting `daily_at`."""

    name: str
    run: JobFunction
    every: float | None = None
    daily_at: str | None = None  # the name of a Settings attribute holding "HH:MM"


@dataclass(frozen=True)
class Feature:
    """Everything one feature answers, renders and runs."""

    name: str
    commands: Sequence[Command] = ()
    buttons: Sequence[ButtonRoute] = ()
    answers: Sequence[AnswerRoute] = ()
    menu: Sequence[MenuEntry] = ()
    templates: Mapping[str, Template] = field(default_factory=dict)
    jobs: Sequence[Job] = ()
    # A voice message or audio file from a connected chat (one feature takes them).
    audio: Handler | None = None


@dataclass(frozen=True)
class Press:
    """Parsed button data: the route and its typed arguments."""

    route: ButtonRoute
    args: tuple[Any, ...]


class Routes:
    """The features' tables merged once, in order; duplicate keys are a wiring error."""

    def __init__(self, features: Sequence[Feature]) -> None:
        self.features = tuple(features)
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, ButtonRoute] = {}
        self.answers: dict[str, AnswerRoute] = {}
        self.templates: dict[str, Template] = {}
        audio = [feature.audio for feature in self.features if feature.audio is not None]
        if len(audio) > 1:
            raise ValueError("more than one feature takes voice messages")
        self.audio: Handler | None = audio[0] if audio else None
        for feature in self.features:
            for command in feature.commands:
                _add(self.commands, command.name, command, feature)
            for button in feature.buttons:
                _add(self.buttons, button.prefix, button, feature)
            for answer in feature.answers:
                _add(self.answers, answer.prefix, answer, feature)
            for key, template in feature.templates.items():
                _add(self.templates, key, template, feature)
        self.menu = tuple(entry for feature in self.features for entry in feature.menu)
        self.jobs = tuple(job for feature in self.features for job in feature.jobs)

    def listed_commands(self, audiences: set[Audience]) -> list[Command]:
        """Commands for these audiences in /help and menu order."""
        found = [c for c in self.commands.values() if c.listed and c.audience in audiences]
        return sorted(found, key=lambda command: command.rank)

    def parse_button(self, data: str) -> Press | ButtonRoute | None:
        """The route and arguments for button data; the bare route if its arguments are bad.

        None when no route matches. Never raises, whatever the data.
        """
        parts = data.split(":")
        for width in (2, 1):
            route = self.buttons.get(":".join(parts[:width]))
            if route is None:
                continue
            raw = parts[width:]
            if len(raw) != len(route.args):
                return route
            try:
                return Press(
                    route, tuple(arg(value) for arg, value in zip(route.args, raw, strict=True))
                )
            except BadArgument:
                return route
        return None

    def parse_answer(self, awaiting: str) -> tuple[AnswerRoute, int] | None:
        """The route and id of an open question like "ap:reason:12", or None."""
        prefix, _, raw = awaiting.rpartition(":")
        route = self.answers.get(prefix)
        if route is None:
            return None
        try:
            return route, ident(raw)
        except BadArgument:
            return None


def _add(table: dict[str, Any], key: str, value: object, feature: Feature) -> None:
    if key in table:
        raise ValueError(f"{feature.name}: {key!r} is declared twice")
    table[key] = value
