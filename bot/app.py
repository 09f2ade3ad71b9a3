"""Start everything in one asyncio process: database, web server and Telegram."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import InvalidToken, NetworkError

from bot.channels.telegram import ALLOWED_UPDATES, build_application, publish_commands
from bot.channels.webchat import WebChatSender
from bot.features import FEATURES, welcome
from bot.i18n import compile_catalogs
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.jobs import build_scheduler
from bot.plumbing.delivery import Sender
from bot.plumbing.router import Router
from bot.settings import ConfigError, Settings
from bot.web.app import create_app
from storage.db import make_engine, make_sessionmaker, upgrade

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    """Plain log lines; chatty libraries at WARNING so no message bodies reach the log."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def prepare_database(settings: Settings) -> AsyncEngine:
    """Open the database; the embedded SQLite default brings its schema up to date itself."""
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
    return engine


async def serve(settings: Settings) -> None:
    """Run the web server, and Telegram when a token is set, until SIGINT/SIGTERM."""
    compile_catalogs()
    engine = await prepare_database(settings)
    sessions = make_sessionmaker(engine)
    router = Router(settings, sessions, FEATURES, welcome)
    telegram = build_application(settings, router) if settings.telegram_bot_token else None
    web = create_app(settings, sessions, router, telegram)
    senders: dict[str, Sender] = {"web": WebChatSender(web.state.webchat)}
    if telegram is not None:
        senders["telegram"] = telegram.bot_data["sender"]
    dispatcher = Dispatcher(
        sessions=sessions, routes=router.routes, settings=settings, senders=senders
    )
    scheduler = build_scheduler(
        settings=settings, sessions=sessions, routes=router.routes, dispatcher=dispatcher
    )
    server = uvicorn.Server(
        uvicorn.Config(
            web,
            host=settings.web_host,
            port=settings.web_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    try:
        if telegram is not None:
            await _start_telegram(settings, telegram)
        else:
            log.warning("TELEGRAM_BOT_TOKEN is not set: serving the web chat only")
        scheduler.start()
        log.info("web server on %s", settings.public_web_url)
        await server.serve()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        async with asyncio.timeout(15):
            released = await dispatcher.stop()
        if released:
            log.info("released %d claimed pushes", released)
        if telegram is not None:
            await _stop_telegram(telegram)
        await engine.dispose()


async def _start_telegram(settings: Settings, telegram: object) -> None:
    from telegram.ext import Application

    assert isinstance(telegram, Application)
    try:
        await telegram.initialize()
    except InvalidToken:
        raise ConfigError("TELEGRAM_BOT_TOKEN: Telegram does not accept this token") from None
    except NetworkError as error:
        raise ConfigError(f"TELEGRAM_API_URL: cannot reach the Bot API ({error})") from None
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
