"""Staff accounts and modules in the staff web over real HTTP (login + CSRF): a new Kreis on
an empty database sets itself up, and an admin manages accounts."""

from __future__ import annotations

import asyncio
import html
import re

import pytest
from sqlalchemy import func, select

from bot.features.staff import accounts
from bot.web.app import create_app
from storage.models import AuditEntry, Module, Participant, StaffPasswordLink, StaffUser
from tests.admin_client import AdminBrowser
from tests.conftest import serve_app

PASSWORD = "correct horse battery"
LINK = re.compile(r'value="(http://[^"]+/admin/set-password/([A-Za-z0-9_-]{32}))"')


@pytest.fixture
async def site(settings, sessions, router):
    """The whole web app on a loopback port."""
    async with serve_app(create_app(settings, sessions, router)) as url:
        yield url


@pytest.fixture
async def browser(site):
    """Factory: a new browser (cookie jar) on the site."""
    opened: list[AdminBrowser] = []

    def make(address: str | None = None) -> AdminBrowser:
        opened.append(AdminBrowser(site, address))
        return opened[-1]

    yield make
    for item in opened:
        await item.close()


async def _audit_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)))


def _text(response) -> str:
    return html.unescape(response.text)


async def set_password(b: AdminBrowser, path: str, password: str = PASSWORD):
    """Open a set-password link and send the form; the POST's response."""
    page = await b.client.get(path)
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    return await b.client.post(path, data={"token": token, "new": password, "again": password})


async def test_a_new_kreis_sets_itself_up_on_an_empty_database(
    settings, site, browser, sessions, monkeypatch, capsys
):
    from bot.cli import main

    # 1. `wegweiser admin create` on the empty database.
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    args = ["admin", "create", "--email", "leitung@kreis.example", "--name", "Leitung"]
    assert await asyncio.to_thread(main, [*args, "--role", "admin", "--password-stdin"]) == 0
    assert "created admin" in capsys.readouterr().out

    # 2. Log in.
    admin = browser()
    assert (await admin.login("leitung@kreis.example", PASSWORD)).status_code == 303
    dashboard = await admin.get("/admin/")
    assert 'href="/admin/staff"' in dashboard.text and 'href="/admin/modules"' in dashboard.text

    # Before any module exists, an import says so and where to add them.
    early = await admin.post(
        "/admin/participants/import",
        files={"file": ("p.csv", b"name,module,coach\nAmina,coaching,leitung@kreis.example\n")},
    )
    assert early.status_code == 400
    assert "Es gibt noch keine Bausteine" in _text(early)

    # 3. Modules: a wrong code is refused with what was typed kept, then two are added.
    wrong = await admin.post("/admin/modules/new", {"code": "Coaching Plus!", "name": "Coaching"})
    assert wrong.status_code == 400 and 'value="Coaching Plus!"' in wrong.text
    for code, name in (("coaching", "Coaching"), ("pfaff", "PfaFF – Pflegeausbildung")):
        added = await admin.post("/admin/modules/new", {"code": code, "name": name})
        assert added.status_code == 303, added.text
    modules = await admin.get("/admin/modules")
    assert "PfaFF – Pflegeausbildung" in _text(modules) and "<code>coaching</code>" in modules.text

    # 4. Invite a coach: a wrong address comes back beside its field, with what was typed.
    typo = await admin.post("/admin/staff/new", {"name": "Miriam Hoffmann", "email": "m.hoffmann"})
    assert typo.status_code == 400 and 'value="Miriam Hoffmann"' in typo.text
    error = re.search(r'id="email-error">([^<]+)<', typo.text)
    assert error and html.unescape(error.group(1)) == "Die E-Mail-Adresse sieht falsch aus."
    # The link is shown once, on the page.
    invited = await admin.post(
        "/admin/staff/new", {"name": "Miriam Hoffmann", "email": "m.hoffmann@kreis.example"}
    )
    assert invited.status_code == 200
    url, token = LINK.search(invited.text).groups()
    async with sessions() as session:
        coach = await session.scalar(
            select(StaffUser).where(StaffUser.email == "m.hoffmann@kreis.example")
        )
        stored = await session.scalar(select(StaffPasswordLink.token_hash))
    assert coach.role == "coach" and coach.password_hash is None
    assert token not in (stored or "")
    staff_page = await admin.get("/admin/staff")
    assert token not in staff_page.text and "Link verschickt" in _text(staff_page)

    # 5. The coach sets a password with the link and is logged in.
    miriam = browser("127.0.0.2")
    path = url.split(site, 1)[-1] if url.startswith(site) else "/admin/set-password/" + token
    short = await miriam.client.get(path)
    token_field = re.search(r'name="token" value="([^"]+)"', short.text).group(1)
    refused = await miriam.client.post(
        path, data={"token": token_field, "new": "kurz", "again": "kurz"}
    )
    assert refused.status_code == 400 and "mindestens 12 Zeichen" in _text(refused)
    done = await set_password(miriam, path)
    assert done.status_code == 303 and done.headers["location"] == "/admin/?done=password_set"
    welcome = await miriam.get("/admin/?done=password_set")
    assert "Passwort gesetzt" in _text(welcome) and "Miriam Hoffmann" in welcome.text
    again = await miriam.client.get(path)
    assert again.status_code == 404 and "nicht (mehr)" in _text(again)
    assert (await browser().login("m.hoffmann@kreis.example", PASSWORD)).status_code == 303

    # 6. The coach imports a CSV into her caseload.
    imported = await miriam.post(
        "/admin/participants/import",
        files={"file": ("p.csv", b"name;language;module\nAmina;ar;pfaff\nDawit;ti;coaching\n")},
    )
    assert imported.status_code == 200, _text(imported)
    async with sessions() as session:
        people = (await session.scalars(select(Participant).order_by(Participant.id))).all()
        module_ids = {m.code: m.id for m in await session.scalars(select(Module))}
    assert [(p.display_name, p.coach_id) for p in people] == [
        ("Amina", coach.id),
        ("Dawit", coach.id),
    ]
    assert people[0].module_id == module_ids["pfaff"]
    # A coach does not see the staff or module pages.
    assert (await miriam.get("/admin/staff")).status_code == 403
    assert (await miriam.post("/admin/modules/new", {"code": "x", "name": "X"})).status_code == 403


async def test_an_admin_manages_an_account_and_refusals_change_nothing(
    site, browser, sessions, make_staff, make_participant, bind_chat
):
    hashed = await accounts.hash_password(PASSWORD)
    admin = await make_staff(role="admin", password_hash=hashed, email="admin@example.org")
    coach = await make_staff(password_hash=hashed, display_name="Yusuf Demir")
    successor = await make_staff(password_hash=hashed, display_name="Sara Klein")
    amina = await make_participant(coach_id=coach.id, display_name="Amina")
    a = browser()
    await a.login(admin.email, PASSWORD)
    # The coach logs in elsewhere; five wrong passwords lock them out at a third computer.
    coach_browser = browser("127.0.0.2")
    await coach_browser.login(coach.email, PASSWORD)
    guesser = browser("127.0.0.3")
    for _ in range(5):
        await guesser.login(coach.email, "wrong password")
    assert (await guesser.login(coach.email, PASSWORD)).status_code == 429

    page = await a.get(f"/admin/staff/{coach.id}")
    assert 'id="locked"' in page.text and "Amina" in page.text
    before = await _audit_count(sessions)
    # Refused: a handover to nobody, own deactivation, the last admin demoted, a bad CSRF.
    nobody = await a.post(f"/admin/staff/{coach.id}/handover", {"to": ""})
    assert nobody.status_code == 400
    self_off = await a.post(f"/admin/staff/{admin.id}/deactivate")
    assert self_off.status_code == 400 and "eigenes Konto" in _text(self_off)
    last = await a.post(f"/admin/staff/{admin.id}/role", {"role": "coach"})
    assert last.status_code == 400 and "letzte aktive Admin" in _text(last)
    forged = await a.post(f"/admin/staff/{coach.id}/deactivate", {"csrf": "forged"})
    assert forged.status_code == 403
    assert await _audit_count(sessions) == before

    unlocked = await a.post(f"/admin/staff/{coach.id}/unlock")
    assert unlocked.status_code == 303
    assert (await guesser.login(coach.email, PASSWORD)).status_code == 303

    deactivated = await a.post(f"/admin/staff/{coach.id}/deactivate")
    assert deactivated.status_code == 303
    assert (await coach_browser.get("/admin/")).status_code == 303  # the session ended at once
    assert (await browser().login(coach.email, PASSWORD)).status_code == 401
    listed = await a.get("/admin/staff")
    assert "Teilnehmende zu übergeben: 1" in _text(listed)
    handed = await a.post(f"/admin/staff/{coach.id}/handover", {"to": str(successor.id)})
    assert handed.status_code == 303
    async with sessions() as session:
        assert (await session.get(Participant, amina.id)).coach_id == successor.id

    # A reset: the old password stops at once, the new link sets a new one.
    reset = await a.post(f"/admin/staff/{successor.id}/reset")
    assert reset.status_code == 200
    url, _token = LINK.search(reset.text).groups()
    assert (await browser().login(successor.email, PASSWORD)).status_code == 401
    sara = browser()
    assert (
        await set_password(sara, url[url.index("/admin/") :], "ein ganz neues Passwort")
    ).status_code == 303
    assert (await browser().login(successor.email, "ein ganz neues Passwort")).status_code == 303

    async with sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.id > before).order_by(AuditEntry.id)
            )
        ).all()
    assert [x for x in actions if not x.startswith(("staff.login", "staff.logout"))] == [
        "staff.unlocked",
        "staff.deactivated",
        "staff.caseload_handed_over",
        "staff.password_reset",
        "staff.password_set",
    ]


async def test_a_retired_module_is_not_offered_but_keeps_its_people(
    site, browser, sessions, make_staff, make_participant
):
    admin = await make_staff(role="admin", password_hash=await accounts.hash_password(PASSWORD))
    async with sessions.begin() as session:
        old = Module(code="old", name_de="Alter Baustein")
        new = Module(code="neu", name_de="Neuer Baustein")
        session.add_all([old, new])
    kept = await make_participant(coach_id=admin.id, module_id=old.id)
    a = browser()
    await a.login(admin.email, PASSWORD)
    assert (await a.post(f"/admin/modules/{old.id}/retire")).status_code == 303
    taken = await a.post(f"/admin/modules/{new.id}/rename", {"name": "alter baustein"})
    assert taken.status_code == 400
    assert "Einen Baustein mit diesem Namen gibt es schon." in _text(taken)
    renamed = await a.post(f"/admin/modules/{new.id}/rename", {"name": "Neuer Name"})
    assert renamed.status_code == 303
    form = await a.get("/admin/participants/new")
    assert "Neuer Name" in form.text and "Alter Baustein" not in form.text
    # The person in the retired module keeps it, and it stays selectable on their form.
    edit = await a.get(f"/admin/participants/{kept.id}/edit")
    assert "Alter Baustein" in edit.text
    report = await a.get("/admin/report")
    assert "Alter Baustein" in report.text
    refused = await a.post(
        "/admin/participants/new",
        {"name": "Dawit", "module": str(old.id), "coach": str(admin.id)},
    )
    assert refused.status_code == 400 and "ausgelaufen" in _text(refused)
