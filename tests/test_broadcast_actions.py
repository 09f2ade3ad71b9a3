"""Broadcast actions shared by the coach's chat and the staff web: what a staff user may
write to, the content's checks, the preview's numbers, throwing a draft away, and which
version of an own text each reader gets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.features.broadcasts import actions
from bot.features.broadcasts.render import render_content, segment_label
from bot.plumbing.errors import UserError
from bot.plumbing.voice import Voice
from storage.models import AuditEntry, Broadcast, Module, StaffUser
from storage.types import utcnow
from tests.helpers import tr


async def _draft(session, actor: StaffUser) -> Broadcast:
    return await actions.start_broadcast(session, actor=actor, now=utcnow())


async def test_a_coach_may_write_to_their_own_courses_an_admin_to_all_and_to_modules(
    sessions, make_staff, make_course
):
    coach = await make_staff()
    other = await make_staff()
    admin = await make_staff(role="admin")
    mine = await make_course(slots=[(0, "09:00", "12:00")], coach_id=coach.id, title="B1")
    theirs = await make_course(slots=[(1, "09:00", "12:00")], coach_id=other.id, title="A2")
    async with sessions.begin() as session:
        session.add(Module(code="pfaff", name_de="PfaFF"))
    async with sessions() as session:
        courses, modules = await actions.segment_choices(session, actor=coach)
        assert [c.id for c in courses] == [mine.id] and modules == []
        courses, modules = await actions.segment_choices(session, actor=admin)
        assert [c.id for c in courses] == [theirs.id, mine.id]  # by title
        assert [m.code for m in modules] == ["pfaff"]


async def test_the_preview_counts_each_language_and_an_empty_group_is_refused(
    sessions, make_staff, make_participant, bind_chat
):
    coach = await make_staff()
    for chat, locale in ((1, "ar"), (2, "ar"), (3, "uk"), (4, None)):
        person = await make_participant(accepted=True, coach_id=coach.id)
        async with sessions.begin() as session:
            (await session.get(type(person), person.id)).locale = locale
        await bind_chat(person, chat)
    await make_participant(accepted=True, coach_id=coach.id, locale="fa")  # no chat
    async with sessions.begin() as session:
        draft = await _draft(session, coach)
        await actions.choose_segment(session, actor=coach, broadcast_id=draft.id, kind="caseload")
        found = await actions.language_counts(session, broadcast=draft, now=utcnow())
        assert found == {"ar": 2, "uk": 1, "de": 1}
        await actions.choose_segment(
            session, actor=coach, broadcast_id=draft.id, kind="caseload", languages=["fa"]
        )
        with pytest.raises(UserError) as refused:
            await actions.language_counts(session, broadcast=draft, now=utcnow())
    assert refused.value.message == "Nobody in this group can get a message right now."


async def test_bad_content_is_refused_and_changes_nothing(sessions, make_staff):
    coach = await make_staff()
    async with sessions.begin() as session:
        draft = await _draft(session, coach)
        await actions.set_content(session, actor=coach, broadcast_id=draft.id, text="Hallo")
    cases = [
        ({"versions": {"xx": "Hallo"}}, "This language is not available."),
        ({"versions": {"ar": "   "}}, "The message is empty."),
        ({"template": "office_closed", "params": {"date": "31.02.2027"}}, "Please choose a day."),
        ({"template": "room_changed", "params": {"place": "x" * 201}}, "at most {limit}"),
        ({"template": "no_such_template"}, "This button no longer works."),
    ]
    for content, message in cases:
        with pytest.raises(UserError) as refused:
            async with sessions.begin() as session:
                await actions.set_content(session, actor=coach, broadcast_id=draft.id, **content)
        assert message in refused.value.message, content
        # In every language the bot speaks, the refusal reads as a sentence, not a msgid.
        assert tr("ar", refused.value.message, **refused.value.params)
    async with sessions() as session:
        kept = await session.get(Broadcast, draft.id)
        assert (kept.text, kept.template, kept.versions) == ("Hallo", None, None)


async def test_a_draft_is_thrown_away_only_by_its_author_and_nothing_is_audited(
    sessions, make_staff
):
    coach = await make_staff()
    other = await make_staff()
    async with sessions.begin() as session:
        draft = await _draft(session, coach)
    with pytest.raises(UserError) as refused:
        async with sessions.begin() as session:
            await actions.discard_draft(session, actor=other, broadcast_id=draft.id)
    assert refused.value.message == actions.NOT_FOUND
    async with sessions.begin() as session:
        await actions.discard_draft(session, actor=coach, broadcast_id=draft.id)
    async with sessions() as session:
        assert await session.get(Broadcast, draft.id) is None
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize(
    ("versions", "text", "reader", "expected"),
    [
        ({"ar": "مرحبا", "de": "Hallo"}, None, "ar", "مرحبا"),
        ({"ar": "مرحبا", "de": "Hallo"}, None, "uk", "Hallo"),  # no English: German
        # English first; a fallback in a right-to-left message is isolated (FSI ... PDI)
        ({"ar": "مرحبا", "en": "Hello", "de": "Hallo"}, None, "fa", "\u2068Hello\u2069"),
        ({"ar": "مرحبا"}, "Für alle", "ti", "Für alle"),  # the text for everyone
        ({"ar": "مرحبا", "fa": "سلام"}, None, "ti", "مرحبا"),  # else the first written
        (None, "Für alle", "ar", "\u2068Für alle\u2069"),
    ],
)
def test_each_reader_gets_their_version_else_english_then_german(
    versions, text, reader, expected, settings
):
    broadcast = Broadcast(segment={}, params={}, versions=versions, text=text)
    voice = Voice.for_language(reader, tz=settings.tz, now=utcnow())
    assert render_content(voice, broadcast) == expected


async def test_an_admin_sending_a_coachs_caseload_draft_reaches_the_coachs_participants(
    sessions, make_staff, make_participant, bind_chat, settings
):
    coach = await make_staff()
    admin = await make_staff(role="admin")
    theirs = await make_participant(accepted=True, coach_id=coach.id)
    await bind_chat(theirs, 1)
    await bind_chat(await make_participant(accepted=True, coach_id=admin.id), 2)
    async with sessions.begin() as session:
        draft = await _draft(session, coach)
        await actions.choose_segment(session, actor=coach, broadcast_id=draft.id, kind="caseload")
        await actions.set_content(session, actor=coach, broadcast_id=draft.id, text="Hallo")
        queued = await actions.queue_broadcast(
            session, actor=admin, broadcast_id=draft.id, send_at=utcnow(), now=utcnow()
        )
        people = await actions.recipients(session, broadcast=queued, now=utcnow())
        german = Voice.for_language("de", tz=settings.tz, now=utcnow())
        as_admin = await segment_label(session, german, queued, viewer_id=admin.id)
        as_coach = await segment_label(session, german, queued, viewer_id=coach.id)
    assert queued.recipients == 1 and [p.id for p in people] == [theirs.id]
    assert as_admin == tr(
        "de", "the participants of {name}", name=german.isolate(coach.display_name)
    )
    assert as_coach == tr("de", "my participants")
