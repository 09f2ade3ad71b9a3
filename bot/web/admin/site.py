"""The frame of every admin page: one transaction, the login, CSRF, language and templates.

A page handler is `async def page(ctx: Ctx) -> Response`; `AdminSite.page()` wraps it so
that it runs in one database transaction with the staff user loaded, a POST only after its
CSRF token was checked, and an admin-only page only for admins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from babel.dates import format_date, format_datetime, format_time, get_day_names
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.features.courses import own_course
from bot.features.roster import own_participant
from bot.i18n import A_, Translator, admin_translator, translator
from bot.plumbing.errors import UserError
from bot.plumbing.reminders import ReminderPolicy
from bot.plumbing.routes import Routes
from bot.plumbing.throttle import LoginThrottle, Throttle
from bot.settings import Settings
from bot.web.admin.auth import Auth, CsrfFailed, Forbidden, Login, LoginRequired
from bot.web.admin.forms import F, Submitted, read
from bot.web.admin.names import CHANNEL_NAMES, EVENT_NAMES, LANGUAGE_NAMES
from storage.db import begin_writing
from storage.models import Course, Participant
from storage.overview import unread_count
from storage.types import utcnow

T = TypeVar("T")
TEMPLATES = Path(__file__).parents[1] / "templates"

# Short confirmations shown once after a redirect (?done=key).
DONE = {
    "saved": A_("Saved."),
    "created": A_("Created."),
    "imported": A_("Imported."),
    "planned": A_("Appointment planned. The participant is told and reminded."),
    "moved": A_("Appointment moved. The participant is told; reminders are planned again."),
    "cancelled": A_("Appointment cancelled. The participant is told."),
    "revoked": A_("Open invites revoked. Printed letters no longer work."),
    "enrolled": A_("Enrolled. Course reminders are planned."),
    "left": A_("Taken out of the course. Its reminders stop."),
    "exception": A_("Date marked. Reminders for that day are cancelled."),
    "password": A_("Password changed. Your other logins have ended."),
    "end_planned": A_(
        "Last day saved. On that day the person gets the end message and the question "
        "about KIM; reminders stop."
    ),
    "handed_over": A_("Marked as handed over to KIM."),
    "answered": A_("Answer sent. It reaches the participant in their chat."),
    "read": A_("Marked as read."),
    "erased": A_("The participant's data is erased. Only anonymous counts remain."),
    "role_changed": A_("Role changed."),
    "deactivated": A_(
        "Account deactivated. Its logins have ended; its linked chat no longer acts as staff."
    ),
    "reactivated": A_("Account active again."),
    "unlocked": A_("Lock lifted. The person can log in again."),
    "handed_over_caseload": A_("Participants, courses and coming appointments handed over."),
    "password_set": A_("Password set. Welcome to Wegweiser."),
    "module_retired": A_("Module retired. It is no longer offered; its history stays."),
    "module_reinstated": A_("Module offered again."),
    "recorded": A_("Recording saved. Participants with this language can listen to it."),
    "recording_deleted": A_("Recording deleted."),
}


class NotFound(Exception):
    """The record does not exist or is not the staff member's: the page answers 404."""


@dataclass
class Ctx:
    """One admin request: who asks, in which language, in which transaction."""

    request: Request
    session: AsyncSession
    login: Login
    site: AdminSite
    now: datetime
    form: FormData | None = None
    unread: int = 0  # notices waiting in the staff member's inbox (the navigation shows it)
    prepared: Any = None  # what the page's `prepare` made of the posted form

    @property
    def t(self) -> Translator:
        """The staff user's admin translator (German unless they chose English)."""
        return admin_translator(self.login.staff.locale or "de")

    @property
    def settings(self) -> Settings:
        """The process settings."""
        return self.site.settings

    @cached_property
    def policy(self) -> ReminderPolicy:
        """The reminder rules the actions of this request plan with."""
        return ReminderPolicy.from_settings(self.settings)

    @property
    def today(self) -> date:
        """Today in the programme's time zone."""
        return self.now.astimezone(self.settings.tz).date()

    def _(self, message: str, **params: Any) -> str:
        """An admin-domain message; shared action messages come from the bot's catalog."""
        return self.site.translate(self.t, message, **params)

    def error_text(self, error: UserError) -> str:
        """A UserError in the staff user's language."""
        return self._(error.message, **error.params)

    async def attempt(self, action: Callable[[], Awaitable[T]]) -> tuple[T | None, str | None]:
        """Run an action in a savepoint: its result, or the error to show (nothing kept)."""
        try:
            async with self.session.begin_nested():
                return await action(), None
        except UserError as error:
            return None, self.error_text(error)

    async def save(self, form: Submitted[F], action: Callable[[], Awaitable[T]]) -> T | None:
        """Run a form's action in a savepoint: its result, or None with the refusal put
        on the form beside the field it names (nothing kept)."""
        try:
            async with self.session.begin_nested():
                return await action()
        except UserError as error:
            form.refuse(error.message, field=error.field, **error.params)
            return None

    def submitted(self, model: type[F]) -> Submitted[F]:
        """The posted form read into `model`: the values, or an error per field."""
        sent = self.form.keys() if self.form is not None else ()
        return read(model, {name: self.field(name) for name in model.model_fields if name in sent})

    async def own_participant(self, participant_id: int | None = None) -> Participant:
        """The participant of the path (or `participant_id`) if this staff member may work
        with them; else NotFound, the 404 page."""
        if participant_id is None:
            participant_id = int(self.request.path_params["pid"])
        try:
            return await own_participant(
                self.session, actor=self.login.staff, participant_id=participant_id
            )
        except UserError:
            raise NotFound from None

    async def own_course(self) -> Course:
        """The course of the path if this staff member may work on it; else NotFound."""
        try:
            return await own_course(
                self.session,
                actor=self.login.staff,
                course_id=int(self.request.path_params["cid"]),
            )
        except UserError:
            raise NotFound from None

    def field(self, name: str, default: str = "") -> str:
        """A posted text field, stripped, or `default`."""
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def query(self, name: str, default: str = "") -> str:
        """A query parameter, stripped and bounded."""
        return self.request.query_params.get(name, default).strip()[:200]

    def render(self, name: str, *, status: int = 200, **context: Any) -> Response:
        """Render an admin template with the common context."""
        return self.site.render(self, name, status=status, **context)

    def redirect(self, url: str, done: str | None = None) -> Response:
        """303 to another admin page, with a one-time confirmation."""
        if done:
            url, hash_, fragment = url.partition("#")
            url += ("&" if "?" in url else "?") + urlencode({"done": done}) + hash_ + fragment
        return RedirectResponse(url, status_code=303)

    def audit_actor(self) -> str:
        """The audit log's name for this staff user."""
        return f"staff:{self.login.staff.id}"


Handler = Callable[[Ctx], Awaitable[Response]]
# Slow work on a posted form (converting an upload) done before the page's transaction.
Prepare = Callable[[FormData], Awaitable[Any]]


class _Refused(Exception):
    """A handler's 4xx answer, carried out of the transaction so that it is rolled back."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True)
class Page:
    """One admin route as a resource module declares it; `AdminSite.mount` wraps it."""

    path: str
    handler: Handler
    methods: tuple[str, ...]
    admin_only: bool = False
    prepare: Prepare | None = None


def get(path: str, handler: Handler, *, admin_only: bool = False) -> Page:
    """A page that only shows."""
    return Page(path, handler, ("GET",), admin_only)


def post(
    path: str, handler: Handler, *, admin_only: bool = False, prepare: Prepare | None = None
) -> Page:
    """An action (a form's target); `prepare` runs on the posted form outside the
    transaction, after the login and CSRF checks (e.g. converting an upload)."""
    return Page(path, handler, ("POST",), admin_only, prepare)


def form(path: str, handler: Handler, *, admin_only: bool = False) -> Page:
    """A form page: GET shows it, POST saves it."""
    return Page(path, handler, ("GET", "POST"), admin_only)


MAX_ID_DIGITS = 9  # ids fit PostgreSQL's integer; a longer number is no id of ours


def parse_id(value: str) -> int | None:
    """A record id from a form or query, or None (also for numbers too big to be one)."""
    return int(value) if value.isdigit() and len(value) <= MAX_ID_DIGITS else None


def parse_day(value: str) -> date | None:
    """A date from a form (YYYY-MM-DD), or None."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_clock(value: str) -> time | None:
    """A time of day from a form (HH:MM), or None."""
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


class IdConvertor(Convertor[int]):
    """`{name:id}` in a route: one to nine digits, so a huge number is a 404, not a
    database error."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        """The id as a number."""
        return int(value)

    def to_string(self, value: int) -> str:
        """The id in a URL."""
        return str(value)


register_url_convertor("id", IdConvertor())


class AdminSite:
    """Settings, database, templates and the login machinery shared by every page."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        routes: Routes,
        *,
        secure_cookies: bool,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.routes = routes
        self.auth = Auth(
            secure_cookies=secure_cookies,
            throttle=throttle or LoginThrottle(Throttle(sessions)),
        )
        self.templates = Jinja2Templates(directory=str(TEMPLATES))

    @staticmethod
    def translate(t: Translator, message: str, **params: Any) -> str:
        """Admin catalog first; a message shared with the bot (an action's error) falls back
        to the bot's catalog of the same language."""
        text = t.gettext(message)
        if text == message and t.code != "en":
            text = translator(t.code).gettext(message)
        return text.format(**params) if params else text

    def page(
        self, handler: Handler, *, admin_only: bool = False, prepare: Prepare | None = None
    ) -> Callable[[Request], Any]:
        """Wrap a handler: transaction, login, CSRF on POST, role check."""

        async def endpoint(request: Request) -> Response:
            now = utcnow()
            form = None
            if request.method == "POST":
                # The body first, outside the transaction: the write lock is not held while
                # a slow browser uploads.
                self.auth.session_token(request)
                form = await request.form(max_fields=200)
            try:
                prepared = None
                if form is not None and prepare is not None:
                    # Slow work outside the transaction (no write lock held meanwhile), but
                    # only for a logged-in staff member's genuine form.
                    async with self.sessions() as session:
                        login = await self.auth.login(request, session, now=now)
                        if admin_only and not login.is_admin:
                            raise Forbidden
                        self.auth.check_csrf(form, login)
                    prepared = await prepare(form)
                async with self.sessions.begin() as session:
                    if form is not None:
                        # A POST writes: it takes SQLite's write lock now, so no other
                        # writer's commit can make it fail halfway (storage.db).
                        await begin_writing(session)
                    login = await self.auth.login(request, session, now=now)
                    request.state.admin_language = login.staff.locale or "de"
                    if admin_only and not login.is_admin:
                        raise Forbidden
                    if form is not None:
                        self.auth.check_csrf(form, login)
                    unread = await unread_count(session, staff_id=login.staff.id)
                    ctx = Ctx(
                        request, session, login, self, now, form, unread=unread, prepared=prepared
                    )
                    try:
                        response = await handler(ctx)
                    except NotFound:
                        response = not_found(ctx)
                    if response.status_code >= 400:
                        raise _Refused(response)
                    return response
            except _Refused as refused:
                # A refused request changes nothing: its audit entries (a view of the page
                # shown again with the error) are rolled back with the rest.
                return refused.response
            finally:
                if form is not None:
                    await form.close()  # uploaded files live in temporary files

        return endpoint

    def mount(self, pages: list[Page]) -> list[Route]:
        """Starlette routes for a resource module's pages."""
        return [
            Route(
                p.path,
                self.page(p.handler, admin_only=p.admin_only, prepare=p.prepare),
                methods=list(p.methods),
            )
            for p in pages
        ]

    def render(self, ctx: Ctx, name: str, *, status: int = 200, **context: Any) -> Response:
        """A template with the staff user's language, CSRF token and navigation."""
        t = ctx.t
        tz = self.settings.tz
        done = DONE.get(ctx.request.query_params.get("done", ""))

        def when(value: datetime | None, pattern: str = "EEE dd.MM.yyyy HH:mm") -> str:
            return format_datetime(value.astimezone(tz), pattern, locale=t.locale) if value else ""

        def day(value: date | None) -> str:
            return format_date(value, "EEE dd.MM.yyyy", locale=t.locale) if value else ""

        def clock(value: Any) -> str:
            return format_time(value, "HH:mm", locale=t.locale) if value else ""

        def weekday_names(days: str) -> str:
            names = get_day_names("abbreviated", locale=t.locale)
            return ", ".join(
                names[int(d)] for d in days.split(",") if d.strip().isdigit() and int(d) < 7
            )

        def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
            return t.ngettext(singular, plural, n).format(n=n, **params)

        def named(names: dict[str, str]) -> Callable[[str | None], str]:
            return lambda code: ctx._(names[code]) if code in names else (code or "")

        values = {
            "_": ctx._,
            "ngettext": ngettext,
            "language_name": named(LANGUAGE_NAMES),
            "channel_name": named(CHANNEL_NAMES),
            "event_name": named(EVENT_NAMES),
            "event_codes": list(EVENT_NAMES),
            "now": ctx.now,
            "weekday_names": weekday_names,
            "login": ctx.login,
            "unread": ctx.unread,
            "csrf": ctx.login.csrf,
            "lang": t.code,
            "done": ctx._(done) if done else None,
            "when": when,
            "day": day,
            "clock": clock,
            "path": ctx.request.url.path,
            "quote": quote,
            **context,
        }
        return self.templates.TemplateResponse(
            ctx.request, f"admin/{name}", values, status_code=status
        )

    def bare(self, request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
        """A page outside a page handler (the login form, errors): in the staff member's
        language once the request's login is known, else German or the browser's English."""
        known = getattr(request.state, "admin_language", None)
        header = request.headers.get("accept-language", "de").lower()
        t = admin_translator(known or ("en" if header.startswith("en") else "de"))
        if context.get("error"):
            context["error"] = self.translate(t, context["error"])
        values = {
            "_": lambda message, **params: self.translate(t, message, **params),
            "lang": t.code,
            "login": None,
            **context,
        }
        return self.templates.TemplateResponse(
            request, f"admin/{name}", values, status_code=status
        )

    async def find_language(self, request: Request) -> None:
        """For an error before any page handler ran (an unknown address): the language of
        the staff member whose session cookie came along, if any."""
        if getattr(request.state, "admin_language", None):
            return
        try:
            async with self.sessions() as session:
                login = await self.auth.login(request, session, now=utcnow())
        except LoginRequired:
            return
        request.state.admin_language = login.staff.locale or "de"

    def exception_handlers(self) -> dict[Any, Callable[..., Any]]:
        """Answers for no login (redirect), a missing CSRF token, a forbidden page, an
        unknown address and a failure: each in the staff member's language."""

        async def to_login(request: Request, _exc: Exception) -> Response:
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            if request.method != "GET":
                target = "/admin"
            return RedirectResponse("/admin/login?" + urlencode({"next": target}), 303)

        async def csrf(request: Request, _exc: Exception) -> Response:
            return self.bare(
                request,
                "error.html",
                status=403,
                # TRANSLATORS: admin web; a form was sent without its security token.
                message=A_(
                    "This form has expired or came from another site. Nothing was changed. "
                    "Go back, reload the page and try again."
                ),
            )

        async def forbidden(request: Request, _exc: Exception) -> Response:
            return self.bare(
                request,
                "error.html",
                status=403,
                message=A_("Only admins may open this page."),
            )

        async def no_such_page(request: Request, exc: Exception) -> Response:
            await self.find_language(request)
            code = exc.status_code if isinstance(exc, HTTPException) else 404
            return self.bare(
                request,
                "error.html",
                status=code,
                # TRANSLATORS: admin web; an address that is not a page of the staff web.
                message=A_("This page does not exist. Check the address, or start again."),
            )

        async def failed(request: Request, _exc: Exception) -> Response:
            # The traceback is logged by the server; the database may be what failed, so
            # the language is the one the request had already found, or the browser's.
            return self.bare(
                request,
                "error.html",
                status=500,
                # TRANSLATORS: admin web; an unexpected error (a bug or the database).
                message=A_(
                    "Something went wrong on our side. Nothing was saved. Please try again "
                    "in a minute; if it happens again, tell your admin the time it happened."
                ),
            )

        return {
            LoginRequired: to_login,
            CsrfFailed: csrf,
            Forbidden: forbidden,
            404: no_such_page,
            405: no_such_page,
            500: failed,
        }


def not_found(ctx: Ctx) -> Response:
    """The same answer for "does not exist" and "not yours"."""
    return ctx.render(
        "error.html",
        status=404,
        message=A_("This record does not exist, or it is not one of yours."),
    )
