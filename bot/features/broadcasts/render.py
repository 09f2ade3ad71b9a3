"""Rendering broadcasts: one recipient's copy at send time, the preview, the report."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.broadcasts.actions import TEMPLATES
from bot.i18n import BY_CODE, FALLBACK_CHAIN, N_, translator
from bot.plumbing.formatting import long_date, moment
from bot.plumbing.messages import Button, Reply
from bot.plumbing.recordings import LISTEN, recording_status
from bot.plumbing.routes import Skip
from bot.plumbing.voice import Voice
from storage.models import Broadcast, Course, Module, OutboxMessage, Participant, StaffUser
from storage.recordings import recording

STATES = (
    # TRANSLATORS: to staff, in a delivery report: how many copies are in each state.
    ("sent", N_("sent")),
    ("pending", N_("waiting")),
    ("failed", N_("failed")),
    ("blocked", N_("blocked")),
    ("skipped", N_("skipped")),
    ("cancelled", N_("stopped")),
)

# TRANSLATORS: to staff: the four ready-made broadcast messages, as button labels.
TEMPLATE_LABELS = {
    "course_cancelled": N_("Course cancelled on a day"),
    "room_changed": N_("New room"),
    "bring_documents": N_("Bring your documents"),
    "office_closed": N_("Office closed on a day"),
}


def template_text(name: str, code: str) -> str:
    """A ready message in one language as written, placeholders and all: what a recording
    of it speaks (it changes when its translation does)."""
    return translator(code).gettext(TEMPLATES[name][0])


async def spoken_template(session: AsyncSession, name: str, code: str) -> bytes | None:
    """The recording of a ready message in a language if it speaks its text as it is now
    (an outdated one is not offered: the reader would hear something else)."""
    found = await recording(session, subject="template", key=name, locale=code, with_audio=True)
    if recording_status(found, template_text(name, code)) != "current":
        return None
    return found.audio if found else None


def render_content(voice: Voice, broadcast: Broadcast) -> str:
    """The message in the voice's language: a template, a version for it, or the free text."""
    if broadcast.template is not None:
        message, needed = TEMPLATES[broadcast.template]
        values: dict[str, str] = {}
        for name in needed:
            raw = str(broadcast.params.get(name, ""))
            if name == "date":
                values[name] = voice.isolate(long_date(voice, date.fromisoformat(raw)))
            else:
                values[name] = voice.isolate(raw)
        return voice._(message, **values)
    versions = broadcast.versions or {}
    if versions.get(voice.code):
        return versions[voice.code]  # written in the reader's language
    for code in FALLBACK_CHAIN:
        if versions.get(code):
            return voice.free_text(versions[code])
    # No version for this reader, none in English or German: the text for everyone, or
    # else the first version written.
    return voice.free_text(broadcast.text or next(iter(versions.values()), ""))


async def broadcast_message(
    session: AsyncSession, voice: Voice, row: OutboxMessage
) -> Reply | None:
    """Outbox `broadcast.message`: one participant's copy, unless stopped or cancelled."""
    broadcast = await session.get(Broadcast, row.broadcast_id or 0)
    if broadcast is None or broadcast.state == "cancelled":
        raise Skip("broadcast cancelled")
    participant = await session.get(Participant, row.participant_id or 0)
    if participant is None or participant.status != "active":
        raise Skip("participant not active")
    if participant.broadcasts_stopped_at is not None:
        raise Skip("participant sent /stop")
    buttons = []
    if broadcast.template and await spoken_template(session, broadcast.template, voice.code):
        buttons = [[Button(voice.label(LISTEN), f"bc:l:{broadcast.id}")]]
    return voice.reply("📢 " + render_content(voice, broadcast), buttons)


async def segment_label(
    session: AsyncSession, voice: Voice, broadcast: Broadcast, *, viewer_id: int | None = None
) -> str:
    """Who a broadcast is for, in the words of the staff user `viewer_id` (a caseload that
    is not theirs is named by its coach)."""
    segment = broadcast.segment
    kind = segment.get("kind")
    if kind == "course":
        course = await session.get(Course, segment.get("id") or 0)
        label = voice.isolate(course.title) if course else "–"
    elif kind == "module":
        module = await session.get(Module, segment.get("id") or 0)
        label = voice.isolate(module.name_de) if module else "–"
    elif kind == "caseload" and viewer_id not in (None, broadcast.created_by_id):
        author = await session.get(StaffUser, broadcast.created_by_id)
        # TRANSLATORS: to staff (an admin): who a broadcast went to; {name} is the coach
        # whose participants they are.
        label = voice._(
            "the participants of {name}",
            name=voice.isolate(author.display_name if author else "–"),
        )
    elif kind == "caseload":
        label = voice._("my participants")
    else:
        label = voice._("everyone")
    if segment.get("languages"):
        names = ", ".join(BY_CODE[code].native_name for code in segment["languages"])
        label += f" ({voice.isolate(names)})"
    return label


def render_preview(
    voice: Voice, broadcast: Broadcast, languages: Counter[str], label: str
) -> Reply:
    """Per language: how many get it and the text they see; then send now or later."""
    total = sum(languages.values())
    lines = [
        voice.ngettext(
            "Preview for {group}: {n} person will get this.",
            "Preview for {group}: {n} people will get this.",
            total,
            group=label,
        )
    ]
    for code, count in sorted(languages.items(), key=lambda item: -item[1]):
        shown = Voice.for_language(code, tz=voice.tz, now=voice.now)
        name = BY_CODE[code].native_name if code in BY_CODE else code
        lines.append(
            f"• {voice.isolate(name)} ({count}): {shown.isolate(render_content(shown, broadcast))}"
        )
    ident = broadcast.id
    buttons = [
        [Button(voice.label("📤 Send now"), f"bc:now:{ident}")],
        [
            Button(voice.label("⏰ In one hour"), f"bc:h1:{ident}"),
            Button(voice.label("⏰ Tomorrow at 08:00"), f"bc:tm:{ident}"),
        ],
        [Button(voice.label("✖ Cancel"), f"bc:x:{ident}")],
    ]
    return voice.reply("\n".join(lines), buttons, edit=True)


async def render_report(
    session: AsyncSession,
    voice: Voice,
    items: list[tuple[Broadcast, Counter[str]]],
    *,
    viewer_id: int,
) -> list[Reply]:
    """The last broadcasts with their delivery counts; a stop button while copies wait."""
    if not items:
        return [
            voice.reply(voice._("You have not sent a broadcast yet. Start one with /broadcast."))
        ]
    replies = []
    for broadcast, found in items:
        when = moment(voice, broadcast.send_at or broadcast.created_at)
        label = await segment_label(session, voice, broadcast, viewer_id=viewer_id)
        numbers = ", ".join(
            f"{voice._(name)} {found.get(state, 0)}" for state, name in STATES if found.get(state)
        )
        text = f"📢 {voice.isolate(when)} – {label}\n{numbers or '–'}"
        buttons = []
        if found.get("pending") and broadcast.state != "cancelled":
            buttons = [[Button(voice.label("✖ Stop the rest"), f"bc:stop:{broadcast.id}")]]
        replies.append(voice.reply(text, buttons))
    return replies
