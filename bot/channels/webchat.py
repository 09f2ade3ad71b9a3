"""Web chat adapter: the same flows in a browser page, one transcript per browser.

The browser holds a random chat key in a cookie; storage sees only its SHA-256, and the
transcript lives in memory (bounded), so nothing of the conversation is written to disk.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from sqlalchemy import update

from bot.plumbing.delivery import Outcome, Status
from bot.plumbing.messages import Incoming, Reply
from bot.plumbing.router import Router
from storage.identities import find_identity
from storage.models import ChannelIdentity

COOKIE = "ww_chat"
CHANNEL = "web"
MAX_CHATS = 2000  # transcripts kept in memory; the oldest chat is forgotten first
MAX_ENTRIES = 40  # entries per transcript


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

    entries: deque[Entry] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES))

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


def new_chat_key() -> str:
    """A fresh 128-bit chat key for a browser cookie."""
    return secrets.token_urlsafe(16)


def chat_id_for(key: str) -> str:
    """The id storage knows a web chat by: a hash of the cookie, never the cookie."""
    return "w" + hashlib.sha256(key.encode()).hexdigest()[:40]


class WebChat:
    """Feeds browser input to the router and keeps each browser's transcript."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._transcripts: OrderedDict[str, Transcript] = OrderedDict()
        self._ids = itertools.count(1)
        # Chat ids whose key this server handed out; a key made up elsewhere is refused.
        self._issued: OrderedDict[str, None] = OrderedDict()

    def issue(self) -> str:
        """A new chat key made here, for a browser's cookie."""
        key = new_chat_key()
        self._issued[chat_id_for(key)] = None
        while len(self._issued) > MAX_CHATS * 5:
            self._issued.popitem(last=False)
        return key

    async def accepts(self, key: str) -> bool:
        """True for a key this server issued, or one whose chat is bound (after a restart)."""
        chat_id = chat_id_for(key)
        return chat_id in self._issued or await self.is_bound(key)

    async def is_bound(self, key: str) -> bool:
        """Whether this browser's chat is connected to a participant or staff user."""
        async with self.router.sessions() as session:
            found = await find_identity(session, channel=CHANNEL, external_id=chat_id_for(key))
            return found is not None

    async def rotate(self, key: str) -> str:
        """A new key for a chat that was just bound: a key planted before the binding (by
        someone who wants to read along) no longer reaches the bound chat."""
        new = self.issue()
        old_id, new_id = chat_id_for(key), chat_id_for(new)
        async with self.router.sessions.begin() as session:
            await session.execute(
                update(ChannelIdentity)
                .where(ChannelIdentity.channel == CHANNEL, ChannelIdentity.external_id == old_id)
                .values(external_id=new_id)
            )
        transcript = self._transcripts.pop(old_id, None)
        if transcript is not None:
            self._transcripts[new_id] = transcript
        self._issued.pop(old_id, None)
        return new

    def transcript(self, key: str) -> Transcript:
        """The transcript of one browser, created on first use."""
        return self._transcript_of(chat_id_for(key))

    def _transcript_of(self, chat_id: str) -> Transcript:
        """A chat's transcript; at most MAX_CHATS are kept, the oldest is forgotten first."""
        transcript = self._transcripts.get(chat_id)
        if transcript is None:
            transcript = self._transcripts[chat_id] = Transcript()
            while len(self._transcripts) > MAX_CHATS:
                self._transcripts.popitem(last=False)
        self._transcripts.move_to_end(chat_id)
        return transcript

    async def send_text(self, key: str, text: str, language_code: str | None) -> None:
        """The user typed text (or a command)."""
        transcript = self.transcript(key)
        incoming = Incoming(CHANNEL, chat_id_for(key), text=text, language_code=language_code)
        # Never show an invite code: "/start X", "/START X", "/start@bot X", "/start\tX".
        shown = "/start …" if incoming.command == "/start" and incoming.argument else text
        transcript.entries.append(Entry(next(self._ids), "user", shown))
        self._append(transcript, await self.router.handle(incoming), pressed=None)

    async def press(
        self, key: str, data: str, entry_id: int | None, language_code: str | None
    ) -> None:
        """The user pressed a button on the bot entry `entry_id`."""
        transcript = self.transcript(key)
        incoming = Incoming(CHANNEL, chat_id_for(key), callback=data, language_code=language_code)
        pressed = next((e for e in transcript.entries if e.id == entry_id), None)
        self._append(transcript, await self.router.handle(incoming), pressed=pressed)

    def _append(self, transcript: Transcript, replies: list[Reply], pressed: Entry | None) -> None:
        if any(reply.forget for reply in replies):
            transcript.entries.clear()  # the person erased their data: nothing stays here
            pressed = None
        for reply in replies:
            if reply.edit and pressed is not None and pressed.reply is not None:
                pressed.text, pressed.reply = reply.text, reply
                pressed = None
                continue
            transcript.entries.append(Entry(next(self._ids), "bot", reply.text, reply))

    def push(self, chat_id: str, reply: Reply) -> None:
        """A push (reminder, notice) for a browser chat, shown when the page is next opened."""
        self._transcript_of(chat_id).entries.append(
            Entry(next(self._ids), "bot", reply.text, reply)
        )

    def document(self, key: str, entry_id: int) -> Reply | None:
        """The reply with a file on entry `entry_id`, for download."""
        for entry in self.transcript(key).entries:
            if entry.id == entry_id and entry.reply is not None and entry.reply.document:
                return entry.reply
        return None


class WebChatSender:
    """The dispatcher's way into the web chat: pushes wait in the transcript (in memory)."""

    def __init__(self, chat: WebChat) -> None:
        self.chat = chat

    async def send(self, chat_id: str, reply: Reply, *, priority: int = 0) -> Outcome:
        """Append the push to that browser's transcript."""
        self.chat.push(chat_id, reply)
        return Outcome(Status.SENT)
