"""Recordings in the staff web over real HTTP: an admin uploads (converted to OGG/Opus),
replaces, plays and deletes a recording per language; a changed text marks it outdated;
a file that is no audio is refused beside the input and nothing is stored; coaches and
strangers cannot upload, strangers cannot listen."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.features.next_steps import seed_demo_content
from bot.features.staff.accounts import hash_password
from bot.web.app import create_app
from storage.models import ContentNode, Recording
from tests.admin_client import AdminBrowser
from tests.audio_files import opus, sine
from tests.conftest import serve_app

PASSWORD = "long password 1"


@pytest.fixture
async def kim(sessions):
    async with sessions.begin() as session:
        await seed_demo_content(session)
    async with sessions() as session:
        return await session.scalar(select(ContentNode).where(ContentNode.key == "kim"))


async def _count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Recording))


def _cell(listing: str, node_id: int, code: str) -> str:
    row = listing.split(f'/admin/content/{node_id}"')[1].split("</tr>")[0]
    return row.split(f'data-lang="{code}"')[1].split("</td>")[0]


async def test_an_admin_uploads_plays_replaces_and_deletes_a_recording(
    settings, sessions, router, kim, make_staff
):
    admin = await make_staff(role="admin", password_hash=await hash_password(PASSWORD))
    async with serve_app(create_app(settings, sessions, router)) as url:
        b = AdminBrowser(url)
        try:
            await b.login(admin.email, PASSWORD)
            page = await b.get(f"/admin/content/{kim.id}?lang=ar")
            assert 'data-recording="none"' in page.text
            sent = await b.post(
                f"/admin/content/{kim.id}/recording",
                {"lang": "ar"},
                files={"file": ("kim.wav", sine(2.0), "audio/wav")},
            )
            assert sent.status_code == 303, sent.text[:500]
            assert sent.headers["location"].startswith(f"/admin/content/{kim.id}?lang=ar")
            page = await b.get(f"/admin/content/{kim.id}?lang=ar")
            assert 'data-recording="current"' in page.text
            player = f'<audio controls preload="none" src="/admin/content/{kim.id}/recording/ar"'
            assert player in page.text
            played = await b.get(f"/admin/content/{kim.id}/recording/ar")
            assert played.status_code == 200
            assert played.headers["content-type"] == "audio/ogg"
            assert "no-store" in played.headers["cache-control"]
            assert played.content[:4] == b"OggS" and b"OpusHead" in played.content[:200]
            assert (await b.get(f"/admin/content/{kim.id}/recording/fa")).status_code == 404
            listing = await b.get("/admin/content")
            assert 'data-recording="current"' in _cell(listing.text, kim.id, "ar")
            assert "data-recording" not in _cell(listing.text, kim.id, "fa")

            # Replace: one recording per language, now the OGG/Opus kept as it came.
            replaced = await b.post(
                f"/admin/content/{kim.id}/recording",
                {"lang": "ar"},
                files={"file": ("kim.ogg", opus(1.0), "audio/ogg")},
            )
            assert replaced.status_code == 303
            assert (await b.get(f"/admin/content/{kim.id}/recording/ar")).content == opus(1.0)
            assert await _count(sessions) == 1

            # The Arabic text changes: the recording is outdated, like a translation.
            await b.get(f"/admin/content/{kim.id}?lang=ar")
            saved = await b.post(
                f"/admin/content/{kim.id}?lang=ar", {"title": "كيم", "body": "نص جديد."}
            )
            assert saved.status_code == 303
            listing = await b.get("/admin/content")
            assert 'data-recording="outdated"' in _cell(listing.text, kim.id, "ar")
            page = await b.get(f"/admin/content/{kim.id}?lang=ar")
            assert 'data-recording="outdated"' in page.text

            gone = await b.post(f"/admin/content/{kim.id}/recording/delete", {"lang": "ar"})
            assert gone.status_code == 303
            assert await _count(sessions) == 0
            assert (await b.get(f"/admin/content/{kim.id}/recording/ar")).status_code == 404
        finally:
            await b.close()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.txt", b"Das ist kein Ton.\n" * 50, "Diese Datei ist keine Aufnahme."),
        ("leer.ogg", b"", "Wählen Sie eine Audiodatei."),
    ],
)
async def test_a_file_that_is_no_recording_is_refused_beside_the_input(
    settings, sessions, router, kim, make_staff, name, data, says
):
    admin = await make_staff(role="admin", password_hash=await hash_password(PASSWORD))
    async with serve_app(create_app(settings, sessions, router)) as url:
        b = AdminBrowser(url)
        try:
            await b.login(admin.email, PASSWORD)
            await b.get(f"/admin/content/{kim.id}?lang=ti")
            refused = await b.post(
                f"/admin/content/{kim.id}/recording",
                {"lang": "ti"},
                files={"file": (name, data, "application/octet-stream")},
            )
            assert refused.status_code == 400
            error = refused.text.split('id="file-error"')[1].split("</span>")[0]
            assert says in error
            assert 'aria-invalid="true"' in refused.text
            forged = await b.post(
                f"/admin/content/{kim.id}/recording",
                {"lang": "xx"},
                files={"file": ("a.ogg", opus(1.0), "audio/ogg")},
            )
            assert forged.status_code == 400
            assert await _count(sessions) == 0
        finally:
            await b.close()


async def test_coaches_cannot_upload_and_strangers_cannot_listen(
    settings, sessions, router, kim, make_staff
):
    coach = await make_staff(password_hash=await hash_password(PASSWORD))
    async with serve_app(create_app(settings, sessions, router)) as url:
        stranger = AdminBrowser(url)
        try:
            answer = await stranger.get(f"/admin/content/{kim.id}/recording/ar")
            assert answer.status_code in (302, 303)
            assert "/admin/login" in answer.headers["location"]
        finally:
            await stranger.close()
        c = AdminBrowser(url)
        try:
            await c.login(coach.email, PASSWORD)
            await c.get("/admin/content")
            refused = await c.post(
                f"/admin/content/{kim.id}/recording",
                {"lang": "ar"},
                files={"file": ("kim.ogg", opus(1.0), "audio/ogg")},
            )
            assert refused.status_code == 403
            assert await _count(sessions) == 0
        finally:
            await c.close()


async def test_an_admin_records_a_ready_group_message_per_language(
    settings, sessions, router, make_staff
):
    admin = await make_staff(role="admin", password_hash=await hash_password(PASSWORD))
    async with serve_app(create_app(settings, sessions, router)) as url:
        b = AdminBrowser(url)
        try:
            await b.login(admin.email, PASSWORD)
            listing = await b.get("/admin/templates")
            assert listing.status_code == 200
            assert 'data-lang="uk" data-recording="none"' in listing.text
            page = await b.get("/admin/templates/room_changed?lang=uk")
            assert "{place}" in page.text.split('id="template-text"')[1].split("</p>")[0]
            sent = await b.post(
                "/admin/templates/room_changed/recording",
                {"lang": "uk"},
                files={"file": ("room.mp3", sine(1.0, ".mp3"), "audio/mpeg")},
            )
            assert sent.status_code == 303
            listing = await b.get("/admin/templates")
            row = listing.text.split('/admin/templates/room_changed"')[1].split("</tr>")[0]
            assert 'data-lang="uk" data-recording="current"' in row
            assert 'data-lang="ar" data-recording="none"' in row
            played = await b.get("/admin/templates/room_changed/recording/uk")
            assert played.headers["content-type"] == "audio/ogg"
            assert played.content[:4] == b"OggS"
            assert (await b.get("/admin/templates/nope")).status_code == 404
            gone = await b.post("/admin/templates/room_changed/recording/delete", {"lang": "uk"})
            assert gone.status_code == 303 and await _count(sessions) == 0
        finally:
            await b.close()


async def test_a_template_recording_is_outdated_when_its_translation_changes(sessions, make_staff):
    from bot.features.broadcasts.render import template_text
    from bot.plumbing.audio import to_voice
    from bot.plumbing.recordings import recording_status, save_recording
    from storage.models import StaffUser
    from storage.types import utcnow

    admin_id = (await make_staff(role="admin")).id
    async with sessions.begin() as session:
        saved = await save_recording(
            session, actor=await session.get(StaffUser, admin_id), subject="template",
            key="office_closed", code="so", audio=await to_voice(opus(1.0)),
            text="an older Somali wording", now=utcnow(),
        )  # fmt: skip
        assert recording_status(saved, template_text("office_closed", "so")) == "outdated"
