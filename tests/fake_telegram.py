"""A fake Telegram Bot API server for tests, driven over real HTTP by python-telegram-bot.

The server runs inside the test's event loop on 127.0.0.1 (OS-assigned port)::

    async with FakeTelegram() as fake:          # or the ``fake_telegram`` fixture
        app = (Application.builder().token(fake.token).base_url(fake.base_url)
               .base_file_url(fake.base_file_url).build())
        user = fake.user(chat_id=1001, first_name="Amina", language_code="ar")
        answer = await user.reply("/start")     # dict: stored message snapshot

Inspection: ``fake.calls`` (list of :class:`Call`), ``fake.sent(chat_id)`` / ``fake.message()``
(stored message dicts), ``fake.events`` (sent/edited/deleted log with snapshots),
``fake.wait_for(predicate)``, ``fake.wait_for_calls(method, count)``. Faults: ``fail_next``,
``delay_next``, ``block``/``unblock``, ``rate_limits`` (on by default: at most 30 in any
sliding second overall — ``overall="bucket"`` for a token bucket instead — and 1/s per chat
with a burst of 3, for sendMessage/sendDocument/sendVoice/editMessage*; rejections counted in
``rejected_429``). Extra methods can be added with ``register_method``.

Files, as the Bot API documents them: ``getFile`` answers a ``File`` with a ``file_path``
("voice/file_3.oga"), valid for an hour, and refuses a file over 20 MB ("file is too big");
the bytes are at ``/file/bot<token>/<file_path>``. A user's voice or audio message
(``FakeUser.send_voice``) puts its bytes there; ``sendVoice`` (upload or file_id, at most
50 MB, rate-limited like sendMessage) stores a message with a ``voice`` object.

Simplifications (documented deviations from Telegram):

* Text and caption lengths are Python ``len`` (code points), Telegram counts UTF-16 units.
* ``parse_mode="HTML"`` is validated (allowed tags, nesting); ``MarkdownV2`` only for unescaped
  reserved characters. The stored/returned ``text`` is the plain text (markup removed, stripped),
  as Telegram returns it; the text as sent is kept in ``raw_text``. No ``entities`` are returned.
* Answering a callback query twice fails like an expired query; there is no time limit.
* A failed webhook delivery leaves the update pending (see ``getWebhookInfo``); it is not retried.
  Updates queued before setWebhook stay queued for getUpdates.
* A delayed request (``delay_next``) is still executed after its delay even if the client gave up,
  as can happen with the real API.
* Stored message dicts contain extra keys that Telegram does not send: ``raw_text``,
  ``parse_mode``, ``edits``, ``deleted``, ``document_content``, ``voice_content``. They are
  stripped in responses.

PTB 22 note: constructing ``telegram.error.RetryAfter`` emits a PTBDeprecationWarning unless the
environment variable ``PTB_TIMEDELTA=true`` is set, so 429 answers turn into warnings-as-errors
under ``filterwarnings = error``.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import html
import inspect
import itertools
import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN"
JSON_FIELDS = frozenset(
    "reply_markup allowed_updates commands scope menu_button entities "
    "caption_entities link_preview_options reply_parameters media".split()
)
INT_FIELDS = frozenset(
    "chat_id message_id offset limit cache_time max_connections user_id "
    "message_thread_id reply_to_message_id from_chat_id duration".split()
)
BOOL_FIELDS = frozenset(
    "disable_notification show_alert drop_pending_updates protect_content "
    "disable_web_page_preview allow_sending_without_reply "
    "disable_content_type_detection allow_paid_broadcast".split()
)
RATE_LIMITED = frozenset(
    "sendMessage sendDocument sendVoice editMessageText editMessageReplyMarkup".split()
)
BLOCKABLE = RATE_LIMITED | {"sendChatAction"}
INTERNAL_KEYS = frozenset(
    "raw_text parse_mode edits deleted document_content voice_content event".split()
)
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "a file of up to 20 MB"
UPLOAD_LIMIT = 50 * 1024 * 1024  # sendVoice/sendDocument by upload: "up to 50 MB"
DEFAULT_ERRORS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
BUTTON_ACTIONS = frozenset(
    "callback_data url web_app login_url switch_inline_query pay "
    "switch_inline_query_current_chat switch_inline_query_chosen_chat callback_game "
    "copy_text".split()
)
CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note "
    "upload_video_note".split()
)
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
_HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class ApiError(Exception):
    """An error answer of the fake API (HTTP status plus Telegram description)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def body(self) -> dict[str, Any]:
        """The Telegram-style JSON error body."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.status == 429:
            body["parameters"] = {"retry_after": self.retry_after or 1}
        return body


def bad_request(description: str) -> ApiError:
    """Shortcut for a 400 error with the usual 'Bad Request: ' prefix."""
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class UploadedFile:
    """A file received in a multipart request."""

    filename: str
    content: bytes
    mime_type: str


@dataclass
class Call:
    """One request to the fake; ``time`` is when it arrived (time.monotonic())."""

    method: str
    params: dict[str, Any]
    time: float
    status: int


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    remaining: int
    retry_after: int | None
    chat_id: int | None


class _TokenBucket:
    """Token bucket: ``rate`` tokens per second, at most ``burst`` stored."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if available now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class _SlidingWindow:
    """At most ``limit`` sends in any ``window`` seconds: the strictest reading of "about
    30 messages per second", which refuses the 31st message within any one second, also
    right after a pause (a bucket would have stored tokens for a burst)."""

    def __init__(self, limit: float, window: float = 1.0) -> None:
        self.limit, self.window = max(int(limit), 1), window
        self.accepted: collections.deque[float] = collections.deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more send fits the window (0 if it fits now)."""
        while self.accepted and now - self.accepted[0] >= self.window:
            self.accepted.popleft()
        if len(self.accepted) < self.limit:
            return 0.0
        return self.accepted[0] + self.window - now

    def take(self, now: float) -> None:
        """Count one accepted send."""
        self.accepted.append(now)


def _html_to_text(raw: str) -> str:
    """Validate Telegram HTML and return the plain text."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "<":
            offset = len(raw[:i].encode())
            match = _HTML_TAG_RE.match(raw, i)
            if match is None:
                raise bad_request(
                    f"can't parse entities: Unexpected end of name token at byte offset {offset}"
                )
            name = match.group(2).lower()
            if name not in _HTML_TAGS:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" '
                    f"at byte offset {offset}"
                )
            if match.group(1):
                if not stack or stack[-1] != name:
                    expected = f', expected "</{stack[-1]}>"' if stack else ""
                    raise bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset {offset}"
                        f'{expected}, found "</{name}>"'
                    )
                stack.pop()
            else:
                stack.append(name)
            i = match.end()
            continue
        entity = _HTML_ENTITY_RE.match(raw, i) if ch == "&" else None
        if entity:
            out.append(html.unescape(entity.group(0)))
            i = entity.end()
            continue
        out.append(ch)
        i += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def _markdown_v2_to_text(raw: str) -> str:
    """Check MarkdownV2 for unescaped reserved characters; return an approximate plain text."""
    out: list[str] = []
    i, in_code = 0, False
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        elif ch == "`":
            run = 3 if raw.startswith("```", i) else 1
            in_code, i = not in_code, i + run
        elif in_code or ch == "\n":
            out.append(ch)
            i += 1
        elif ch in "*_~|[":
            i += 1
        elif ch == "]" and raw.startswith("(", i + 1):
            end = raw.find(")", i)
            i = end + 1 if end > 0 else len(raw)
        elif ch == ">" and (i == 0 or raw[i - 1] == "\n"):
            i += 1
        elif ch in "_*[]()~`>#+-=|{}.!":
            raise bad_request(
                f"can't parse entities: Character '{ch}' is reserved and must be escaped with "
                "the preceding '\\'"
            )
        else:
            out.append(ch)
            i += 1
    if in_code:
        raise bad_request("can't parse entities: Can't find end of Code entity")
    return "".join(out)


def _render(text: Any, parse_mode: Any) -> str:
    """Return the stripped plain text Telegram would store for ``text`` in ``parse_mode``."""
    raw = "" if text is None else str(text)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        plain = _html_to_text(raw)
    elif mode == "markdownv2":
        plain = _markdown_v2_to_text(raw)
    elif mode in ("", "markdown"):
        plain = raw
    else:
        raise bad_request("unsupported parse_mode")
    return plain.strip()


def _validate_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate a reply_markup object like Telegram does; return it (or None)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        if sum(len(r) for r in rows) > 100:
            raise bad_request("reply markup is too long")
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            if not BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= 64
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(url)):
                raise bad_request("BUTTON_URL_INVALID")
        return markup
    if inline_only:
        raise bad_request("can't parse inline keyboard markup JSON object")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for button in itertools.chain.from_iterable(rows):
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text.strip():
                raise bad_request("keyboard button text must be non-empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline(markup: Any) -> dict[str, Any] | None:
    """The markup if it is an inline keyboard, else None."""
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def public(message: dict[str, Any]) -> dict[str, Any]:
    """Strip the fake's extra keys (and non-inline markup) from a stored message."""
    result = {k: v for k, v in message.items() if k not in INTERNAL_KEYS}
    if not _inline(result.get("reply_markup")):
        result.pop("reply_markup", None)
    return result


class FakeUser:
    """A simulated Telegram user chatting privately with the bot (chat id == user id)."""

    def __init__(
        self,
        fake: FakeTelegram,
        chat_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        self.fake, self.chat_id, self.first_name = fake, chat_id, first_name
        self.language_code, self.last_name, self.username = language_code, last_name, username

    def as_user(self) -> dict[str, Any]:
        """The Telegram User object of this user."""
        user: dict[str, Any] = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def as_chat(self) -> dict[str, Any]:
        """The Telegram Chat object of the private chat with this user."""
        chat: dict[str, Any] = {"id": self.chat_id, "type": "private"}
        chat["first_name"] = self.first_name
        for key in ("last_name", "username"):
            if getattr(self, key):
                chat[key] = getattr(self, key)
        return chat

    def _message(self, **content: Any) -> dict[str, Any]:
        message_id = self.fake._new_message_id(self.chat_id)
        self.fake._user_messages.add((self.chat_id, message_id))
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.as_chat(),
            "from": self.as_user(),
            **content,
        }

    async def send(self, text: str) -> int:
        """Send a text message to the bot; returns the update_id."""
        message = self._message(text=text)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.fake._dispatch({"message": message})

    async def send_other(self, kind: str = "sticker", caption: str | None = None) -> int:
        """Send a non-text message (sticker, photo, location, voice); returns the update_id."""
        file_id = f"user-file-{next(self.fake._ids)}"
        media = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        contents: dict[str, dict[str, Any]] = {
            "sticker": {
                "sticker": {
                    **media,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            },
            "photo": {"photo": [{**media, "width": 90, "height": 90, "file_size": 1024}]},
            "location": {"location": {"latitude": 52.52, "longitude": 13.405}},
            "voice": {"voice": {**media, "duration": 2, "mime_type": "audio/ogg"}},
        }
        if kind not in contents:
            raise ValueError(f"unknown kind {kind!r}; use one of {sorted(contents)}")
        content = contents[kind]
        if caption is not None:
            content["caption"] = caption
        return await self.fake._dispatch({"message": self._message(**content)})

    async def send_voice(
        self,
        content: bytes,
        *,
        duration: int = 3,
        mime_type: str = "audio/ogg",
        kind: str = "voice",
        caption: str | None = None,
    ) -> int:
        """Send a voice message (or, with ``kind="audio"``, an audio file) whose bytes the bot
        can fetch through getFile and the file URL; returns the update_id."""
        if kind not in ("voice", "audio"):
            raise ValueError("kind is 'voice' or 'audio'")
        folder, suffix = ("voice", "oga") if kind == "voice" else ("music", "mp3")
        file_id = self.fake.add_file(content, mime_type, folder=folder, suffix=suffix)
        media: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id[-6:]}",
            "duration": duration,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        message = self._message(**{kind: media})
        if caption is not None:
            message["caption"] = caption
        return await self.fake._dispatch({"message": message})

    async def voice_and_wait(
        self,
        content: bytes,
        timeout: float = 5.0,  # noqa: ASYNC109
        quiet: float = 0.15,
        **voice_kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Send a voice message like :meth:`send_voice`; return what follows like exchange."""
        mark = len(self.fake.events)
        update_id = await self.send_voice(content, **voice_kwargs)
        return await self._collect(mark, timeout, quiet, update_id)

    async def press(self, data: str, *, message_id: int | None = None, force: bool = False) -> str:
        """Press the inline button with ``callback_data == data``; returns the query id."""
        query_id, _update_id = await self._press(data, message_id=message_id, force=force)
        return query_id

    async def _press(
        self, data: str, *, message_id: int | None = None, force: bool = False
    ) -> tuple[str, int]:
        if message_id is not None:
            message = self.fake.message(self.chat_id, message_id)
            if message is None or message.get("deleted"):
                raise AssertionError(f"no message {message_id} in chat {self.chat_id}")
        else:
            candidates = [
                m
                for m in self.messages()
                if force or any(d == data for row in self.buttons(m) for _, d in row)
            ]
            if not candidates:
                raise AssertionError(
                    f"no bot message to {self.chat_id} has a button with data {data!r}; "
                    f"buttons of the last message: {self.buttons()}"
                )
            message = candidates[-1]
        query_id = str(next(self.fake._ids) + 7_000_000)
        self.fake._callback_queries[query_id] = {
            "data": data,
            "chat_id": self.chat_id,
            "message_id": message["message_id"],
            "answered": False,
            "answer": None,
        }
        update_id = await self.fake._dispatch(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.as_user(),
                    "message": public(message),
                    "chat_instance": str(self.chat_id * 7),
                    "data": data,
                }
            }
        )
        return query_id, update_id

    async def press_text(self, label: str, *, contains: bool = False) -> str:
        """Press the newest inline button whose text equals (or contains) ``label``."""
        for message in reversed(self.messages()):
            for row in self.buttons(message):
                for text, data in row:
                    if (label in text if contains else text == label) and data is not None:
                        return await self.press(data, message_id=message["message_id"])
        raise AssertionError(f"no button labelled {label!r}; last buttons: {self.buttons()}")

    async def reply(
        self,
        text: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Send ``text`` (if given), then return the next new bot message or edit in this chat.

        The result is a snapshot of the stored message dict with ``event`` "sent" or "edited".
        """
        mark = len(self.fake.events)
        if text is not None:
            await self.send(text)
        events = await self.fake.wait_for(
            lambda f: self._events_since(mark),
            timeout=timeout,
            description=f"a bot message to chat {self.chat_id}",
        )
        return events[0]["message"]

    async def exchange(
        self,
        text: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        quiet: float = 0.15,
    ) -> list[dict[str, Any]]:
        """Send ``text``; return snapshots of bot messages/edits until quiet for ``quiet`` s."""
        mark = len(self.fake.events)
        update_id = await self.send(text)
        return await self._collect(mark, timeout, quiet, update_id)

    async def other_and_wait(
        self,
        kind: str = "sticker",
        timeout: float = 5.0,  # noqa: ASYNC109
        quiet: float = 0.15,
    ) -> list[dict[str, Any]]:
        """Send a non-text message like :meth:`send_other`; return what follows like exchange."""
        mark = len(self.fake.events)
        update_id = await self.send_other(kind)
        return await self._collect(mark, timeout, quiet, update_id)

    async def press_and_wait(
        self,
        data: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        quiet: float = 0.15,
        **press_kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Press a button like :meth:`press`; return the following messages/edits like exchange."""
        mark = len(self.fake.events)
        _query_id, update_id = await self._press(data, **press_kwargs)
        return await self._collect(mark, timeout, quiet, update_id)

    def _events_since(self, mark: int) -> list[dict[str, Any]]:
        return [
            e
            for e in self.fake.events[mark:]
            if e["chat_id"] == self.chat_id and e["event"] in ("sent", "edited")
        ]

    async def _collect(
        self, mark: int, wait: float, quiet: float, update_id: int | None = None
    ) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        handled = self.fake.handled
        if handled is not None and update_id is not None:
            # The bot reports when the update is done: no guessing with a quiet time.
            while update_id not in handled:
                if not await self.fake._wait_change(deadline):
                    raise AssertionError(f"update {update_id} not handled within {wait}s")
            return [e["message"] for e in self._events_since(mark)]
        while not self._events_since(mark):
            if not await self.fake._wait_change(deadline):
                return []
        while True:
            seen = len(self.fake.events)
            quiet_until = min(loop.time() + quiet, deadline)
            while len(self.fake.events) == seen and await self.fake._wait_change(quiet_until):
                pass
            if len(self.fake.events) == seen or loop.time() >= deadline:
                return [e["message"] for e in self._events_since(mark)]

    def messages(self) -> list[dict[str, Any]]:
        """All not-deleted bot messages to this chat (current state, in sending order)."""
        return [m for m in self.fake.sent(self.chat_id) if not m.get("deleted")]

    def last_message(self) -> dict[str, Any] | None:
        """The newest not-deleted bot message to this chat (current state), or None."""
        messages = self.messages()
        return messages[-1] if messages else None

    def buttons(self, message: dict[str, Any] | None = None) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard of ``message`` (default: last message) as rows of (text, data)."""
        message = message if message is not None else self.last_message()
        markup = _inline((message or {}).get("reply_markup"))
        if not markup:
            return []
        return [
            [(b["text"], b.get("callback_data")) for b in row] for row in markup["inline_keyboard"]
        ]


class FakeTelegram:
    """Fake Bot API server (aiohttp) with recording, simulated users and fault injection."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "WegweiserTestBot",
        *,
        bot_first_name: str = "Wegweiser",
        global_per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        per_chat_burst: float = 3.0,
        rate_limits_enabled: bool = True,
    ) -> None:
        self.token, self.bot_username, self.bot_first_name = token, bot_username, bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.port = 0
        self.calls: list[Call] = []
        self._counts: Counter[tuple[str, int]] = Counter()  # (method, status): see count()
        self.events: list[dict[str, Any]] = []
        self.users: dict[int, FakeUser] = {}
        self.files: dict[str, UploadedFile] = {}
        self.file_paths: dict[str, str] = {}  # file_path (as getFile gives it) -> file_id
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.rejected_429 = 0
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []
        # Update ids the bot under test reports as fully handled (see ``track_handling``);
        # None while nobody reports, and exchanges then wait for a quiet time instead.
        self.handled: set[int] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: list[str] | None = None
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent_order: list[dict[str, Any]] = []
        self._user_messages: set[tuple[int, int]] = set()
        self._message_ids: dict[int, int] = {}
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._delays: dict[str, list[float]] = {}
        self._ids = itertools.count(1)
        self._next_update_id = 1
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.global_per_second = global_per_second
        self.paid_per_second = 1000.0
        self.per_chat_per_second = per_chat_per_second
        self.per_chat_burst = per_chat_burst
        self.overall_mode = "window"  # the strictest reading; "bucket" is the lenient one
        self.rate_limits(rate_limits_enabled)
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda p: self.bot_user(),
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendVoice": self._send_voice,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "sendChatAction": self._send_chat_action,
        }

    # ----------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` / ``Bot(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        """Start serving on 127.0.0.1 with an OS-assigned port."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        logger.debug("FakeTelegram listening on %s", self.base_url)

    async def stop(self) -> None:
        """Wake all long polls and delays, then shut the server down."""
        self._closing = True
        self._bump()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- inspection & waiting
    def bot_user(self) -> dict[str, Any]:
        """The bot's User object as returned by getMe."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def user(
        self,
        chat_id: int = 1001,
        first_name: str = "Test",
        language_code: str | None = "de",
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """Create (or replace) a simulated user with a private chat ``chat_id``."""
        self.users[chat_id] = FakeUser(
            self, chat_id, first_name, language_code, last_name, username
        )
        return self.users[chat_id]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Stored messages the bot sent (incl. deleted ones, flagged ``deleted``), in order."""
        return [m for m in self._sent_order if chat_id is None or m["chat"]["id"] == chat_id]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current stored state of a bot message, or None."""
        return self._messages.get((chat_id, message_id))

    def count(self, method: str, status: int | None = None) -> int:
        """How many calls of `method` (with that HTTP status) were recorded; cheap enough
        to poll after every request, unlike ``len(calls_of(...))``."""
        if status is not None:
            return self._counts[method, status]
        return sum(n for (m, _), n in self._counts.items() if m == method)

    def calls_of(self, method: str) -> list[Call]:
        """All recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery params for a query the fake issued, or None if unanswered."""
        return self._callback_queries[query_id]["answer"]

    def track_handling(self) -> None:
        """Exchanges wait for the bot's report that an update is handled, not for quiet."""
        self.handled = set()

    def mark_handled(self, update_id: int) -> None:
        """The bot under test finished an update: every reply to it has been sent."""
        if self.handled is not None:
            self.handled.add(update_id)
            self._bump()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates (or not delivered to the webhook)."""
        return list(self._pending)

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, deadline: float) -> bool:
        """Wait for any state change until the loop time ``deadline``; False on timeout."""
        event = self._changed
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return False
        return True

    async def wait_for(
        self,
        predicate: Callable[[FakeTelegram], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
        description: str | None = None,
    ) -> Any:
        """Wait until ``predicate(fake)`` is truthy and return its value; AssertionError if not."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := predicate(self)):
            if not await self._wait_change(deadline):
                if result := predicate(self):
                    return result
                last = "\n".join(
                    f"  {c.method} -> {c.status} {_short(c.params)}" for c in self.calls[-15:]
                )
                what = description or getattr(predicate, "__name__", "predicate")
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; last calls:\n{last or '  -'}"
                )
        return result

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        return await self.wait_for(
            lambda f: len(f.calls_of(method)) >= count and f.calls_of(method),
            timeout,
            description=f"{count} call(s) of {method}",
        )

    # ----------------------------------------------------------------- faults & limits
    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (optionally to one chat) fail."""
        if status == 429:
            retry_after = retry_after or 1
        text = description or DEFAULT_ERRORS.get(status, f"Error {status}")
        self._faults.append(
            _Fault(
                method, status, text.format(retry_after=retry_after), count, retry_after, chat_id
            )
        )

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Make the next ``count`` calls of ``method`` wait ``seconds`` before being handled."""
        self._delays.setdefault(method, []).extend([seconds] * count)

    def block(self, chat_id: int) -> None:
        """Answer sends to ``chat_id`` with 403 'bot was blocked by the user'."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block`."""
        self.blocked.discard(chat_id)

    def rate_limits(
        self,
        enabled: bool = True,
        *,
        global_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: float | None = None,
        overall: str | None = None,
    ) -> None:
        """Switch rate limiting on/off, optionally change limits; resets all buckets.

        `overall` is "window" (the default: at most the limit in any sliding second) or
        "bucket" (a token bucket holding one second's worth, which allows a burst after a
        pause). Per chat it is always a bucket: about one a second after a small burst.
        """
        self.rate_limits_enabled = enabled
        if overall is not None:
            if overall not in ("window", "bucket"):
                raise ValueError(overall)
            self.overall_mode = overall
        if global_per_second is not None:
            self.global_per_second = global_per_second
        if per_chat_per_second is not None:
            self.per_chat_per_second = per_chat_per_second
        if per_chat_burst is not None:
            self.per_chat_burst = per_chat_burst
        def overall_limit(rate: float) -> _SlidingWindow | _TokenBucket:
            if self.overall_mode == "window":
                return _SlidingWindow(rate)
            return _TokenBucket(rate, rate)

        self._global_bucket = overall_limit(self.global_per_second)
        self._paid_bucket = overall_limit(self.paid_per_second)
        self._chat_buckets: dict[int, _TokenBucket] = {}

    def register_method(self, name: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        """Add or replace a method; ``handler(params)`` returns the result or raises ApiError."""
        self._methods[name] = handler

    # ----------------------------------------------------------------- updates & webhook
    async def _dispatch(self, payload: dict[str, Any]) -> int:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        if self.webhook_url:
            try:
                status = await self.deliver_webhook(update)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, reason = 0, f"Connection failed: {exc!r}"
            else:
                reason = f"Wrong response from the webhook: {status}"
            self.webhook_deliveries.append((update["update_id"], status))
            if 200 <= status < 300:
                self._bump()
                return update["update_id"]
            self._webhook_error = (int(time.time()), reason)
        self._pending.append(update)
        self._bump()
        return update["update_id"]

    async def deliver_webhook(
        self, update: dict[str, Any], *, secret_token: str | EllipsisType | None = ...
    ) -> int:
        """POST ``update`` to the webhook URL (with the secret header); returns the HTTP status.

        ``secret_token`` overrides the configured secret (None sends no header).
        """
        if not self.webhook_url or self._session is None:
            raise RuntimeError("no webhook is set (or the fake is not running)")
        secret = self.webhook_secret if secret_token is ... else secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with self._session.post(
            self.webhook_url,
            json=update,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            await response.read()
            return response.status

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = p.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]
        if isinstance(p.get("allowed_updates"), list):
            self._allowed_updates = p["allowed_updates"] or None
        if self._allowed_updates:
            self._pending = [
                u for u in self._pending if set(u) - {"update_id"} <= set(self._allowed_updates)
            ]
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        deadline = asyncio.get_running_loop().time() + max(float(p.get("timeout") or 0), 0.0)
        while not self._pending and not self._closing and not self.webhook_url:
            if not await self._wait_change(deadline):
                break
        return [] if self.webhook_url else self._pending[:limit]

    def _set_webhook(self, p: dict[str, Any]) -> bool:
        url = str(p.get("url") or "")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://\S+$", url):
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url, self.webhook_secret = url, (str(secret) if url and secret else None)
        self._webhook_error = None
        self._bump()
        return True

    def _delete_webhook(self, p: dict[str, Any]) -> bool:
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url, self.webhook_secret = "", None
        return True

    def _get_webhook_info(self, p: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
        if self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ----------------------------------------------------------------- messages
    def _chat_id(self, p: dict[str, Any]) -> int:
        chat_id = p.get("chat_id")
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int):
            raise bad_request("chat not found")
        return chat_id

    def _new_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.users:
            return self.users[chat_id].as_chat()
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}

    def _event(self, kind: str, message: dict[str, Any]) -> None:
        snapshot = copy.deepcopy(message)
        snapshot["event"] = kind
        self.events.append(
            {
                "event": kind,
                "chat_id": message["chat"]["id"],
                "message_id": message["message_id"],
                "message": snapshot,
            }
        )

    def _store(self, chat_id: int, p: dict[str, Any], **content: Any) -> dict[str, Any]:
        markup = _validate_markup(p.get("reply_markup"))
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": {
                k: v
                for k, v in self.bot_user().items()
                if k in ("id", "is_bot", "first_name", "username")
            },
            **content,
        }
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        self._sent_order.append(message)
        self._event("sent", message)
        return message

    def _send_message(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(p)
        raw = p.get("text")
        text = _render(raw, p.get("parse_mode"))
        if not text:
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        return public(
            self._store(chat_id, p, text=text, raw_text=raw, parse_mode=p.get("parse_mode"))
        )

    def _sent_file(self, p: dict[str, Any], field: str, id_prefix: str) -> str:
        """The file a send* method names: a multipart upload (kept under a new file_id, at
        most UPLOAD_LIMIT) or a file_id Telegram holds already."""
        sent = p.get(field)
        if isinstance(sent, UploadedFile):
            if not sent.content:
                raise bad_request("file must be non-empty")
            if len(sent.content) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            file_id = f"{id_prefix}{next(self._ids):06d}"
            self.files[file_id] = sent
            return file_id
        if isinstance(sent, str) and sent in self.files:
            return sent
        if sent in (None, ""):
            raise bad_request(f"there is no {field} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _send_document(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(p)
        file_id = self._sent_file(p, "document", "BQACAgIAAxkBAAI")
        upload = self.files[file_id]
        content: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"AgAD{file_id[-6:]}",
                "file_name": upload.filename,
                "mime_type": upload.mime_type,
                "file_size": len(upload.content),
            },
            "document_content": upload.content,
        }
        return public(self._store(chat_id, p, **content, **_caption(p)))

    def _editable(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id, message_id = self._chat_id(p), p.get("message_id")
        message = self._messages.get((chat_id, message_id))  # type: ignore[arg-type]
        if (chat_id, message_id) in self._user_messages:
            raise bad_request("message can't be edited")
        if message is None or message.get("deleted"):
            raise bad_request("message to edit not found")
        return message

    def _apply_edit(self, message: dict[str, Any], method: str, **changes: Any) -> dict[str, Any]:
        markup = changes.pop("reply_markup")
        old_markup = _inline(message.get("reply_markup"))
        current = (message.get("text"), message.get("raw_text"), old_markup)
        new = (changes.get("text", current[0]), changes.get("raw_text", current[1]), markup)
        if current == new:
            raise ApiError(400, NOT_MODIFIED)
        message.update(changes, edit_date=int(time.time()))
        if markup is not None:
            message["reply_markup"] = markup
        elif _inline(message.get("reply_markup")):
            del message["reply_markup"]
        message.setdefault("edits", []).append(
            {
                "method": method,
                "text": message.get("text"),
                "reply_markup": markup,
                "edit_date": message["edit_date"],
            }
        )
        self._event("edited", message)
        return public(message)

    def _edit_message_text(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(p)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text = _render(p.get("text"), p.get("parse_mode"))
        if not text:
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        markup = _validate_markup(p.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            message,
            "editMessageText",
            text=text,
            raw_text=p.get("text"),
            parse_mode=p.get("parse_mode"),
            reply_markup=markup,
        )

    def _edit_message_reply_markup(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(p)
        markup = _validate_markup(p.get("reply_markup"), inline_only=True)
        return self._apply_edit(message, "editMessageReplyMarkup", reply_markup=markup)

    def _delete_message(self, p: dict[str, Any]) -> bool:
        key = (self._chat_id(p), p.get("message_id"))
        message = self._messages.get(key)  # type: ignore[arg-type]
        if key in self._user_messages:
            self._user_messages.discard(key)  # type: ignore[arg-type]
            return True
        if message is None or message.get("deleted"):
            raise bad_request("message to delete not found")
        message["deleted"] = True
        self._event("deleted", message)
        return True

    def _answer_callback_query(self, p: dict[str, Any]) -> bool:
        query = self._callback_queries.get(str(p.get("callback_query_id") or ""))
        if query is None or query["answered"]:
            raise ApiError(400, QUERY_INVALID)
        if len(str(p.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        query["answer"] = {k: p.get(k) for k in ("text", "show_alert", "url", "cache_time")}
        return True

    def add_file(
        self, content: bytes, mime_type: str, *, folder: str = "documents", suffix: str = "bin"
    ) -> str:
        """Keep a file as Telegram's servers would; its new file_id."""
        number = next(self._ids)
        file_id = f"AwACAgIAAxkBAAI{number:06d}"
        self.files[file_id] = UploadedFile(f"file_{number}.{suffix}", content, mime_type)
        self.file_paths[f"{folder}/file_{number}.{suffix}"] = file_id
        return file_id

    def _file_path(self, file_id: str) -> str:
        path = next((p for p, f in self.file_paths.items() if f == file_id), None)
        if path is None:  # uploaded by the bot (sendDocument/sendVoice)
            upload = self.files[file_id]
            folder = "voice" if upload.mime_type.startswith("audio/") else "documents"
            path = f"{folder}/{file_id}"
            self.file_paths[path] = file_id
        return path

    def _get_file(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id") or "")
        if not file_id:
            raise bad_request("file_id is empty")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        upload = self.files[file_id]
        if len(upload.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id[-6:]}",
            "file_size": len(upload.content),
            "file_path": self._file_path(file_id),
        }

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>, as getFile's answer points to it."""
        file_id = self.file_paths.get(request.match_info["path"])
        found = request.match_info["token"] == self.token and file_id is not None
        status = 200 if found else 404
        self.calls.append(Call("download", dict(request.match_info), time.monotonic(), status))
        self._counts["download", status] += 1
        if file_id is None or not found:
            raise web.HTTPNotFound()
        upload = self.files[file_id]
        return web.Response(body=upload.content, content_type=upload.mime_type)

    def _send_voice(self, p: dict[str, Any]) -> dict[str, Any]:
        """sendVoice: an upload (multipart) or a file_id Telegram holds already."""
        chat_id = self._chat_id(p)
        file_id = self._sent_file(p, "voice", "AwACAgIAAxkBAAI")
        upload = self.files[file_id]
        media: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id[-6:]}",
            "duration": int(p.get("duration") or 0),
            "mime_type": upload.mime_type,
            "file_size": len(upload.content),
        }
        content: dict[str, Any] = {"voice": media, "voice_content": upload.content}
        return public(self._store(chat_id, p, **content, **_caption(p)))

    # ----------------------------------------------------------------- bot settings
    def _commands_key(self, p: dict[str, Any]) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")

    def _set_my_commands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "").strip()) <= 256:
                raise bad_request("command description is empty")
        self.commands[self._commands_key(p)] = commands
        return True

    def _get_my_commands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(p), [])

    def _delete_my_commands(self, p: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    def _set_chat_menu_button(self, p: dict[str, Any]) -> bool:
        chat_id = p.get("chat_id")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = p.get(
            "menu_button"
        ) or {"type": "default"}
        return True

    def _send_chat_action(self, p: dict[str, Any]) -> bool:
        self._chat_id(p)
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ----------------------------------------------------------------- HTTP plumbing
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                params.update(body)
            else:
                files: dict[str, UploadedFile] = {}
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            value.filename, value.file.read(), value.content_type
                        )
                    else:
                        params[key] = value
                for key, value in list(params.items()):
                    if isinstance(value, str) and value.startswith("attach://"):
                        params[key] = files.get(value[len("attach://") :], value)
                params.update({k: v for k, v in files.items() if k not in params})
        for key, value in list(params.items()):
            if not isinstance(value, str):
                continue
            if key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    raise bad_request(f"can't parse {key} JSON object") from None
            elif key in INT_FIELDS and re.fullmatch(r"-?\d+", value):
                params[key] = int(value)
            elif key in BOOL_FIELDS:
                params[key] = value.lower() in ("true", "1")
            elif key == "timeout":
                try:
                    params[key] = float(value)
                except ValueError:
                    raise bad_request("wrong parameter timeout") from None
        return params

    def _precheck(self, method: str, p: dict[str, Any]) -> None:
        chat_id = p.get("chat_id")
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, fault.retry_after)
        if method in BLOCKABLE and chat_id in self.blocked:
            raise ApiError(403, DEFAULT_ERRORS[403])
        if not self.rate_limits_enabled or method not in RATE_LIMITED:
            return
        now = time.monotonic()
        # Paid broadcasts (allow_paid_broadcast) have their own, higher overall limit.
        paid = bool(p.get("allow_paid_broadcast"))
        buckets = [self._paid_bucket if paid else self._global_bucket]
        if isinstance(chat_id, int):
            buckets.append(
                self._chat_buckets.setdefault(
                    chat_id, _TokenBucket(self.per_chat_per_second, self.per_chat_burst)
                )
            )
        wait = max(b.wait_time(now) for b in buckets)
        if wait > 0:
            self.rejected_429 += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for bucket in buckets:
            if isinstance(bucket, _SlidingWindow):
                bucket.take(now)
            else:
                bucket.tokens -= 1

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        name = request.match_info["method"]
        method = next((m for m in self._methods if m.lower() == name.lower()), name)
        params: dict[str, Any] = {}
        status = 200
        try:
            params = await self._read_params(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if self._delays.get(method):
                deadline = asyncio.get_running_loop().time() + self._delays[method].pop(0)
                while not self._closing and await self._wait_change(deadline):
                    pass
            if self._closing:
                raise ApiError(500, "Internal Server Error")
            self._precheck(method, params)
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            body: dict[str, Any] = {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.body()
        self.calls.append(Call(method, params, started, status))
        self._counts[method, status] += 1
        self._bump()
        if status != 200:
            logger.debug("fake %s -> %s %s", method, status, body.get("description"))
        return web.json_response(body, status=status)


def _short(params: dict[str, Any], limit: int = 160) -> str:
    text = repr({k: v for k, v in params.items() if k not in ("document", "voice")})
    return text if len(text) <= limit else text[: limit - 3] + "..."


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A running FakeTelegram for one test (default token and bot username)."""
    async with FakeTelegram() as fake:
        yield fake


def _caption(p: dict[str, Any]) -> dict[str, Any]:
    """A media message's caption as the message stores it (none: nothing); at most 1,024
    characters after parsing, as Telegram counts."""
    if not p.get("caption"):
        return {}
    caption = _render(p["caption"], p.get("parse_mode"))
    if len(caption) > 1024:
        raise bad_request("message caption is too long")
    return {"caption": caption, "raw_text": p["caption"], "parse_mode": p.get("parse_mode")}
