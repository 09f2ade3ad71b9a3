"""Erasure reaches the files: after /delete (or staff erasing a person in the admin web) on a
running SQLite instance, none of the person's data is left in wegweiser.db, its write-ahead
log or its shared-memory file, so a copy of the files taken afterwards holds none of it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.features.privacy import DELETED
from bot.features.staff import accounts
from bot.web.app import create_app
from storage.models import ChannelIdentity, CoachMessage, WebChatEntry, WebChatKey
from storage.types import utcnow
from tests.admin_client import AdminBrowser
from tests.conftest import _fresh_schema, serve_app
from tests.helpers import tr

CHAT = 730119283746
CANARIES = {
    "name": "Canarina Zwitschertal",
    "absence reason": "canary-reason: appointment at the Kanarienklinik",
    "message to the coach": "canary-question: can I bring my Kanarienvogel",
    "coach's answer": "canary-answer: yes, bring the Kanarienvogel",
    "web chat transcript": "canary-transcript: Hallo Kanarienvogel",
    "appointment place": "Kanarienweg 77, 59425 Unna",
    "Telegram chat": str(CHAT),
    "Signal chat": "5e1f0000-aaaa-4bbb-8ccc-canary000001",
}
WEB = "w" + "c" * 40
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """This test's own SQLite file (never PostgreSQL: the files are the point)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    await _fresh_schema(url)
    return url


def _found(folder: Path) -> dict[str, list[str]]:
    """Which canaries are in which of the database's raw files (db, -wal, -shm)."""
    files = {path.name: path.read_bytes() for path in folder.glob("live.db*")}
    return {
        what: [name for name, raw in files.items() if canary.encode() in raw]
        for what, canary in CANARIES.items()
        if any(canary.encode() in raw for raw in files.values())
    }


@pytest.fixture
async def person(make_staff, make_participant, bind_chat, make_appointment, sessions):
    """A participant with each canary in the row that holds it."""
    coach = await make_staff(
        email="coach@example.org",
        display_name="Miriam Hoffmann",
        role="admin",
        password_hash=await accounts.hash_password(PASSWORD),
    )
    participant = await make_participant(
        display_name=CANARIES["name"], locale="de", accepted=True, coach_id=coach.id
    )
    await bind_chat(participant, CHAT)
    await make_appointment(
        participant,
        location=CANARIES["appointment place"],
        response="declined",
        response_note=CANARIES["absence reason"],
        response_at=utcnow(),
    )
    await make_appointment(participant, starts_in=timedelta(days=3))
    async with sessions.begin() as session:
        session.add(ChannelIdentity(participant_id=participant.id, channel="web", external_id=WEB))
        session.add(WebChatKey(chat_id=WEB))
        session.add(WebChatEntry(chat_id=WEB, sender="user", text=CANARIES["web chat transcript"]))
        session.add(
            ChannelIdentity(
                participant_id=participant.id,
                channel="signal",
                external_id=CANARIES["Signal chat"],
            )
        )
        for direction, what in (("in", "message to the coach"), ("out", "coach's answer")):
            session.add(
                CoachMessage(
                    participant_id=participant.id, direction=direction, body=CANARIES[what]
                )
            )
    return participant


@pytest.mark.parametrize("where", ["live.db-wal", "live.db"])
async def test_delete_leaves_no_trace_in_the_database_files(
    telegram, person, tmp_path, engine, where
):
    if where == "live.db":  # as SQLite's automatic checkpoints do in a long-running instance
        async with engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _found(tmp_path)
    assert before == {what: [where] for what in CANARIES}, "the canaries are there at first"

    user = telegram.fake.user(chat_id=CHAT, language_code="de")
    await user.exchange("/delete")
    [done] = await user.press_and_wait("pv:dy")
    assert done["text"] == tr("de", DELETED)

    # The instance still runs (its pool holds open connections) while the files are read.
    assert _found(tmp_path) == {}
    assert (tmp_path / "live.db-wal").stat().st_size == 0  # truncated, not only checkpointed


async def test_staff_erasure_in_the_admin_web_leaves_no_trace_either(
    settings, sessions, router, person, tmp_path
):
    assert sorted(_found(tmp_path)) == sorted(CANARIES)
    async with serve_app(create_app(settings, sessions, router)) as url:
        browser = AdminBrowser(url)
        try:
            assert (await browser.login("coach@example.org", PASSWORD)).status_code == 303
            await browser.get(f"/admin/participants/{person.id}")
            erased = await browser.post(
                f"/admin/participants/{person.id}/erase", {"confirm": "yes"}
            )
            assert erased.status_code == 303
        finally:
            await browser.close()
    assert _found(tmp_path) == {}
