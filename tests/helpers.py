"""Small helpers for tests: expected texts in a language, button lookups, counts of
sends in a window, what a log record prints."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

from bot.i18n import translator

ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def tr(code: str, msgid: str, **params: Any) -> str:
    """The text a participant with language `code` must see for `msgid`.

    Fails if the catalog has no real translation, so a test can never pass on a fallback.
    """
    text = translator(code).gettext(msgid)
    if code != "en":
        assert text != msgid, f"{code} has no translation for {msgid[:40]!r}"
    return text.format(**params) if params else text


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of the sorted `times` that fall within any `window` seconds."""
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def printed(record: logging.LogRecord) -> str:
    """All a log handler prints of a record: message, arguments, traceback with causes."""
    formatter = logging.Formatter()
    exc = formatter.formatException(record.exc_info) if record.exc_info else ""
    return f"{record.getMessage()}\n{exc}\n{record.exc_text or ''}"


def labels(message: dict[str, Any]) -> list[str]:
    """All button labels of a message sent to the fake, row by row flattened."""
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def data_of(message: dict[str, Any]) -> list[str]:
    """All callback data of a message's buttons."""
    markup = message.get("reply_markup") or {}
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


# Debian's Chromium for the browser tests (Playwright never downloads a browser); the flags
# keep it off the network, which this machine does not have anyway.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = (
    not Path(CHROMIUM).exists(),
    "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
)


async def join_web_chat(page: Any, url: str, token: str, code: str) -> None:
    """In a Playwright page: open an invite link in the web chat, connect, choose the
    language `code` and agree to the privacy notice; the main menu is shown then."""
    await page.goto(f"{url}/chat?start={token}")
    await page.locator(".connect button").click()
    await page.locator(f"button[value='lang:{code}']").click()
    agree = page.locator(f"button[value='pv:ok:{code}']")
    await agree.wait_for()
    await agree.click()
    await page.locator("button[value='mn:ap']").last.wait_for()
