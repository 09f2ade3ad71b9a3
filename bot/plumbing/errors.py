"""Errors a user caused and can fix; they carry a translatable message."""

from __future__ import annotations

from typing import Any

from bot.i18n import N_

# The answer to button data that is forged, garbled or from an old message.
STALE_BUTTON = N_("This button no longer works. Please use the menu.")


class UserError(Exception):
    """A request that is not allowed; `message` is an untranslated msgid (marked with N_).

    `field` names the input that is wrong (a form shows the message beside it)."""

    def __init__(
        self, message: str, *, show_menu: bool = True, field: str | None = None, **params: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.show_menu = show_menu
        self.field = field
