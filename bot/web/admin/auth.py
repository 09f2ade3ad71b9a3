"""Staff logins for the admin web: server-side sessions, CSRF tokens and login throttling.

The browser holds a random session cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS);
the database holds only its SHA-256, so logging out ends the session on the server. Every
state-changing request carries the session's CSRF token in a hidden field. Logins are
throttled per account and address and per address, in the database; a throttled attempt is
refused without spending a password check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.features.staff.accounts import check_password, login_candidate
from bot.plumbing.throttle import LoginThrottle
from storage.models import StaffUser
from storage.staff import add_web_session, end_web_sessions, find_web_session
from storage.states import StaffRole

SESSION_COOKIE = "wg_admin"
LOGIN_COOKIE = "wg_login"  # the login form's own CSRF token (double submit), before a session
SESSION_HOURS = 10  # a working day; idle or not, then log in again
TOUCH_EVERY = timedelta(minutes=5)  # last_seen is written at most this often


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""


class CsrfFailed(Exception):
    """A state-changing request without the session's token."""


class Forbidden(Exception):
    """The staff user's role does not allow this page."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Login:
    """The staff user behind a request, and their session's CSRF token."""

    staff: StaffUser
    csrf: str
    token_hash: str

    @property
    def is_admin(self) -> bool:
        """True for the admin role (everything); coaches see their own people only."""
        return self.staff.role == StaffRole.ADMIN


@dataclass(frozen=True)
class LoginCheck:
    """The staff id whose password matched (None if none did), or "throttled"."""

    staff_id: int | None
    throttled: bool = False


async def check_login(
    throttle: LoginThrottle,
    sessions: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    client: str,
) -> LoginCheck:
    """Every password check of the web (the login form, the invite API): count the try
    first, then check off the event loop without holding a database connection; a success
    clears the account's count."""
    tries = await throttle.attempt(email, client)
    if tries is None:
        return LoginCheck(None, throttled=True)
    async with sessions() as session:
        candidate = await login_candidate(session, email=email)
    staff_id = await check_password(candidate, password)
    if staff_id is not None:
        await throttle.succeeded(email, client, tries)
    return LoginCheck(staff_id)


class Auth:
    """Opens, finds and ends staff sessions."""

    def __init__(self, *, secure_cookies: bool, throttle: LoginThrottle) -> None:
        self.secure = secure_cookies
        self.throttle = throttle

    def session_token(self, request: Request) -> str:
        """The session cookie of this request if it can be one; else LoginRequired (before
        anything else is read: a stranger's upload is not even received)."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if not 20 <= len(token) <= 100:
            raise LoginRequired
        return token

    async def login(self, request: Request, session: AsyncSession, *, now: datetime) -> Login:
        """The session of this request; LoginRequired when there is none."""
        token_hash = _hash(self.session_token(request))
        web_session = await find_web_session(session, token_hash=token_hash, now=now)
        if web_session is None:
            raise LoginRequired
        if now - web_session.last_seen_at > TOUCH_EVERY:
            web_session.last_seen_at = now
        return Login(web_session.staff, web_session.csrf_token, token_hash)

    @staticmethod
    def check_csrf(form: FormData, login: Login) -> None:
        """CsrfFailed unless the posted form carries this session's CSRF token."""
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, login.csrf):
            raise CsrfFailed

    async def open(
        self, session: AsyncSession, response: Response, staff: StaffUser, *, now: datetime
    ) -> None:
        """Start a session for a staff user who just logged in; set its cookie."""
        token = secrets.token_urlsafe(32)
        await add_web_session(
            session,
            token_hash=_hash(token),
            staff_id=staff.id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=SESSION_HOURS * 3600,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )
        response.delete_cookie(LOGIN_COOKIE, path="/admin")

    async def close(self, session: AsyncSession, response: Response, login: Login) -> None:
        """End this session on the server and forget its cookie."""
        await end_web_sessions(session, token_hash=login.token_hash)
        response.delete_cookie(SESSION_COOKIE, path="/admin")

    def login_token(self, request: Request) -> tuple[str, bool]:
        """The login form's CSRF token: the browser's, or a new one to set."""
        token = request.cookies.get(LOGIN_COOKIE, "")
        if 20 <= len(token) <= 100:
            return token, False
        return secrets.token_urlsafe(24), True

    def set_login_token(self, response: Response, token: str) -> None:
        """Remember the login form's token in a short-lived cookie."""
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=3600,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )
