"""The staff web at /admin: server-rendered pages over the same actions as the bot.

German first, English second (the `admin` gettext domain). No JavaScript is needed; every
state-changing request is a POST with the session's CSRF token.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from bot.plumbing.routes import Routes
from bot.plumbing.throttle import LoginThrottle
from bot.settings import Settings
from bot.web.admin import (
    account,
    appointments,
    broadcast_templates,
    broadcasts,
    content,
    courses,
    inbox,
    modules,
    overview,
    participants,
    programme,
    staff,
    voice,
)
from bot.web.admin.site import AdminSite

# One module per resource, each exporting its pages as `routes`.
RESOURCES = (
    overview,
    account,
    inbox,
    voice,
    participants,
    appointments,
    courses,
    content,
    programme,
    broadcasts,
    broadcast_templates,
    modules,
    staff,
)


def admin_app(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    routes: Routes,
    throttle: LoginThrottle | None = None,
) -> Starlette:
    """The admin pages as one ASGI app, to be mounted at /admin; `throttle` is shared with
    the other password checks of the process (the invite API)."""
    site = AdminSite(
        settings,
        sessions,
        routes,
        secure_cookies=settings.public_web_url.startswith("https://"),
        throttle=throttle,
    )
    login_form, login_submit = account.login_pages(site)
    table = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        *staff.link_pages(site),  # outside a login: the link is the proof
    ]
    for resource in RESOURCES:
        table += site.mount(resource.routes)
    return Starlette(routes=table, exception_handlers=site.exception_handlers())
