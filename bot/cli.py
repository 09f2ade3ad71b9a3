"""The `wegweiser` command: run, demo, db upgrade, backup, restore, admin (create, list,
deactivate, reset-password, link-chat, unlock), invite, participants import, report."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
        from bot.logs import configure_logging

        configure_logging(settings.log_level, settings.log_format)
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

    backup = commands.add_parser(
        "backup", help="copy the whole database into a new file, also while it runs"
    )
    backup.add_argument(
        "path", help="the new file (SQLite: a database file; PostgreSQL: pg_dump's)"
    )
    backup.set_defaults(func=_backup)
    restore = commands.add_parser(
        "restore", help="put a backup into an empty database (stop the instance first)"
    )
    restore.add_argument("path", help="a file made by wegweiser backup")
    restore.add_argument(
        "--force", action="store_true", help="replace what the database holds now"
    )
    restore.set_defaults(func=_restore)

    admin = commands.add_parser("admin", help="staff accounts")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    create = admin_commands.add_parser("create", help="create a staff user")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", choices=("admin", "coach"), default="coach")
    how = create.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    how.add_argument(
        "--link",
        action="store_true",
        help="print a one-time link with which the person sets their own password",
    )
    create.set_defaults(func=_admin_create)
    admin_commands.add_parser(
        "list", help="every staff user: id, e-mail, name, role, state"
    ).set_defaults(func=_admin_list)
    deactivate = admin_commands.add_parser(
        "deactivate", help="close an account: no login, its sessions end, its chat stops"
    )
    deactivate.add_argument("--email", required=True)
    deactivate.set_defaults(func=_admin_deactivate)
    reset = admin_commands.add_parser(
        "reset-password",
        help="a new one-time set-password link; the old password stops working at once",
    )
    reset.add_argument("--email", required=True)
    reset.set_defaults(func=_admin_reset_password)
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


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from storage.backup import BackupError, backup

    started = time.monotonic()
    try:
        size = await backup(settings.database_url, Path(args.path))
    except BackupError as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 1
    print(
        f"backup written to {args.path} ({size / 1e6:.1f} MB, {time.monotonic() - started:.1f} s)"
    )
    return 0


async def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import BackupError, restore

    try:
        await restore(settings.database_url, Path(args.path), force=args.force)
    except BackupError as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.path}; run wegweiser db upgrade if it came from an older version")
    return 0


async def _admin_create(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import prepare_database
    from bot.features.staff.accounts import create_staff
    from bot.features.staff.management import invite_staff
    from bot.plumbing.errors import UserError
    from storage.db import make_sessionmaker
    from storage.types import utcnow

    if not args.name.strip():
        print("wegweiser: --name must not be empty", file=sys.stderr)
        return 1
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not args.link:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("The same password again: ") != password:
            print("wegweiser: the two passwords differ; nothing was created", file=sys.stderr)
            return 1
    engine = await prepare_database(settings)
    try:
        async with make_sessionmaker(engine).begin() as session:
            if password is None:
                user, link = await invite_staff(
                    session,
                    actor=None,
                    email=args.email,
                    display_name=args.name,
                    role=args.role,
                    now=utcnow(),
                )
            else:
                user = await create_staff(
                    session,
                    email=args.email,
                    display_name=args.name,
                    role=args.role,
                    password=password,
                    actor="cli",
                )
    except UserError as error:
        print(f"wegweiser: {_english(error)}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"created {args.role} {user.email} (id {user.id})")
    if password is None:
        _print_link(settings, link)
    return 0


def _english(error: Any) -> str:
    """A UserError of the staff web (an `admin` msgid) in English, for the command line."""
    from bot.i18n import admin_translator

    return str(admin_translator("en").gettext(error.message).format(**error.params))


def _print_link(settings: Settings, link: Any) -> None:
    """A set-password link, shown once: only its hash is stored."""
    print("one-time link to set the password (give it to the person; it works once):")
    print(link.url(settings.public_web_url))
    print(f"valid until {link.expires_at.astimezone(settings.tz):%Y-%m-%d %H:%M}")


async def _admin_list(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import prepare_database
    from bot.plumbing.throttle import LoginThrottle, Throttle
    from storage.db import make_sessionmaker
    from storage.staff import list_staff, open_password_links
    from storage.types import utcnow

    engine = await prepare_database(settings)
    try:
        sessions = make_sessionmaker(engine)
        throttle = LoginThrottle(Throttle(sessions))
        async with sessions.begin() as session:
            staff = await list_staff(session)
            links = await open_password_links(session, now=utcnow())
            rows = []
            for user in staff:
                state = "active" if user.active else "deactivated"
                if user.active and user.id in links:
                    state += ", password link open"
                elif user.active and user.password_hash is None:
                    state += ", no password"
                if user.active and await throttle.locked(user.email, within=session):
                    state += ", locked"
                rows.append((str(user.id), user.email, user.display_name, user.role, state))
    finally:
        await engine.dispose()
    if not rows:
        print("no staff users yet; add one with: wegweiser admin create")
        return 0
    header = ("id", "e-mail", "name", "role", "state")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[4]
        )
    return 0


async def _with_staff(settings: Settings, email: str, act: Any) -> tuple[Any, Any] | None:
    """Run `act(session, sessions, staff)` for the staff user with this e-mail address in one
    transaction: (staff, its result), or None after printing why (no such user, or the
    action refused)."""
    from bot.app import prepare_database
    from bot.plumbing.errors import UserError
    from storage.db import make_sessionmaker
    from storage.staff import find_staff_by_email

    engine = await prepare_database(settings)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            staff = await find_staff_by_email(session, email=email.strip())
            if staff is None:
                print(f"wegweiser: no staff user {email}", file=sys.stderr)
                return None
            return staff, await act(session, sessions, staff)
    except UserError as error:
        print(f"wegweiser: {_english(error)}", file=sys.stderr)
        return None
    finally:
        await engine.dispose()


async def _admin_deactivate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.features.staff.management import deactivate_staff
    from storage.staff import caseload
    from storage.types import utcnow

    async def deactivate(session: Any, _sessions: Any, staff: Any) -> int:
        await deactivate_staff(session, actor=None, staff_id=staff.id, now=utcnow())
        return len(await caseload(session, coach_id=staff.id))

    done = await _with_staff(settings, args.email, deactivate)
    if done is None:
        return 1
    staff, people = done
    print(f"deactivated {staff.email}: no login, sessions ended, linked chat no longer staff")
    if people:
        print(f"{people} participants still have this coach; hand them over in the staff web")
    return 0


async def _admin_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from bot.features.staff.management import reset_password
    from storage.types import utcnow

    async def reset(session: Any, _sessions: Any, staff: Any) -> Any:
        return await reset_password(session, actor=None, staff_id=staff.id, now=utcnow())

    done = await _with_staff(settings, args.email, reset)
    if done is None:
        return 1
    staff, link = done
    print(f"the old password of {staff.email} no longer works; its sessions ended")
    _print_link(settings, link)
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
    from bot.features.staff.management import unlock_staff
    from bot.plumbing.throttle import LoginThrottle, Throttle

    async def unlock(session: Any, sessions: Any, staff: Any) -> int:
        throttle = LoginThrottle(Throttle(sessions))
        return await unlock_staff(session, actor=None, staff_id=staff.id, throttle=throttle)

    done = await _with_staff(settings, args.email, unlock)
    if done is None:
        return 1
    staff, tries = done
    print(f"unlocked {staff.email} ({tries} counted tries forgotten)")
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
    if settings.signal_account:
        print(f"Signal: send “{invite.signal_message()}” to {settings.signal_account}")
    print(f"valid until {invite.expires_at.astimezone(settings.tz):%Y-%m-%d %H:%M}")
    return 0
