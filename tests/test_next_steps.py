"""What comes next: the staff-edited tree in the bot, in every language, with contacts and
"ask a person"; a missing or outdated translation falls back to German with a note; staff
edit texts and see each language's status."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.features.next_steps import DEMO, seed_demo_content
from bot.i18n import LANGUAGES
from bot.web.app import create_app
from storage.models import ContentEntry, ContentNode
from tests.admin_client import AdminBrowser
from tests.conftest import serve_app
from tests.helpers import data_of, labels, tr

NOTE = "(Not translated yet. Here it is in German.)"


@pytest.fixture
async def tree(sessions):
    async with sessions.begin() as session:
        assert await seed_demo_content(session) == 7
    async with sessions() as session:
        return {n.key: n for n in await session.scalars(select(ContentNode))}


def test_demo_content_is_complete_in_every_language():
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    for node in data["nodes"]:
        missing = [
            language.code
            for language in LANGUAGES
            if not node["texts"].get(language.code, {}).get("body")
        ]
        assert missing == [], f"{node['key']}: no text in {missing}"
        assert "/handover" in node["texts"]["ar"]["body"] or node["key"] != "kim"


@pytest.mark.parametrize("code", ["ar", "ti", "uk", "de_simple"])
async def test_the_menu_and_an_entry_in_the_participants_language(
    telegram, tree, make_participant, bind_chat, code
):
    person = await make_participant(locale=code, accepted=True)
    await bind_chat(person, 9701)
    user = telegram.fake.user(chat_id=9701, language_code=code)
    [menu] = await user.exchange("/next")
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    titles = [node["texts"][code]["title"] for node in data["nodes"]]
    assert labels(menu)[: len(titles)] == titles
    assert menu["text"] == tr(code, "What comes after the programme? Choose a topic:")
    [kim] = await user.press_and_wait(f"ns:{tree['kim'].id}")
    kim_text = next(n for n in data["nodes"] if n["key"] == "kim")["texts"][code]
    assert kim_text["body"] in kim["text"] and NOTE not in kim["text"]
    assert "📞 " in kim["text"] and "+49 2303 27-0" in kim["text"]
    assert "mn:msg" in data_of(kim)  # ask a person: write to the coach
    assert tr(code, "🙋 Ask a person") in labels(kim)
    # "Back" points the way back: to the right in right-to-left text.
    assert labels(kim)[-1].startswith("➡️" if code == "ar" else "⬅️"), labels(kim)[-1]


async def test_outdated_or_missing_translations_show_german_with_a_note(
    telegram, tree, sessions, make_participant, bind_chat
):
    async with sessions.begin() as session:
        german = await session.scalar(
            select(ContentEntry).where(ContentEntry.key == "ends", ContentEntry.locale == "de")
        )
        german.body = "Das Programm endet am 30. April. PfaFF läuft bis 30. Juni."
        from storage.types import utcnow

        german.updated_at = utcnow()
    person = await make_participant(locale="fa", accepted=True)
    await bind_chat(person, 9702)
    user = telegram.fake.user(chat_id=9702, language_code="fa")
    await user.exchange("/next")
    [shown] = await user.press_and_wait(f"ns:{tree['ends'].id}")
    assert tr("fa", NOTE) in shown["text"] and "30. April" in shown["text"]
    [other] = await user.press_and_wait(f"ns:{tree['kim'].id}", force=True)
    assert tr("fa", NOTE) not in other["text"]  # only the changed entry falls back


async def test_a_forged_topic_id_gets_a_clear_answer(telegram, tree, make_participant, bind_chat):
    person = await make_participant(locale="tr", accepted=True)
    await bind_chat(person, 9703)
    user = telegram.fake.user(chat_id=9703, language_code="tr")
    await user.exchange("/next")
    answer, *_ = await user.press_and_wait("ns:99999", force=True)
    assert answer["text"].startswith(
        tr("tr", "This topic no longer exists. Here are the topics now: /next")
    )


async def test_staff_edit_a_text_and_see_each_languages_status(
    settings, sessions, router, tree, make_staff
):
    from bot.features.staff.accounts import hash_password

    admin = await make_staff(role="admin", password_hash=await hash_password("long password 1"))
    coach = await make_staff(password_hash=await hash_password("long password 1"))
    async with serve_app(create_app(settings, sessions, router)) as url:
        b = AdminBrowser(url)
        try:
            await b.login(admin.email, "long password 1")
            listing = await b.get("/admin/content")
            assert 'data-lang="ar" data-status="current"' in listing.text
            node = tree["language"]
            await b.get(f"/admin/content/{node.id}?lang=de")
            saved = await b.post(
                f"/admin/content/{node.id}?lang=de",
                {"title": "Deutschkurse", "body": "Neu: Kurse auch am Samstag."},
            )
            assert saved.status_code == 303
            listing = await b.get("/admin/content")
            row = listing.text.split(f'/admin/content/{node.id}"')[1].split("</tr>")[0]
            assert 'data-lang="ar" data-status="outdated"' in row
            empty = await b.post(f"/admin/content/{node.id}?lang=ar", {"title": "", "body": ""})
            assert empty.status_code == 400
            fixed = await b.post(
                f"/admin/content/{node.id}?lang=ar",
                {"title": "دورات اللغة الألمانية", "body": "جديد: دورات يوم السبت أيضًا."},
            )
            assert fixed.status_code == 303
            listing = await b.get("/admin/content")
            row = listing.text.split(f'/admin/content/{node.id}"')[1].split("</tr>")[0]
            assert 'data-lang="ar" data-status="current"' in row
        finally:
            await b.close()
        c = AdminBrowser(url)
        try:
            await c.login(coach.email, "long password 1")
            assert (await c.get(f"/admin/content/{tree['kim'].id}")).status_code == 403
        finally:
            await c.close()


async def test_staff_add_an_entry_it_shows_in_german_until_translated_and_can_be_deleted(
    telegram, settings, sessions, router, tree, make_staff, make_participant, bind_chat
):
    from bot.features.staff.accounts import hash_password

    admin = await make_staff(role="admin", password_hash=await hash_password("long password 1"))
    person = await make_participant(locale="ar", accepted=True)
    await bind_chat(person, 9704)
    user = telegram.fake.user(chat_id=9704, language_code="ar")
    async with serve_app(create_app(settings, sessions, router)) as url:
        b = AdminBrowser(url)
        try:
            await b.login(admin.email, "long password 1")
            await b.get("/admin/content")
            made = await b.post(
                "/admin/content/new",
                {
                    "parent": str(tree["kim"].id),
                    "title": "Sprechstunde im Kreishaus",
                    "body": "Jeden Donnerstag 14–17 Uhr, ohne Termin.",
                },
            )
            assert made.status_code == 303
            listing = await b.get("/admin/content")
            [row] = [
                r
                for r in listing.text.split("</tr>")
                if "Sprechstunde im Kreishaus" in r and "data-lang" in r
            ]
            assert 'data-lang="ar" data-status="missing"' in row
            assert 'data-lang="de" data-status="current"' in row

            await user.exchange("/next")
            [kim] = await user.press_and_wait(f"ns:{tree['kim'].id}")
            assert "Sprechstunde im Kreishaus" in labels(kim)
            child = next(
                d for d in data_of(kim) if d.startswith("ns:") and d != f"ns:{tree['kim'].id}"
            )
            [shown] = await user.press_and_wait(child)
            assert tr("ar", NOTE) in shown["text"] and "ohne Termin" in shown["text"]

            node_id = int(child.split(":")[1])
            await b.get(f"/admin/content/{node_id}")
            gone = await b.post(f"/admin/content/{node_id}/delete", {"confirm": "yes"})
            assert gone.status_code == 303
            assert "Sprechstunde" not in (await b.get("/admin/content")).text
        finally:
            await b.close()
    async with sessions() as session:
        assert await session.get(ContentNode, node_id) is None
        left = await session.scalar(
            select(ContentEntry).where(ContentEntry.title == "Sprechstunde im Kreishaus")
        )
    assert left is None
