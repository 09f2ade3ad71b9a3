"""Start everything in one asyncio process: database, web server and Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.signal import SignalReceiver, SignalSender
from bot.channels.telegram import (
    ALLOWED_UPDATES,
    build_application,
    fetch_bot_username,
    publish_commands,
    refusals_as_config_errors,
)
from bot.channels.telegram_budget import SharedBudget
from bot.channels.webchat import WebChatSender
from bot.features import FEATURES, welcome
from bot.i18n import compile_catalogs
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.jobs import build_scheduler
from bot.plumbing.delivery import Sender
from bot.plumbing.router import Router
from bot.settings import ConfigError, Settings
from bot.web.app import create_app
from storage.db import at_head, make_engine, make_sessionmaker, upgrade
from storage.secrets import recalled_value, remember_value, stored_secret

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 15


async def prepare_database(settings: Settings, *, migrate: bool = True) -> AsyncEngine:
    """Open the database, or stop with one line naming the setting and the fix.

    The embedded SQLite default brings its schema up to date itself; PostgreSQL must be
    migrated with `wegweiser db upgrade` (one process, before the others start).
    """
    engine = make_engine(settings.database_url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _check_sqlite_path(engine)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(at_head) if not sqlite else True
    except Exception as error:  # any driver's way of saying "no"
        await engine.dispose()
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
        raise ConfigError(
            f"DATABASE_URL: cannot open the database ({type(error).__name__}: {reason}). "
            "Check host, port, database name, user and password, and that the server runs."
        ) from None
    if sqlite and migrate:
        await upgrade(engine)
    elif not current and migrate:
        await engine.dispose()
        raise ConfigError(
            "DATABASE_URL: the database schema is not up to date. Run: wegweiser db upgrade"
        )
    return engine


async def with_webhook_secret(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Settings:
    """In webhook mode the secret is required: the configured one, or one generated once
    and stored in the database, so every process checks the same header."""
    if not settings.webhook_mode or settings.telegram_webhook_secret:
        return settings
    async with sessions.begin() as session:
        secret = await stored_secret(
            session, name="telegram_webhook_secret", make=lambda: secrets.token_urlsafe(32)
        )
    log.info("Telegram webhook: using the stored, generated secret")
    return settings.model_copy(update={"telegram_webhook_secret": secret})


async def with_bot_username(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Settings:
    """Invite links open the token's own bot: its username from Telegram's getMe, stored
    for the commands that run without Telegram. A TELEGRAM_BOT_USERNAME that names another
    bot stops the start."""
    if not settings.telegram_bot_token:
        return settings
    username = await fetch_bot_username(settings)
    configured = settings.telegram_bot_username
    if configured and configured.lower() != username.lower():  # Telegram ignores the case
        raise ConfigError(
            f"TELEGRAM_BOT_USERNAME: {configured} is not the bot of TELEGRAM_BOT_TOKEN, which "
            f"is @{username}; set TELEGRAM_BOT_USERNAME={username} or leave it empty"
        )
    async with sessions.begin() as session:
        await remember_value(session, name=_username_key(settings), value=username)
    return settings.model_copy(update={"telegram_bot_username": username})


async def link_bot_username(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> str:
    """The bot a Telegram link made outside `wegweiser run` opens: the name getMe gave at
    the last start, else TELEGRAM_BOT_USERNAME; ConfigError when Telegram is not set up."""
    if not settings.telegram_bot_token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN: not set, so Telegram is not set up; "
            "set it to the token from @BotFather"
        )
    async with sessions() as session:
        stored = await recalled_value(session, name=_username_key(settings))
    if stored or settings.telegram_bot_username:
        return stored or settings.telegram_bot_username
    raise ConfigError(
        "TELEGRAM_BOT_USERNAME: the bot's name is not known yet; start `wegweiser run` once "
        "(it asks Telegram), or set TELEGRAM_BOT_USERNAME"
    )


def _username_key(settings: Settings) -> str:
    """Per bot (the token's numeric prefix), so a new token never uses the old bot's name."""
    assert settings.telegram_bot_token
    return "telegram_username:" + settings.telegram_bot_token.split(":", 1)[0]


def _check_sqlite_path(engine: AsyncEngine) -> None:
    database = engine.url.database
    if not database or database == ":memory:":
        return
    folder = Path(database).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigError(
            f"DATABASE_URL: cannot write the SQLite file in {folder}. "
            "Choose a folder this user may write to."
        )


def check_port_free(settings: Settings) -> None:
    """Stop with one line if the web port is taken, before anything else starts."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.web_host, settings.web_port))
        except OSError:
            raise ConfigError(
                f"WEB_PORT: {settings.web_host}:{settings.web_port} is in use by another "
                "program. Stop it, or choose another WEB_PORT."
            ) from None


def settle_heap() -> None:
    """Once start-up has loaded everything: keep it out of the garbage collector's view.

    Modules, fifteen catalogs and the ORM's mappers are hundreds of thousands of objects
    that live as long as the process; every full collection walked all of them, a pause of
    50-90 ms in which no chat got an answer and the pacer missed its slots (measured in
    bench/broadcast.py). Frozen, a full collection walks only what the running bot made:
    about 5 ms. What start-up left as garbage is collected first.
    """
    gc.collect()
    gc.freeze()


async def serve(settings: Settings) -> None:
    """Run the web server, and Telegram when a token is set, until SIGINT/SIGTERM."""
    compile_catalogs()
    check_port_free(settings)
    engine = await prepare_database(settings)
    sessions = make_sessionmaker(engine)
    settings = await with_webhook_secret(settings, sessions)
    settings = await with_bot_username(settings, sessions)
    router = Router(settings, sessions, FEATURES, welcome)
    telegram = build_application(settings, router) if settings.telegram_bot_token else None
    web = create_app(settings, sessions, router, telegram)
    senders: dict[str, Sender] = {"web": WebChatSender(web.state.webchat)}
    if telegram is not None:
        senders["telegram"] = telegram.bot_data["sender"]
    signal_in = None
    if settings.signal_rpc_url and settings.signal_account:
        signal_out = SignalSender(
            rpc_url=settings.signal_rpc_url, account=settings.signal_account, sessions=sessions
        )
        senders["signal"] = signal_out
        signal_in = SignalReceiver(
            events_url=settings.signal_rpc_url, router=router, sender=signal_out
        )
    dispatcher = Dispatcher(
        sessions=sessions, routes=router.routes, settings=settings, senders=senders
    )
    scheduler = build_scheduler(
        settings=settings, sessions=sessions, routes=router.routes, dispatcher=dispatcher
    )
    server = _Server(
        uvicorn.Config(
            web,
            host=settings.web_host,
            port=settings.web_port,
            log_level="warning",
            log_config=None,  # its records go to our handler: one line each, LOG_FORMAT
            lifespan="off",
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    web_task: asyncio.Task[None] | None = None
    budget = None
    if telegram is not None and engine.dialect.name == "postgresql":
        budget = SharedBudget(sessions, telegram.bot_data["pacers"])  # every process sends
    settle_heap()
    try:
        if budget is not None:
            await budget.start()
        if telegram is not None:
            await _start_telegram(settings, telegram)
        else:
            log.warning("TELEGRAM_BOT_TOKEN is not set: serving the web chat only")
        if signal_in is not None:
            signal_in.start()
            log.info("Signal: listening to the signal-cli daemon")
        scheduler.start()
        web_task = asyncio.create_task(server.serve())
        log.info("web server on %s", settings.public_web_url)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({web_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        log.info("stopping: finishing what was started")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if signal_in is not None:
            await signal_in.stop()  # unread messages wait on the Signal server
        await _shut_down(telegram, scheduler, dispatcher, server, web_task)
        if budget is not None:
            await budget.stop()
        if signal_in is not None:
            await signal_in.sender.close()
        await engine.dispose()


async def _shut_down(
    telegram: object,
    scheduler: AsyncIOScheduler,
    dispatcher: Dispatcher,
    server: uvicorn.Server,
    web_task: asyncio.Task[None] | None,
) -> None:
    """Stop in order, within 15 s: take no more updates, answer the ones already fetched,
    finish the sends in flight, give back claimed pushes, then close the web server."""
    from telegram.ext import Application

    try:
        async with asyncio.timeout(SHUTDOWN_SECONDS):
            if isinstance(telegram, Application):
                if telegram.updater is not None and telegram.updater.running:
                    await telegram.updater.stop()  # no more getUpdates
                if telegram.running:
                    await telegram.stop()  # answers every update already fetched
            # The batch in flight ends and is recorded before the scheduler goes: shutting it
            # down cancels running jobs, and a cancelled batch would be sent twice.
            released = await dispatcher.stop()
            if released:
                log.info("released %d claimed pushes", released)
            if scheduler.running:
                scheduler.shutdown(wait=False)
            if telegram is not None:
                await _stop_telegram(telegram)  # closes the HTTP client last
            server.should_exit = True
            if web_task is not None:
                await web_task
    except TimeoutError:
        log.warning("shutdown took longer than %d s; leases expire on their own", SHUTDOWN_SECONDS)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `serve()` stops the parts in order.

    uvicorn's handlers re-raise SIGTERM after it stops, which killed the process before the
    Telegram application had answered the updates it had already fetched.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to `serve()`."""
        yield


async def _start_telegram(settings: Settings, telegram: object) -> None:
    from telegram.ext import Application

    assert isinstance(telegram, Application)
    with refusals_as_config_errors():
        await telegram.initialize()
    await publish_commands(telegram)
    await telegram.start()
    if not settings.telegram_receive:
        log.info("Telegram: sending only (TELEGRAM_RECEIVE=false), another process receives")
        return
    if settings.webhook_mode:
        await telegram.bot.set_webhook(
            settings.telegram_webhook_url or "",
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("Telegram: webhook mode")
    else:
        await telegram.bot.delete_webhook()
        assert telegram.updater is not None
        await telegram.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        log.info("Telegram: polling as @%s", telegram.bot.username)


async def _stop_telegram(telegram: object) -> None:
    from telegram.ext import Application

    assert isinstance(telegram, Application)
    if telegram.updater is not None and telegram.updater.running:
        await telegram.updater.stop()
    if telegram.running:
        await telegram.stop()
    await telegram.shutdown()
