"""The web server: web chat, staff admin, invite API, Telegram webhook and health checks."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.webchat import COOKIE, WebChat, form_token
from bot.features.onboarding.chat import TOO_MANY_CODES
from bot.features.onboarding.invites import create_invite
from bot.i18n import DEFAULT, match_language, translator
from bot.plumbing.messages import Incoming
from bot.plumbing.router import MAX_TEXT, Router
from bot.plumbing.throttle import (
    CODES_PER_ADDRESS,
    BadCodeThrottle,
    LoginThrottle,
    SlowLane,
    Throttle,
)
from bot.plumbing.voice import Voice
from bot.settings import Settings
from bot.web.admin import admin_app
from bot.web.admin.auth import check_login
from bot.web.chat_lines import paragraphs
from bot.web.metrics import metrics_page
from storage.db import at_head
from storage.models import Participant, StaffUser
from storage.types import utcnow

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["paragraphs"] = paragraphs
MAX_FORM_TEXT = 5000  # the router answers long texts; this only bounds what we accept
MAX_WEBHOOK_BODY = 1_000_000  # bytes; Telegram's updates are far smaller
MAX_INVITE_BODY = 1024  # bytes; {"participant_id": N} needs a few dozen
MAX_ROW_ID = 2**31 - 1  # ids are PostgreSQL integers; a larger number is no participant
WAIT_SECONDS = 20.0  # how long an open chat page's request waits for news
WAIT_STEP = 1.0  # how often it looks at the stored transcript meanwhile
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])  # keeps \t \n \r


def create_app(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    router: Router,
    telegram: Any = None,
) -> Starlette:
    """Build the Starlette app; `telegram` is the PTB application in webhook mode."""
    chat = WebChat(router)
    throttle = Throttle(sessions)
    logins = LoginThrottle(throttle)  # staff passwords: the admin login and the invite API
    codes_by_address = BadCodeThrottle(throttle, limit=CODES_PER_ADDRESS)
    slow_codes = SlowLane(throttle)

    async def chat_key(request: Request) -> tuple[str, bool]:
        """The browser's chat key, if this deployment made it; else a new one (never a
        planted cookie). A new key is only signed here: it is stored when the browser first
        posts, so a page view writes nothing."""
        key = request.cookies.get(COOKIE)
        if key and 16 <= len(key) <= 64 and await chat.accepts(key):
            return key, False
        return await chat.new_key(), True

    def with_cookie(response: Response, key: str, fresh: bool) -> Response:
        if fresh:
            response.set_cookie(
                COOKIE,
                key,
                max_age=90 * 24 * 3600,
                httponly=True,
                samesite="lax",
                secure=settings.public_web_url.startswith("https://"),
            )
        return response

    def client_language(request: Request) -> str | None:
        header = request.headers.get("accept-language", "")
        return header.split(",")[0].split(";")[0].strip() or None

    async def render_page(
        request: Request, key: str, fresh: bool, *, status_code: int = 200
    ) -> Response:
        # Opening an invite link only shows a button: link previews and mail scanners open
        # links too, and a GET that redeemed would burn the invite before the person came.
        token = request.query_params.get("start")
        transcript = await chat.transcript(key)
        language = match_language(client_language(request)) or DEFAULT
        t = translator(language)
        context = {
            "transcript": transcript,
            "max_text": MAX_TEXT,  # the same limit the bot answers for
            "start": token[:100] if token is not None else None,
            # TRANSLATORS: the button on the page an invite link opens in the web chat.
            "connect": t.gettext("Connect with my link"),
            "lang": language,
            "rtl": t.rtl,
            "csrf": form_token(key),
        }
        response = templates.TemplateResponse(
            request, "chat.html", context, status_code=status_code
        )
        return with_cookie(response, key, fresh)

    async def chat_page(request: Request) -> Response:
        key, fresh = await chat_key(request)
        return await render_page(request, key, fresh)

    async def chat_wait(request: Request) -> Response:
        """Long polling for an open page: answers as soon as the stored transcript differs
        from the page's version (a push, or an answer made by another process), else 204
        after WAIT_SECONDS. The page asks again at once; without JavaScript a reload shows
        the same."""
        key = request.cookies.get(COOKIE)
        if not key or not 16 <= len(key) <= 64 or not await chat.accepts(key):
            return PlainTextResponse("No chat", status_code=400)
        shown = request.query_params.get("v", "")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        async with asyncio.timeout(WAIT_SECONDS + 10):  # a stuck query ends the wait too
            while True:
                transcript = await chat.transcript(key)
                if transcript.version != shown:
                    html = templates.get_template("chat_entries.html").render(
                        transcript=transcript, csrf=form_token(key), start=None
                    )
                    return JSONResponse(
                        {
                            "version": transcript.version,
                            "html": html,
                            "lang": transcript.lang.replace("_", "-"),
                            "rtl": transcript.rtl,
                        }
                    )
                if loop.time() >= deadline or await request.is_disconnected():
                    return Response(status_code=204)
                await asyncio.sleep(WAIT_STEP)

    async def chat_post(request: Request) -> Response:
        key, fresh = await chat_key(request)
        form = await request.form(max_files=0, max_fields=10)
        language = client_language(request)
        sent = form.get("csrf")
        if fresh or not isinstance(sent, str) or not hmac.compare_digest(sent, form_token(key)):
            # A post from another site, or from a page older than this chat's key: nothing
            # is done; the chat page opens again with a fresh form.
            return with_cookie(RedirectResponse("/chat#end", status_code=303), key, fresh)
        client = request.client.host if request.client else "unknown"
        data, typed, start = (_form_text(form.get(name)) for name in ("cb", "text", "start"))
        entry = form.get("entry")
        entry_id = _row_id(entry) if entry is not None else None
        if data and entry is not None and entry_id is None:
            # A forged or broken entry number: refused before anything is done.
            return await render_page(request, key, fresh, status_code=400)
        await chat.posted(key)
        anchor = "end"
        if typed is not None:  # "/start CODE" typed in the box is an invite too
            typed_command = Incoming("web", "", text=typed.strip())
            if typed_command.command == "/start" and typed_command.argument:
                start, typed = typed_command.argument, None
        if start:
            # An invite: redeem it now that the person is here, then give the browser a new
            # key, so a key planted before the binding cannot read the bound chat. Wrong codes
            # are counted per client address too (a new cookie does not reset the count); past
            # the address's limit a code still counts, but waits for its slow turn.
            was_bound = await chat.is_bound(key)
            busy = not was_bound and not await codes_by_address.allowed(client)
            if busy and not await slow_codes.enter(client):
                voice = Voice.for_language(
                    match_language(language) or DEFAULT, tz=settings.tz, now=utcnow()
                )
                await chat.answer_only(key, "/start …", voice.reply(voice._(TOO_MANY_CODES)))
            else:
                await chat.send_text(key, f"/start {start.strip()[:100]}", language)
                if not was_bound and await chat.is_bound(key):
                    key, fresh = await chat.rotate(key), True
                elif not was_bound:
                    await codes_by_address.failed(client)
        elif data:
            edited = await chat.press(key, data[:200], entry_id, language)
            if edited is not None:
                anchor = f"m{edited}"  # the changed message and its notice, not the bottom
        elif typed is not None and typed.strip():
            await chat.send_text(key, typed.strip()[:MAX_FORM_TEXT], language)
        return with_cookie(RedirectResponse(f"/chat#{anchor}", status_code=303), key, fresh)

    async def chat_file(request: Request) -> Response:
        key, _ = await chat_key(request)
        entry_id = _row_id(request.path_params["entry_id"])
        reply = await chat.document(key, entry_id) if entry_id is not None else None
        if reply is None or reply.document is None:
            return PlainTextResponse("Not found", status_code=404)
        document = reply.document
        return Response(
            document.content,
            media_type=document.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
        )

    async def health(_request: Request) -> Response:
        """Liveness: the process answers. Readiness is /readyz."""
        return PlainTextResponse("ok")

    async def ready(_request: Request) -> Response:
        """Readiness: the database answers, its schema is current, each channel runs."""
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(5), sessions() as session:
                connection = await session.connection()
                current = await connection.run_sync(at_head)
            checks["database"] = "ok"
            checks["schema"] = "current" if current else "outdated: run wegweiser db upgrade"
        except Exception:
            checks["database"] = "unreachable"
        checks["web chat"] = "ok"
        if telegram is not None:
            checks["telegram"] = "ok" if getattr(telegram, "running", False) else "stopped"
        ok = all(value in {"ok", "current"} for value in checks.values())
        return JSONResponse(checks, status_code=200 if ok else 503)

    async def api_invite(request: Request) -> Response:
        staff = await _basic_auth(request, sessions, logins)
        if staff is None:
            return JSONResponse(
                {"error": "login required"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="wegweiser"'},
            )
        body = await _limited_body(request, MAX_INVITE_BODY)
        if body is None:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        participant_id = _participant_id(body)
        if participant_id is None:
            return JSONResponse({"error": 'send JSON {"participant_id": N}'}, status_code=400)
        async with sessions.begin() as session:
            participant = await session.get(Participant, participant_id)
            if participant is None or (staff.role == "coach" and participant.coach_id != staff.id):
                return JSONResponse({"error": "no such participant"}, status_code=404)
            if participant.status != "active":
                return JSONResponse(
                    {"error": f"participant is {participant.status}"}, status_code=409
                )
            invite = await create_invite(
                session,
                participant=participant,
                now=utcnow(),
                valid_days=settings.invite_valid_days,
                created_by_id=staff.id,
            )
        telegram_name = settings.telegram_link_username
        return JSONResponse(
            {
                "participant_id": participant_id,
                # None without TELEGRAM_BOT_TOKEN: the web link is the only way in then.
                "telegram_link": invite.telegram_link(telegram_name) if telegram_name else None,
                "web_link": invite.web_link(settings.public_web_url),
                "expires_at": invite.expires_at.isoformat(),
            },
            status_code=201,
        )

    async def telegram_webhook(request: Request) -> Response:
        from telegram import Update

        secret = request.headers.get("x-telegram-bot-api-secret-token", "")
        expected = settings.telegram_webhook_secret or ""
        if telegram is None or not hmac.compare_digest(secret.encode(), expected.encode()):
            return PlainTextResponse("Forbidden", status_code=403)
        body = await _limited_body(request, MAX_WEBHOOK_BODY)
        try:
            data = json.loads(body) if body is not None else None
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, telegram.bot)
        except Exception:
            log.info("malformed webhook body refused")
            return PlainTextResponse("Bad Request", status_code=400)
        await telegram.update_queue.put(update)
        return PlainTextResponse("ok")

    routes = [
        Route("/", lambda _r: RedirectResponse("/chat")),
        Route("/chat", chat_page, methods=["GET"]),
        Route("/chat", chat_post, methods=["POST"]),
        Route("/chat/wait", chat_wait, methods=["GET"]),
        Route("/chat/file/{entry_id}", chat_file),
        Route("/healthz", health),
        Route("/readyz", ready),
        Route("/metrics", metrics_page(settings, sessions)),
        Route("/api/invites", api_invite, methods=["POST"]),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
        Mount("/admin", app=admin_app(settings, sessions, router.routes, logins)),
    ]
    if settings.webhook_mode and settings.telegram_webhook_url:
        path = urlparse(settings.telegram_webhook_url).path or "/telegram/webhook"
        routes.append(Route(path, telegram_webhook, methods=["POST"]))
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.webchat = chat
    return app


class SecurityHeaders:
    """Headers for every page: no framing, no sniffing, no referrer leaks, a strict CSP, and
    no caching of pages that hold someone's conversation."""

    HEADERS = (
        (
            b"content-security-policy",
            b"default-src 'self'; style-src 'self' 'unsafe-inline'; "
            b"img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to each HTTP response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _row_id(value: object) -> int | None:
    """A database id from a form or a path: ASCII digits within PostgreSQL's integer, or
    None ("²" and "١" are digits to isdigit(), and 30 digits overflow the column)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    if len(value) > 10:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ROW_ID else None


def _form_text(value: object) -> str | None:
    """A form field as text without control characters (PostgreSQL stores no NUL)."""
    return value.translate(_CONTROL) if isinstance(value, str) else None


def _participant_id(body: bytes) -> int | None:
    """The id in {"participant_id": N}, N a plain JSON integer (not 1.9, true or "1")."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested a thousand deep
        return None
    value = data.get("participant_id") if isinstance(data, dict) else None
    if type(value) is not int or not 1 <= value <= MAX_ROW_ID:  # bool is an int subclass
        return None
    return value


async def _limited_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body


async def _basic_auth(
    request: Request, sessions: async_sessionmaker[AsyncSession], logins: LoginThrottle
) -> Any:
    """The staff user of an HTTP Basic header, throttled like the admin login."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        email, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client = request.client.host if request.client else "unknown"
    checked = await check_login(
        logins, sessions, email=email.strip().lower()[:254], password=password, client=client
    )
    if checked.staff_id is None:
        return None
    async with sessions() as session:
        return await session.get(StaffUser, checked.staff_id)
