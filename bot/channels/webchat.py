"""Web chat adapter: the same flows in a browser page, one transcript per browser.

The browser holds a random chat key in a cookie, signed with a secret of this deployment, so
every process knows a key it made without storing one per page view (a link preview or a
crawler opening /chat writes nothing). Storage sees only the key's SHA-256: a key is stored
when its browser first posts, and each chat's transcript is stored (bounded per chat, pruned
after WEBCHAT_RETENTION_DAYS), so a chat survives a restart, works with several processes, and
an open page sees pushes by watching its stored transcript. Nothing of the conversation is
written to a log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import update

from bot.plumbing.delivery import Outcome, Status
from bot.plumbing.messages import Button, Document, Incoming, Reply
from bot.plumbing.metrics import reply_timer
from bot.plumbing.router import Router
from bot.plumbing.serial import ChatSerializer
from storage import webchat as store
from storage.identities import find_identity
from storage.models import ChannelIdentity, WebChatEntry
from storage.secrets import stored_secret
from storage.types import utcnow

COOKIE = "ww_chat"
CHANNEL = "web"
MAX_ENTRIES = 40  # entries kept per chat


@dataclass
class Entry:
    """One line of the transcript: from the user, or a bot reply."""

    id: int
    sender: str  # "user" | "bot"
    text: str
    reply: Reply | None = None


@dataclass
class Transcript:
    """What a browser sees: the last entries of its conversation."""

    entries: list[Entry] = field(default_factory=list)

    @property
    def lang(self) -> str:
        """Language of the latest bot reply, for the page's lang attribute."""
        replies = [e.reply for e in self.entries if e.reply is not None]
        return replies[-1].lang if replies else "en"

    @property
    def rtl(self) -> bool:
        """Direction of the latest bot reply."""
        replies = [e.reply for e in self.entries if e.reply is not None]
        return replies[-1].rtl if replies else False

    @property
    def version(self) -> str:
        """Changes whenever an entry is added, edited or removed: an open page compares it."""
        return hashlib.sha256(repr(self.entries).encode()).hexdigest()[:20]


def _stored(reply: Reply) -> dict[str, Any]:
    """What the transcript keeps of a reply: buttons, language, direction, file."""
    document = reply.document
    return {
        "buttons": [[[b.label, b.data] for b in row] for row in reply.buttons],
        "lang": reply.lang,
        "rtl": reply.rtl,
        "toast": reply.toast,  # the short notice of a pressed button, shown under it
        "document": (
            {
                "filename": document.filename,
                "mime_type": document.mime_type,
                "content": base64.b64encode(document.content).decode(),
            }
            if document
            else None
        ),
    }


def _entry(row: WebChatEntry) -> Entry:
    if row.reply is None:
        return Entry(row.id, row.sender, row.text)
    data = row.reply
    document = data.get("document")
    reply = Reply(
        text=row.text,
        buttons=[[Button(label, value) for label, value in line] for line in data["buttons"]],
        lang=data.get("lang", "en"),
        rtl=bool(data.get("rtl")),
        toast=data.get("toast"),
        document=(
            Document(
                document["filename"], base64.b64decode(document["content"]), document["mime_type"]
            )
            if document
            else None
        ),
    )
    return Entry(row.id, row.sender, row.text, reply)


def new_chat_key() -> str:
    """A fresh 128-bit chat key for a browser cookie (unsigned, as keys were before)."""
    return secrets.token_urlsafe(16)


def _signature(secret: bytes, token: str) -> str:
    digest = hmac.new(secret, f"webchat:{token}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def form_token(key: str) -> str:
    """The CSRF token of a chat's forms: derived from its key, which only that browser has,
    so another site cannot forge a post (and every process computes the same)."""
    return hashlib.sha256(f"form:{key}".encode()).hexdigest()[:32]


def chat_id_for(key: str) -> str:
    """The id storage knows a web chat by: a hash of the cookie, never the cookie."""
    return "w" + hashlib.sha256(key.encode()).hexdigest()[:40]


class WebChat:
    """Feeds browser input to the router and keeps each browser's transcript (stored)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.sessions = router.sessions
        # Two posts of one browser (a double click, a retry) are handled in order.
        self._chats = ChatSerializer()
        self._signing: bytes | None = None

    async def _secret(self) -> bytes:
        """This deployment's key-signing secret, the same in every process."""
        if self._signing is None:
            async with self.sessions.begin() as session:
                made = await stored_secret(
                    session, name="webchat-key", make=lambda: secrets.token_hex(32)
                )
            self._signing = made.encode()
        return self._signing

    async def new_key(self) -> str:
        """A new chat key for a browser's cookie, signed and stored nowhere yet."""
        token = new_chat_key()
        return f"{token}.{_signature(await self._secret(), token)}"

    async def accepts(self, key: str) -> bool:
        """True for a key this deployment made (signed), or an older stored or bound one."""
        token, dot, signature = key.partition(".")
        if dot:
            expected = _signature(await self._secret(), token)
            return hmac.compare_digest(signature.encode(), expected.encode())
        async with self.sessions() as session:
            chat_id = chat_id_for(key)
            if await store.key_known(session, chat_id=chat_id):
                return True
            found = await find_identity(session, channel=CHANNEL, external_id=chat_id)
            return found is not None

    async def posted(self, key: str) -> None:
        """The browser posted with this key: from now on it is stored (its first post issues
        it; a page view alone writes nothing)."""
        async with self.sessions.begin() as session:
            await store.add_key(session, chat_id=chat_id_for(key), now=utcnow())

    async def is_bound(self, key: str) -> bool:
        """Whether this browser's chat is connected to a participant or staff user."""
        async with self.sessions() as session:
            found = await find_identity(session, channel=CHANNEL, external_id=chat_id_for(key))
            return found is not None

    async def rotate(self, key: str) -> str:
        """A new key for a chat that was just bound: a key planted before the binding (by
        someone who wants to read along) no longer reaches the bound chat."""
        new = await self.new_key()
        old_id, new_id = chat_id_for(key), chat_id_for(new)
        async with self.sessions.begin() as session:
            await session.execute(
                update(ChannelIdentity)
                .where(ChannelIdentity.channel == CHANNEL, ChannelIdentity.external_id == old_id)
                .values(external_id=new_id)
            )
            await store.move_chat(session, old=old_id, new=new_id)
            await store.forget_key(session, chat_id=old_id)
            await store.add_key(session, chat_id=new_id, now=utcnow())
        return new

    async def transcript(self, key: str) -> Transcript:
        """The transcript of one browser."""
        async with self.sessions() as session:
            rows = await store.entries_of(session, chat_id=chat_id_for(key), limit=MAX_ENTRIES)
        return Transcript([_entry(row) for row in rows])

    async def send_text(self, key: str, text: str, language_code: str | None) -> None:
        """The user typed text (or a command)."""
        incoming = Incoming(CHANNEL, chat_id_for(key), text=text, language_code=language_code)
        # Never show an invite code: "/start X", "/START X", "/start@bot X", "/start\tX".
        shown = "/start …" if incoming.command == "/start" and incoming.argument else text
        with reply_timer(CHANNEL):
            async with self._chats.turn(incoming.chat_id):
                replies = await self.router.handle(incoming)
                await self._record(incoming.chat_id, replies, typed=shown, pressed=None)

    async def press(
        self, key: str, data: str, entry_id: int | None, language_code: str | None
    ) -> int | None:
        """The user pressed a button on the bot entry `entry_id`; the id of that entry when
        the answer only changed it (the page shows it there, with its short notice)."""
        incoming = Incoming(CHANNEL, chat_id_for(key), callback=data, language_code=language_code)
        with reply_timer(CHANNEL):
            async with self._chats.turn(incoming.chat_id):
                replies = await self.router.handle(incoming)
                return await self._record(incoming.chat_id, replies, typed=None, pressed=entry_id)

    async def _record(
        self, chat_id: str, replies: list[Reply], *, typed: str | None, pressed: int | None
    ) -> int | None:
        """Store what the user did and what the bot answered; an edit replaces the pressed
        entry, and an erasure ("forget") leaves only the last answer. The edited entry's id
        when nothing was added."""
        edited: int | None = None
        added = False
        async with self.sessions.begin() as session:
            if any(reply.forget for reply in replies):
                await store.clear(session, chat_id=chat_id)
                typed, pressed = None, None
            if typed is not None:
                await store.add_entry(
                    session, chat_id=chat_id, sender="user", text=typed, reply=None
                )
            target = await session.get(WebChatEntry, pressed) if pressed else None
            if target is not None and (target.chat_id != chat_id or target.reply is None):
                target = None  # another chat's entry id: never touched
            for reply in replies:
                if reply.edit and target is not None:
                    target.text, target.reply = reply.text, _stored(reply)
                    edited, target = target.id, None
                    continue
                added = True
                await store.add_entry(
                    session, chat_id=chat_id, sender="bot", text=reply.text, reply=_stored(reply)
                )
            await store.trim(session, chat_id=chat_id, keep=MAX_ENTRIES)
        return None if added else edited

    async def answer_only(self, key: str, typed: str, reply: Reply) -> None:
        """Record what the user typed and an answer made without the router (a refusal)."""
        await self._record(chat_id_for(key), [reply], typed=typed, pressed=None)

    async def push(self, chat_id: str, reply: Reply) -> None:
        """A push (reminder, notice) for a browser chat: an open page shows it within a few
        seconds (it watches the stored transcript), a closed one when next opened."""
        await self._record(chat_id, [replace(reply, edit=False)], typed=None, pressed=None)

    async def document(self, key: str, entry_id: int) -> Reply | None:
        """The reply with a file on entry `entry_id` of this browser's chat, for download."""
        async with self.sessions() as session:
            row = await session.get(WebChatEntry, entry_id)
        if row is None or row.chat_id != chat_id_for(key) or row.reply is None:
            return None
        entry = _entry(row)
        return entry.reply if entry.reply and entry.reply.document else None


class WebChatSender:
    """The dispatcher's way into the web chat: pushes wait in the stored transcript."""

    def __init__(self, chat: WebChat) -> None:
        self.chat = chat

    async def send(self, chat_id: str, reply: Reply, *, priority: int = 0) -> Outcome:
        """Append the push to that browser's stored transcript."""
        await self.chat.push(chat_id, reply)
        return Outcome(Status.SENT)
