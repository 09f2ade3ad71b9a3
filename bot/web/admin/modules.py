"""Modules (Bausteine), managed by admins (not yet built)."""

from __future__ import annotations

from bot.web.admin.site import Page

routes: list[Page] = []
