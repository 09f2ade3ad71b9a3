"""What comes next: a menu of short entries that staff edit (the programme, what ends when,
KIM, language courses, school, training and work, PfaFF), each in the participant's
language, with a contact and "ask a person".

German is the source text. A language version that is missing, or older than the German
one (outdated), is not shown; the participant gets the German text with a note instead,
so nobody reads something that is no longer true.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_, BY_CODE, N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.messages import Button, Document, Reply
from bot.plumbing.recordings import LISTEN, RECORDING_GONE, recording_status
from bot.plumbing.routes import ButtonRoute, Command, Feature, MenuEntry, ident
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.content import child_nodes, texts_of
from storage.models import ContentEntry, ContentNode, StaffUser
from storage.recordings import recording
from storage.types import utcnow

SOURCE = "de"
DEMO = Path(__file__).with_name("demo_content.json")
MAX_TITLE, MAX_BODY = 80, 1500


@dataclass(frozen=True)
class Shown:
    """The title and body a participant sees, and whether it is the German fallback."""

    title: str
    body: str
    fallback: bool


def status(entries: dict[tuple[str, str], ContentEntry], key: str, code: str) -> str:
    """ "missing", "outdated" (older than the German source) or "current"."""
    entry, source = entries.get((key, code)), entries.get((key, SOURCE))
    if entry is None or not entry.title.strip():
        return "missing"
    if code != SOURCE and source is not None and entry.updated_at < source.updated_at:
        return "outdated"
    return "current"


def shown(entries: dict[tuple[str, str], ContentEntry], key: str, code: str) -> Shown | None:
    """The participant's version if it is current, else the German source."""
    if status(entries, key, code) == "current":
        entry = entries[(key, code)]
        return Shown(entry.title, entry.body, fallback=False)
    source = entries.get((key, SOURCE))
    return Shown(source.title, source.body, fallback=True) if source else None


def spoken_text(entry: ContentEntry) -> str:
    """What a recording of a language version speaks: its title and its text."""
    return f"{entry.title}\n{entry.body}"


# ---------------------------------------------------------------- actions (admin web)


async def save_text(
    session: AsyncSession,
    *,
    actor: StaffUser,
    node_id: int,
    code: str,
    title: str,
    body: str,
    now: datetime,
) -> ContentEntry:
    """Write one language version of a node; a German change makes the others outdated."""
    node = await session.get(ContentNode, node_id)
    if node is None:
        raise UserError(A_("This entry does not exist."))
    if actor.role != "admin":
        raise UserError(A_("Only admins may edit the texts."))
    if code not in BY_CODE and code != SOURCE:
        raise UserError(A_("Unknown language."))
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise UserError(A_("Write a title and a text."))
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise UserError(
            A_("The title may have {title} characters, the text {body}."),
            title=MAX_TITLE,
            body=MAX_BODY,
        )
    entry = await session.scalar(
        select(ContentEntry).where(ContentEntry.key == node.key, ContentEntry.locale == code)
    )
    if entry is None:
        entry = ContentEntry(key=node.key, locale=code, title=title, body=body, updated_at=now)
        session.add(entry)
    else:
        entry.title, entry.body, entry.updated_at = title, body, now
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="content.saved",
        object_type="content",
        object_id=node.id,
        detail={"language": code},
    )
    return entry


async def save_contact(
    session: AsyncSession, *, actor: StaffUser, node_id: int, values: dict[str, str | None]
) -> ContentNode:
    """Change a node's contact and whether it offers "ask a person"."""
    node = await session.get(ContentNode, node_id)
    if node is None:
        raise UserError(A_("This entry does not exist."))
    if actor.role != "admin":
        raise UserError(A_("Only admins may edit the texts."))
    node.contact_name = (values.get("name") or "").strip()[:200] or None
    node.contact_phone = (values.get("phone") or "").strip()[:40] or None
    node.contact_address = (values.get("address") or "").strip()[:300] or None
    node.contact_hours = (values.get("hours") or "").strip()[:200] or None
    node.ask_person = values.get("ask") == "yes"
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="content.contact_saved",
        object_type="content",
        object_id=node.id,
    )
    return node


async def add_node(
    session: AsyncSession,
    *,
    actor: StaffUser,
    parent_id: int | None,
    title: str,
    body: str,
    now: datetime,
) -> ContentNode:
    """A new entry (top level or under `parent_id`) with its German text; the other
    languages are "missing" until translated (participants see the German text meanwhile)."""
    if actor.role != "admin":
        raise UserError(A_("Only admins may edit the texts."))
    if parent_id is not None and await session.get(ContentNode, parent_id) is None:
        raise UserError(A_("This entry does not exist."))
    siblings = await child_nodes(session, parent_id=parent_id)
    node = ContentNode(
        key=f"entry-{uuid.uuid4().hex[:12]}",
        parent_id=parent_id,
        position=max((n.position for n in siblings), default=-1) + 1,
    )
    session.add(node)
    await session.flush()
    await save_text(
        session, actor=actor, node_id=node.id, code=SOURCE, title=title, body=body, now=now
    )
    return node


async def delete_node(session: AsyncSession, *, actor: StaffUser, node_id: int) -> None:
    """Remove an entry, its sub-entries and all their language versions."""
    if actor.role != "admin":
        raise UserError(A_("Only admins may edit the texts."))
    node = await session.get(ContentNode, node_id)
    if node is None:
        raise UserError(A_("This entry does not exist."))
    keys, queue = [], [node]
    while queue:
        current = queue.pop()
        keys.append(current.key)
        queue.extend(await child_nodes(session, parent_id=current.id))
    await session.execute(delete(ContentEntry).where(ContentEntry.key.in_(keys)))
    await session.execute(delete(ContentNode).where(ContentNode.key.in_(keys)))
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="content.deleted",
        object_type="content",
        object_id=node_id,
        detail={"entries": len(keys)},
    )


async def seed_demo_content(session: AsyncSession, *, path: Path = DEMO) -> int:
    """Fill an empty tree from the demo file (the press release's facts); nodes added."""
    if await session.scalar(select(func.count()).select_from(ContentNode)):
        return 0
    data = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    now = utcnow()
    for position, item in enumerate(data["nodes"]):
        contact = item.get("contact", {})
        session.add(
            ContentNode(
                key=item["key"],
                position=position,
                contact_name=contact.get("name"),
                contact_phone=contact.get("phone"),
                contact_address=contact.get("address"),
                contact_hours=contact.get("hours"),
                ask_person=bool(item.get("ask_person")),
            )
        )
        for code, text in item["texts"].items():
            session.add(
                ContentEntry(
                    key=item["key"],
                    locale=code,
                    title=text["title"],
                    body=text["body"],
                    updated_at=now,
                )
            )
    return len(data["nodes"])


# ---------------------------------------------------------------- rendering


def render_node(
    voice: Voice,
    node: ContentNode,
    text: Shown,
    children: list[tuple[ContentNode, Shown]],
    *,
    listen: bool = False,
) -> Reply:
    """One entry: its text, its contact, 🔊 (where a current recording in the reader's
    language exists), its sub-entries, "ask a person", back."""
    lines = [f"🧭 {text.title}", "", text.body]
    if text.fallback:
        # TRANSLATORS: when an entry is not (yet) translated and shown in German.
        lines.insert(0, voice._("(Not translated yet. Here it is in German.)"))
    contact = [
        ("👤", node.contact_name),
        ("📞", node.contact_phone),
        ("📍", node.contact_address),
        ("🕒", node.contact_hours),
    ]
    if any(value for _icon, value in contact):
        lines.append("")
        lines.extend(f"{icon} {voice.isolate(value)}" for icon, value in contact if value)
    buttons = [[Button(voice.label(LISTEN), f"nl:{node.id}")]] if listen else []
    buttons += [
        [Button(child_text.title[:60], f"ns:{child.id}")] for child, child_text in children
    ]
    if node.ask_person:
        buttons.append([Button(voice.label("🙋 Ask a person"), "mn:msg")])
    back = f"ns:{node.parent_id}" if node.parent_id else "mn:ns"
    # The arrow points the way back: to the right in right-to-left text.
    label = voice.label("⬅️ Back")
    buttons.append([Button(label.replace("⬅", "➡") if voice.rtl else label, back)])
    return voice.reply("\n".join(lines), buttons, edit=True)


async def _children(turn: Turn, parent_id: int | None) -> list[tuple[ContentNode, Shown]]:
    nodes = await child_nodes(turn.session, parent_id=parent_id)
    entries = await texts_of(turn.session, keys=[n.key for n in nodes])
    found = []
    for node in nodes:
        text = shown(entries, node.key, turn.voice.code)
        if text is not None:
            found.append((node, text))
    return found


# ---------------------------------------------------------------- chat handlers


async def cmd_next(turn: Turn) -> list[Reply]:
    """/next and "What comes next": the top entries as buttons."""
    children = await _children(turn, None)
    if not children:
        text = turn._("There is nothing here yet. Please ask your coach.")
        return [turn.reply(text, menu.menu_button(turn.voice))]
    buttons = [[Button(text.title[:60], f"ns:{node.id}")] for node, text in children]
    # TRANSLATORS: the heading of the "what comes next" menu (after the programme).
    text = turn._("What comes after the programme? Choose a topic:")
    return [turn.reply(text, buttons + menu.menu_button(turn.voice))]


async def cb_node(turn: Turn, node_id: int) -> list[Reply]:
    """One entry of the tree."""
    node = await turn.session.get(ContentNode, node_id)
    entries = await texts_of(turn.session, keys=[node.key]) if node else {}
    text = shown(entries, node.key, turn.voice.code) if node else None
    if node is None or text is None:
        raise UserError(N_("This topic no longer exists. Here are the topics now: /next"))
    listen = not text.fallback and await _spoken(turn, node, entries) is not None
    children = await _children(turn, node.id)
    return [render_node(turn.voice, node, text, children, listen=listen)]


async def _spoken(
    turn: Turn, node: ContentNode, entries: dict[tuple[str, str], ContentEntry]
) -> bytes | None:
    """The recording of the entry in the reader's language if it speaks the text as it is
    now (an outdated one is not offered: they would hear something else than they read)."""
    code = turn.voice.code
    if status(entries, node.key, code) != "current":
        return None
    found = await recording(
        turn.session, subject="content", key=node.key, locale=code, with_audio=True
    )
    if recording_status(found, spoken_text(entries[(node.key, code)])) != "current":
        return None
    return found.audio if found else None


async def cb_listen(turn: Turn, node_id: int) -> list[Reply]:
    """🔊 on an entry: its recording as a voice message."""
    node = await turn.session.get(ContentNode, node_id)
    entries = await texts_of(turn.session, keys=[node.key]) if node else {}
    audio = await _spoken(turn, node, entries) if node else None
    if node is None or audio is None:
        raise UserError(RECORDING_GONE)
    title = entries[(node.key, turn.voice.code)].title
    spoken = Document(f"{node.key}.ogg", audio, "audio/ogg", spoken=True)
    return [turn.reply(f"🔊 {title}", document=spoken)]


FEATURE = Feature(
    name="next_steps",
    commands=(Command("next", N_("What comes after the programme"), cmd_next, rank=70),),
    buttons=(
        ButtonRoute("mn:ns", cmd_next),
        ButtonRoute("ns", cb_node, (ident,)),
        ButtonRoute("nl", cb_listen, (ident,)),
    ),
    menu=(MenuEntry(N_("🧭 What comes next"), "mn:ns", row=3),),
)
