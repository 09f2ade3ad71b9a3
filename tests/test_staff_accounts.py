"""Staff accounts and modules, at the actions and on the command line: invite by a one-time
set-password link, role, deactivate and hand over, unlock, reset; modules added, renamed,
retired; every change audited, a refused one not."""

from __future__ import annotations

import asyncio
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from bot.features.courses import create_course
from bot.features.modules import create_module, rename_module, retire_module
from bot.features.onboarding.chat import NOT_CONNECTED
from bot.features.onboarding.invites import create_staff_invite
from bot.features.roster import create_participant, import_participants
from bot.features.staff import accounts, management
from bot.plumbing.errors import UserError
from bot.plumbing.throttle import LoginThrottle, Throttle
from storage.models import (
    Appointment,
    AuditEntry,
    Course,
    Module,
    Participant,
    StaffPasswordLink,
    StaffSession,
    StaffUser,
)
from storage.staff import add_web_session
from storage.types import utcnow
from tests.helpers import tr

PASSWORD = "correct horse battery"


async def _audit(sessions, action: str | None = None) -> list[AuditEntry]:
    async with sessions() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(await session.scalars(query))


async def _act(sessions, action, **kwargs):
    """Run an action in its own transaction with the actor loaded there."""
    async with sessions.begin() as session:
        if kwargs.get("actor") is not None:
            kwargs["actor"] = await session.get(StaffUser, kwargs["actor"].id)
        return await action(session, **kwargs)


async def _staff(sessions, staff_id: int) -> StaffUser:
    async with sessions() as session:
        staff = await session.get(StaffUser, staff_id)
        assert staff is not None
        return staff


async def _set_password(sessions, token: str, password: str = PASSWORD) -> StaffUser:
    hashed = await accounts.hash_password(password)
    async with sessions.begin() as session:
        return await management.set_password_with_link(
            session, token=token, password_hash=hashed, now=utcnow()
        )


async def _can_log_in(sessions, email: str, password: str = PASSWORD) -> bool:
    async with sessions() as session:
        return await accounts.authenticate(session, email=email, password=password) is not None


async def test_an_invited_coach_sets_a_password_once_and_the_link_expires(sessions, make_staff):
    admin = await make_staff(role="admin")
    coach, link = await _act(
        sessions,
        management.invite_staff,
        actor=admin,
        email=" Neu@Example.org ",
        display_name="Neue Kollegin",
        now=utcnow(),
    )
    assert (coach.role, coach.email, coach.password_hash) == ("coach", "neu@example.org", None)
    assert link.url("https://w.example.org/").startswith(
        "https://w.example.org/admin/set-password/"
    )
    async with sessions() as session:
        stored = (await session.scalars(select(StaffPasswordLink))).one()
    assert stored.token_hash != link.token and link.token not in stored.token_hash
    left = stored.expires_at - utcnow()
    assert timedelta(hours=management.LINK_HOURS) - left < timedelta(seconds=5)
    assert not await _can_log_in(sessions, coach.email)

    await _set_password(sessions, link.token)
    assert await _can_log_in(sessions, coach.email)
    with pytest.raises(UserError) as used:
        await _set_password(sessions, link.token, "another long password")
    assert used.value.message == management.LINK_NOT_VALID
    assert await _can_log_in(sessions, coach.email)  # the refused second use changed nothing

    # A link not used in time stops working.
    later, old_link = await _act(
        sessions,
        management.invite_staff,
        actor=admin,
        email="spaet@example.org",
        display_name="Spät",
        now=utcnow() - timedelta(hours=management.LINK_HOURS, seconds=1),
    )
    with pytest.raises(UserError):
        await _set_password(sessions, old_link.token)
    assert (await _staff(sessions, later.id)).password_hash is None
    actions = [e.action for e in await _audit(sessions)]
    assert actions == ["staff.created", "staff.password_set", "staff.created"]


async def test_two_racing_uses_of_one_link_set_one_password(sessions, make_staff):
    admin = await make_staff(role="admin")
    _coach, link = await _act(
        sessions,
        management.invite_staff,
        actor=admin,
        email="race@example.org",
        display_name="Race",
        now=utcnow(),
    )
    results = await asyncio.gather(
        _set_password(sessions, link.token, "first long password"),
        _set_password(sessions, link.token, "second long password"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, UserError) for r in results) == 1
    assert len(await _audit(sessions, "staff.password_set")) == 1


async def test_the_password_rules_hold_for_a_link(sessions):
    for new, again, message in [
        ("short", "short", "The password needs at least 12 characters."),
        ("               ", "               ", "The password must not be only spaces."),
        ("a long password 1", "a long password 2", "The two new passwords differ."),
    ]:
        with pytest.raises(UserError) as refused:
            management.check_new_password(new, again)
        assert refused.value.message == message
    management.check_new_password(PASSWORD, PASSWORD)


async def test_a_coach_may_not_manage_staff_and_a_refusal_writes_no_audit(sessions, make_staff):
    coach = await make_staff(role="coach")
    other = await make_staff(role="coach")
    for action, kwargs in [
        (
            management.invite_staff,
            {"email": "x@example.org", "display_name": "X", "now": utcnow()},
        ),
        (management.change_role, {"staff_id": coach.id, "role": "admin"}),
        (management.deactivate_staff, {"staff_id": other.id, "now": utcnow()}),
        (management.reset_password, {"staff_id": other.id, "now": utcnow()}),
        (create_module, {"code": "coaching", "name": "Coaching"}),
    ]:
        with pytest.raises(UserError):
            await _act(sessions, action, actor=coach, **kwargs)
    assert await _audit(sessions) == []
    assert (await _staff(sessions, coach.id)).role == "coach"


async def test_the_last_admin_stays_and_nobody_deactivates_themselves(sessions, make_staff):
    admin = await make_staff(role="admin")
    for action, kwargs in [
        (management.change_role, {"staff_id": admin.id, "role": "coach"}),
        (management.deactivate_staff, {"staff_id": admin.id, "now": utcnow()}),
    ]:
        with pytest.raises(UserError):
            await _act(sessions, action, actor=admin, **kwargs)
    with pytest.raises(UserError) as last:
        await _act(
            sessions, management.deactivate_staff, actor=None, staff_id=admin.id, now=utcnow()
        )
    assert "last active admin" in last.value.message
    second = await make_staff(role="coach")
    await _act(sessions, management.change_role, actor=admin, staff_id=second.id, role="admin")
    await _act(sessions, management.change_role, actor=admin, staff_id=admin.id, role="coach")
    assert (await _staff(sessions, admin.id)).role == "coach"
    [entry, demoted] = await _audit(sessions, "staff.role_changed")
    assert (entry.object_id, entry.detail) == (second.id, {"role": "admin"})
    assert (demoted.actor, demoted.detail) == (f"staff:{admin.id}", {"role": "coach"})


async def test_deactivation_ends_sessions_links_and_the_staff_chat(
    telegram, sessions, make_staff, make_participant, make_course, make_appointment
):
    admin = await make_staff(role="admin")
    coach = await make_staff(
        role="coach", password_hash=await accounts.hash_password(PASSWORD), locale="de"
    )
    successor = await make_staff(role="coach")
    async with sessions.begin() as session:
        await add_web_session(
            session,
            token_hash="a" * 64,
            staff_id=coach.id,
            csrf_token="c",
            expires_at=utcnow() + timedelta(hours=1),
        )
        invite = await create_staff_invite(
            session, staff=await session.get(StaffUser, coach.id), now=utcnow(), valid_days=14
        )
    chat = telegram.fake.user(chat_id=9601, language_code="de")
    await chat.exchange(f"/start {invite.token}")
    [report] = await chat.exchange("/report")
    assert report["text"] != tr("de", NOT_CONNECTED)  # the chat acts as staff
    people = [await make_participant(coach_id=coach.id, display_name=n) for n in ("A", "B")]
    course = await make_course(slots=[(0, "09:00", "12:00")], coach_id=coach.id)
    soon = await make_appointment(people[0], coach_id=coach.id, starts_in=timedelta(days=1))
    past = await make_appointment(people[0], coach_id=coach.id, starts_in=timedelta(days=-1))

    await _act(sessions, management.deactivate_staff, actor=admin, staff_id=coach.id, now=utcnow())
    assert not await _can_log_in(sessions, coach.email)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0
    [refused] = await chat.exchange("/report")
    assert refused["text"] == tr("de", NOT_CONNECTED)
    [entry] = await _audit(sessions, "staff.deactivated")
    assert entry.actor == f"staff:{admin.id}" and entry.detail == {"sessions_ended": 1}

    # Nobody is handed to an inactive coach or to the same one; then to the successor.
    for target in (coach.id, None, 10**6):
        with pytest.raises(UserError):
            await _act(
                sessions,
                management.hand_over_caseload,
                actor=admin,
                from_id=coach.id,
                to_id=target,
                now=utcnow(),
            )
    moved = await _act(
        sessions,
        management.hand_over_caseload,
        actor=admin,
        from_id=coach.id,
        to_id=successor.id,
        now=utcnow(),
    )
    assert moved == (2, 1, 1)
    async with sessions() as session:
        owners = set((await session.scalars(select(Participant.coach_id))).all())
        assert owners == {successor.id}
        assert (await session.get(Course, course.id)).coach_id == successor.id
        assert (await session.get(Appointment, soon.id)).coach_id == successor.id
        assert (await session.get(Appointment, past.id)).coach_id == coach.id  # history stays
    [handed] = await _audit(sessions, "staff.caseload_handed_over")
    assert handed.detail == {
        "to": successor.id,
        "participants": 2,
        "courses": 1,
        "appointments": 1,
    }


async def test_a_reset_stops_the_old_password_at_once(sessions, make_staff):
    admin = await make_staff(role="admin")
    coach = await make_staff(password_hash=await accounts.hash_password(PASSWORD))
    first = await _act(
        sessions, management.reset_password, actor=admin, staff_id=coach.id, now=utcnow()
    )
    assert not await _can_log_in(sessions, coach.email)
    second = await _act(
        sessions, management.reset_password, actor=None, staff_id=coach.id, now=utcnow()
    )
    with pytest.raises(UserError):
        await _set_password(sessions, first.token, "the newest password")  # replaced
    await _set_password(sessions, second.token, "the newest password")
    assert await _can_log_in(sessions, coach.email, "the newest password")
    resets = await _audit(sessions, "staff.password_reset")
    assert [e.actor for e in resets] == [f"staff:{admin.id}", "cli"]


async def test_an_admin_unlocks_in_the_same_transaction_as_the_audit(sessions, make_staff):
    admin = await make_staff(role="admin")
    coach = await make_staff()
    throttle = LoginThrottle(Throttle(sessions))
    for _ in range(5):
        assert await throttle.attempt(coach.email, "10.0.0.1") is not None
    assert await throttle.attempt(coach.email, "10.0.0.1") is None
    async with sessions() as session:
        assert await throttle.locked(coach.email, within=session)
    tries = await _act(
        sessions, management.unlock_staff, actor=admin, staff_id=coach.id, throttle=throttle
    )
    assert tries == 5
    assert await throttle.attempt(coach.email, "10.0.0.1") is not None
    [entry] = await _audit(sessions, "staff.unlocked")
    assert entry.detail == {"tries": 5}


# ---------------------------------------------------------------- modules


async def test_modules_are_added_renamed_and_retired_with_their_history(sessions, make_staff):
    admin = await make_staff(role="admin")
    # An empty database: the import says there are no modules yet, and where to add them.
    async with sessions.begin() as session:
        empty = await import_participants(
            session,
            actor=await session.get(StaffUser, admin.id),
            data=f"name,module,coach\nAmina,coaching,{admin.email}\n".encode(),
        )
    [problem] = empty.errors
    assert problem.message.startswith("Unknown module “{value}”: there are no modules yet.")

    coaching = await _act(sessions, create_module, actor=admin, code=" Coaching ", name="Coaching")
    nursing = await _act(sessions, create_module, actor=admin, code="pfaff", name="PfaFF")
    for code, name in [("coaching", "Other"), ("bad code!", "X"), ("x", "  "), ("y", "coaching")]:
        with pytest.raises(UserError):
            await _act(sessions, create_module, actor=admin, code=code, name=name)
    await _act(sessions, rename_module, actor=admin, module_id=nursing.id, name="PfaFF – Pflege")
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, admin.id)
        amina = await create_participant(
            session,
            actor=actor,
            display_name="Amina",
            locale="ar",
            module_id=nursing.id,
            coach_id=admin.id,
        )
    await _act(sessions, retire_module, actor=admin, module_id=nursing.id, now=utcnow())

    async with sessions.begin() as session:
        actor = await session.get(StaffUser, admin.id)
        with pytest.raises(UserError) as retired:
            await create_participant(
                session,
                actor=actor,
                display_name="Dawit",
                locale="ti",
                module_id=nursing.id,
                coach_id=admin.id,
            )
        assert retired.value.message == "This module is retired; choose another one."
        result = await import_participants(
            session,
            actor=actor,
            data=f"name,module,coach\nDawit,pfaff,{admin.email}\nSara,nope,{admin.email}\n".encode(),
        )
    assert [(e.line, e.params["codes"]) for e in result.errors] == [
        (2, "coaching"),
        (3, "coaching"),
    ]
    assert "retired" in result.errors[0].message
    # Nor is a course put into a retired module, or one that does not exist.
    async with sessions() as session:
        actor = await session.get(StaffUser, admin.id)
        for module_id in (nursing.id, 10**6):
            with pytest.raises(UserError) as refused:
                await create_course(
                    session,
                    actor=actor,
                    title="Pflege B1",
                    kind="german_course",
                    location="Unna",
                    starts_on=utcnow().date(),
                    ends_on=utcnow().date(),
                    slots=[(0, time(9), time(12))],
                    module_id=module_id,
                )
            assert refused.value.field == "module"
    async with sessions() as session:
        kept = await session.get(Participant, amina.id)
        module = await session.get(Module, nursing.id)
    assert kept.module_id == nursing.id and module.retired_at is not None
    assert module.name_de == "PfaFF – Pflege" and coaching.code == "coaching"
    actions = [e.action for e in await _audit(sessions) if e.object_type == "module"]
    assert actions == ["module.created", "module.created", "module.renamed", "module.retired"]


# ---------------------------------------------------------------- command line


def test_the_command_line_lists_deactivates_and_resets(tmp_path, monkeypatch, capsys):
    import io
    import sys

    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("admin", "list")
    assert code == 0 and "no staff users yet" in out
    code, out, _ = run(
        "admin",
        "create",
        "--email",
        "a@example.org",
        "--name",
        "Anna",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0 and "created admin a@example.org" in out
    # The default role is coach; --link prints a one-time link instead of asking a password.
    code, out, _ = run("admin", "create", "--email", "c@example.org", "--name", "Cem", "--link")
    assert code == 0 and "created coach c@example.org" in out
    assert re.search(r"http://127\.0\.0\.1:8080/admin/set-password/[A-Za-z0-9_-]{32}\n", out)
    code, out, _ = run("admin", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["id", "e-mail", "name", "role", "state"]
    assert "admin" in lines[1] and lines[1].rstrip().endswith("active")
    assert "coach" in lines[2] and "password link open" in lines[2]

    code, out, _ = run("admin", "reset-password", "--email", "A@example.org")
    assert code == 0 and "no longer works" in out and "/admin/set-password/" in out
    code, _, err = run("admin", "deactivate", "--email", "a@example.org")
    assert code == 1 and "last active admin" in err
    code, out, _ = run("admin", "deactivate", "--email", "c@example.org")
    assert code == 0 and "deactivated c@example.org" in out
    code, _, err = run("admin", "deactivate", "--email", "nobody@example.org")
    assert code == 1 and "no staff user" in err
    code, out, _ = run("admin", "list")
    assert "deactivated" in out.splitlines()[2]
    code, _, err = run("admin", "create", "--email", "c@example.org", "--name", "Cem", "--link")
    assert code == 1 and "exists already" in err


def test_the_readme_states_the_login_limits_the_code_applies():
    from pathlib import Path

    from bot.plumbing.throttle import PER_ACCOUNT, PER_CLIENT

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    words = {5: "five", 30: "thirty"}
    assert PER_ACCOUNT.minutes == PER_CLIENT.minutes == 15
    assert (
        f"{words[PER_ACCOUNT.tries]} failed logins for one account from one address, or "
        f"{words[PER_CLIENT.tries]} from one address, in 15 minutes"
    ) in readme
