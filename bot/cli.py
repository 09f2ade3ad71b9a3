"""The `wegweiser` command: run, demo, db upgrade, admin create / link-chat / unlock, invite."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.settings import ConfigError, Settings, load_settings

DEMO_DATABASE = "sqlite+aiosqlite:///./wegweiser-demo.db"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        # The demo uses its own SQLite file unless DATABASE_URL says otherwise.
        demo_db = args.command == "demo" and "DATABASE_URL" not in os.environ
        overrides = {"database_url": DEMO_DATABASE} if demo_db else {}
        settings = load_settings(**overrides)
        from bot.app import configure_logging

        configure_logging(settings.log_level)
        return int(asyncio.run(args.func(settings, args)) or 0)
    except ConfigError as error:
        print(f"wegweiser: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wegweiser")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wegweiser", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wegweiser {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="serve the web chat and, with a token, Telegram")
    run.set_defaults(func=_run)

    demo = commands.add_parser("demo", help="SQLite + demo data + web chat, no token needed")
    demo.add_argument("--port", type=int, help="web port (default WEB_PORT or 8080)")
    demo.set_defaults(func=_demo)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="migrate to the newest schema").set_defaults(
        func=_db_upgrade
    )

    admin = commands.add_parser("admin", help="staff accounts")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    create = admin_commands.add_parser("create", help="create a staff user")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", choices=("admin", "coach"), default="admin")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=_admin_create)
    link = admin_commands.add_parser(
        "link-chat", help="a one-time link that connects a staff user's own Telegram chat"
    )
    link.add_argument("--email", required=True)
    link.set_defaults(func=_admin_link_chat)
    unlock = admin_commands.add_parser(
        "unlock", help="lift the lock after wrong passwords for a staff user, from every address"
    )
    unlock.add_argument("--email", required=True)
    unlock.set_defaults(func=_admin_unlock)

    i18n = commands.add_parser("i18n", help="translations")
    i18n_commands = i18n.add_subparsers(dest="i18n_command", metavar="ACTION", required=True)
    i18n_commands.add_parser(
        "report", help="coverage per language; exit 1 on a missing, fuzzy or broken entry"
    ).set_defaults(func=_i18n_report)

    people = commands.add_parser("participants", help="participants")
    people_commands = people.add_subparsers(
        dest="participants_command", metavar="ACTION", required=True
    )
    load = people_commands.add_parser(
        "import", help="import participants from CSV (name,language,module,coach); all or nothing"
    )
    load.add_argument("file", help="CSV file, UTF-8, comma or semicolon separated")
    load.add_argument(
        "--as", dest="actor", help="e-mail of the staff user importing (default: the first admin)"
    )
    load.add_argument("--dry-run", action="store_true", help="check only; import nothing")
    load.set_defaults(func=_participants_import)

    commands.add_parser(
        "report", help="outcomes per module and in total (reached, supported at the end, ...)"
    ).set_defaults(func=_report)

    invite = commands.add_parser("invite", help="make a one-time invite link for a participant")
    invite.add_argument("participant", type=int, help="participant id")
    invite.set_defaults(func=_invite)
    return parser


async def _run(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import serve

    await serve(settings)
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.app import prepare_database, serve
    from bot.demo import ADMIN_EMAIL, ADMIN_PASSWORD, COACH_EMAIL, COACH_PASSWORD, seed_demo
    from bot.features.onboarding.invites import create_invite
    from storage.db import make_sessionmaker
    from storage.models import Participant
    from storage.types import utcnow

    settings = settings.model_copy(
        update={
            "telegram_bot_token": None,
            "telegram_webhook_url": None,
            "web_port": args.port or settings.web_port,
        }
    )
    from bot.app import check_port_free

    check_port_free(settings)  # before printing links that would lead nowhere
    engine = await prepare_database(settings)
    async with make_sessionmaker(engine).begin() as session:
        now = utcnow()
        await seed_demo(session, now=now, tz=settings.tz)
        participants = await session.scalars(
            select(Participant)
            .where(Participant.status == "active")
            .order_by(Participant.id)
            .limit(4)
        )
        invites = []
        for participant in participants.all():
            invite = await create_invite(
                session, participant=participant, now=now, valid_days=settings.invite_valid_days
            )
            invites.append((participant.display_name, invite))
    await engine.dispose()
    url = settings.public_web_url
    print(f"Wegweiser demo: open {url}/chat")
    print("Demo invites (each works once; restart the demo for new ones):")
    for name, invite in invites:
        print(f"  {name:8} {invite.web_link(url)}")
        print(f"  {'':8} or type in the chat: /start {invite.token}")
    print(f"Staff web: {url}/admin")
    print(f"  admin: {ADMIN_EMAIL} / {ADMIN_PASSWORD}")
    print(f"  coach: {COACH_EMAIL} / {COACH_PASSWORD} (sees only her own participants)")
    print("Stop with Ctrl+C.", flush=True)
    await serve(settings)
    return 0


async def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.db import make_engine, upgrade

    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    print("database is up to date")
    return 0


async def _admin_create(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import prepare_database
    from bot.features.staff.accounts import create_staff
    from storage.db import make_sessionmaker

    if not args.name.strip():
        print("wegweiser: --name must not be empty", file=sys.stderr)
        return 1
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("The same password again: ") != password:
            print("wegweiser: the two passwords differ; nothing was created", file=sys.stderr)
            return 1
    if not password.strip():
        print("wegweiser: the password must not be only spaces", file=sys.stderr)
        return 1
    engine = await prepare_database(settings)
    try:
        async with make_sessionmaker(engine).begin() as session:
            user = await create_staff(
                session,
                email=args.email,
                display_name=args.name,
                role=args.role,
                password=password,
            )
    except ValueError as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"created {args.role} {user.email} (id {user.id})")
    return 0


async def _admin_link_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import link_bot_username, prepare_database
    from bot.features.onboarding.invites import create_staff_invite
    from storage.db import make_sessionmaker
    from storage.staff import find_staff_by_email
    from storage.types import utcnow

    engine = await prepare_database(settings)
    try:
        sessions = make_sessionmaker(engine)
        bot_username = await link_bot_username(settings, sessions)  # Telegram only: stops without
        async with sessions.begin() as session:
            staff = await find_staff_by_email(session, email=args.email.strip())
            if staff is None or not staff.active:
                print(f"wegweiser: no active staff user {args.email}", file=sys.stderr)
                return 1
            invite = await create_staff_invite(
                session, staff=staff, now=utcnow(), valid_days=settings.invite_valid_days
            )
    finally:
        await engine.dispose()
    print(invite.telegram_link(bot_username))
    print(f"valid until {invite.expires_at.astimezone(settings.tz):%Y-%m-%d %H:%M}")
    return 0


async def _admin_unlock(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import prepare_database
    from bot.plumbing.throttle import LoginThrottle, Throttle
    from storage import audit
    from storage.db import make_sessionmaker
    from storage.staff import find_staff_by_email

    email = args.email.strip().lower()
    engine = await prepare_database(settings)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            staff = await find_staff_by_email(session, email=email)
        if staff is None:
            print(f"wegweiser: no staff user {args.email}", file=sys.stderr)
            return 1
        tries = await LoginThrottle(Throttle(sessions)).unlock(email)
        async with sessions.begin() as session:
            await audit.record(
                session,
                actor="cli",
                action="staff.unlocked",
                object_type="staff",
                object_id=staff.id,
                detail={"tries": tries},
            )
    finally:
        await engine.dispose()
    print(f"unlocked {email} ({tries} counted tries forgotten)")
    return 0


async def _participants_import(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.app import prepare_database
    from bot.features.roster import MAX_IMPORT_BYTES, import_participants
    from bot.i18n import admin_translator
    from storage.db import make_sessionmaker
    from storage.models import StaffUser
    from storage.staff import find_staff_by_email

    try:
        data = (await asyncio.to_thread(Path(args.file).read_bytes))[: MAX_IMPORT_BYTES + 1]
    except OSError as error:
        print(f"wegweiser: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    t = admin_translator("en")
    engine = await prepare_database(settings)
    try:
        async with make_sessionmaker(engine).begin() as session:
            if args.actor:
                actor = await find_staff_by_email(session, email=args.actor.strip())
            else:
                actor = await session.scalar(
                    select(StaffUser)
                    .where(StaffUser.role == "admin", StaffUser.active.is_(True))
                    .order_by(StaffUser.id)
                )
            if actor is None or not actor.active:
                print("wegweiser: no such active staff user; use --as EMAIL", file=sys.stderr)
                return 1
            result = await import_participants(
                session, actor=actor, data=data, dry_run=args.dry_run
            )
    finally:
        await engine.dispose()
    for problem in result.errors:
        where = f"line {problem.line}" if problem.line else "file"
        column = f", column {problem.column}" if problem.column else ""
        message = t.gettext(problem.message).format(**problem.params)
        print(f"{args.file}: {where}{column}: {message}", file=sys.stderr)
    if result.errors:
        problems = "1 problem" if len(result.errors) == 1 else f"{len(result.errors)} problems"
        print(f"wegweiser: {problems}; nothing was imported", file=sys.stderr)
        return 1
    verb = "would import" if args.dry_run else "imported"
    count = len(result.created)
    print(f"{verb} {count} participant{'' if count == 1 else 's'}")
    return 0


async def _report(settings: Settings, _args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.app import prepare_database
    from bot.features.roster import OUTCOMES
    from bot.i18n import A_, admin_translator
    from storage.db import make_sessionmaker
    from storage.models import Module
    from storage.overview import outcome_counts

    engine = await prepare_database(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            counts = await outcome_counts(session)
            modules = list(await session.scalars(select(Module).order_by(Module.id)))
    finally:
        await engine.dispose()
    t = admin_translator("de")
    columns: list[tuple[str, Mapping[str, int]]] = [
        (m.code, counts.get(m.id, {})) for m in modules
    ]
    if counts.get(None):
        columns.append(("-", counts[None]))
    labels = {
        "reached": t.gettext(A_("Reached")),
        "supported_at_end": t.gettext(A_("Still supported at the end")),
        **{key: "  " + t.gettext(label) for key, label in OUTCOMES.items()},
    }
    width = max(len(label) for label in labels.values())
    print(" " * width + "".join(f"{code[:12]:>13}" for code, _ in columns) + f"{'total':>8}")
    for key, label in labels.items():
        values = [c.get(key, 0) for _, c in columns]
        cells = "".join(f"{v:>13}" for v in values)
        print(f"{label:<{width}}{cells}{sum(values):>8}")
    return 0


async def _i18n_report(_settings: Settings, _args: argparse.Namespace) -> int:
    from bot.i18n_check import main as report

    return report()


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import link_bot_username, prepare_database
    from bot.features.onboarding.invites import create_invite
    from storage.db import make_sessionmaker
    from storage.models import Participant
    from storage.types import utcnow

    engine = await prepare_database(settings)
    try:
        sessions = make_sessionmaker(engine)
        bot_username, no_telegram = None, ""
        try:
            bot_username = await link_bot_username(settings, sessions)
        except ConfigError as why:  # the web chat link still works
            no_telegram = f"no Telegram link: {why}"
        async with sessions.begin() as session:
            participant = await session.get(Participant, args.participant)
            if participant is None or participant.status != "active":
                print(
                    f"wegweiser: no active participant with id {args.participant}", file=sys.stderr
                )
                return 1
            invite = await create_invite(
                session,
                participant=participant,
                now=utcnow(),
                valid_days=settings.invite_valid_days,
            )
    finally:
        await engine.dispose()
    print(invite.telegram_link(bot_username) if bot_username else no_telegram)
    print(invite.web_link(settings.public_web_url))
    print(f"valid until {invite.expires_at.astimezone(settings.tz):%Y-%m-%d %H:%M}")
    return 0
