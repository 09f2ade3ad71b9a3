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
from bot.web.admin import broadcasts, content, courses, overview, people, programme
from bot.web.admin.site import AdminSite

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]


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
    page = site.page
    login_form, login_submit = overview.login_pages(site)
    table = [
        Route("/login", login_form, methods=GET),
        Route("/login", login_submit, methods=POST),
        Route("/logout", page(overview.logout), methods=POST),
        Route("/password", page(overview.password), methods=BOTH),
        Route("/language", page(overview.language), methods=POST),
        Route("/", page(overview.dashboard), methods=GET),
        Route("/inbox", page(overview.inbox), methods=GET),
        Route("/messages/{mid:id}/answer", page(overview.answer_message), methods=POST),
        Route("/audit", page(overview.audit_log, admin_only=True), methods=GET),
        Route("/participants", page(people.participant_list), methods=GET),
        Route("/participants.csv", page(people.participants_csv), methods=GET),
        Route("/participants/new", page(people.participant_new), methods=BOTH),
        Route("/participants/import", page(people.participant_import), methods=BOTH),
        Route("/participants/{pid:id}", page(people.participant_detail), methods=GET),
        Route("/participants/{pid:id}/edit", page(people.participant_edit), methods=BOTH),
        Route("/participants/{pid:id}/end", page(programme.plan_end_one), methods=POST),
        Route("/participants/{pid:id}/outcome", page(programme.record_outcome), methods=POST),
        Route("/programme-end", page(programme.programme_end), methods=BOTH),
        Route("/handovers", page(programme.handovers), methods=GET),
        Route("/handovers/{hid:id}/done", page(programme.handover_done), methods=POST),
        Route("/report", page(programme.report), methods=GET),
        Route("/content", page(content.content_list), methods=GET),
        Route("/content/new", page(content.content_new, admin_only=True), methods=POST),
        Route("/content/{nid:id}", page(content.content_edit, admin_only=True), methods=BOTH),
        Route(
            "/content/{nid:id}/delete",
            page(content.content_delete, admin_only=True),
            methods=POST,
        ),
        Route("/participants/{pid:id}/export", page(people.participant_export), methods=GET),
        Route("/participants/{pid:id}/erase", page(people.participant_erase), methods=POST),
        Route("/participants/{pid:id}/invite", page(people.invite_letter), methods=POST),
        Route("/participants/{pid:id}/revoke", page(people.invite_revoke), methods=POST),
        Route("/participants/{pid:id}/appointments", page(people.appointment_plan), methods=POST),
        Route(
            "/participants/{pid:id}/appointments/{aid:id}/move",
            page(people.appointment_move),
            methods=POST,
        ),
        Route(
            "/participants/{pid:id}/appointments/{aid:id}/cancel",
            page(people.appointment_cancel),
            methods=POST,
        ),
        Route("/broadcasts", page(broadcasts.broadcast_list), methods=GET),
        Route("/broadcasts/new", page(broadcasts.broadcast_new), methods=BOTH),
        Route("/broadcasts/{bid:id}", page(broadcasts.broadcast_detail), methods=GET),
        Route("/broadcasts/{bid:id}/edit", page(broadcasts.broadcast_edit), methods=BOTH),
        Route("/broadcasts/{bid:id}/send", page(broadcasts.broadcast_send), methods=POST),
        Route("/broadcasts/{bid:id}/stop", page(broadcasts.broadcast_stop), methods=POST),
        Route("/broadcasts/{bid:id}/discard", page(broadcasts.broadcast_discard), methods=POST),
        Route("/courses", page(courses.course_list), methods=GET),
        Route("/courses/new", page(courses.course_new), methods=BOTH),
        Route("/courses/{cid:id}", page(courses.course_detail), methods=GET),
        Route("/courses/{cid:id}/enrol", page(courses.course_enrol), methods=POST),
        Route("/courses/{cid:id}/leave", page(courses.course_leave), methods=POST),
        Route("/courses/{cid:id}/exceptions", page(courses.course_exception), methods=POST),
    ]
    return Starlette(routes=table, exception_handlers=site.exception_handlers())
