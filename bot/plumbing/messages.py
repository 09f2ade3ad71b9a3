"""The channel-neutral shapes that cross between adapters and flows."""

from __future__ import annotations

from dataclasses import dataclass, field

# A voice message between a participant and their coach: at most 3 minutes, and 5 MB (a
# Telegram voice message of 3 minutes is about 0.7 MB; an MP3 at 192 kbit/s about 4.3 MB).
MAX_AUDIO_SECONDS = 180
MAX_AUDIO_BYTES = 5 * 1024 * 1024


def valid_text(value: str) -> str:
    """`value` with each lone surrogate replaced by U+FFFD (pairs are joined, as UTF-16)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


@dataclass(frozen=True)
class Audio:
    """A voice message or audio file: its bytes, kind and length.

    Coming in, `content` is None when it was not fetched: `problem` says why ("long",
    "big": over the limits, so it was not downloaded or was dropped; "failed": the download
    did not work). Going out, it is sent as a voice message with the reply's text as caption.
    """

    content: bytes | None
    mime_type: str
    seconds: int
    problem: str | None = None

    def __repr__(self) -> str:  # never the recording in a log line or a traceback
        size = len(self.content) if self.content is not None else None
        return f"Audio({self.mime_type}, {self.seconds}s, {size} bytes, {self.problem})"


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: sent text, pressed a button, or sent something else."""

    channel: str  # "telegram" | "web"
    chat_id: str
    text: str | None = None
    callback: str | None = None  # button data; untrusted
    language_code: str | None = None  # the client's language, if it tells
    other: str | None = None  # e.g. "sticker", "photo" for non-text messages
    audio: Audio | None = None  # a voice message or audio file (Telegram)

    def __post_init__(self) -> None:
        # Telegram's JSON may carry a lone surrogate ("\ud83d" without its pair): no
        # database can store it, so it becomes "�" here, once, for every channel.
        for name in ("text", "callback"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, valid_text(value))

    @property
    def command(self) -> str | None:
        """`/start` for "/start abc" (bot-name suffixes dropped), else None."""
        if not self.text or not self.text.startswith("/"):
            return None
        return self.text.split(maxsplit=1)[0].split("@", 1)[0].lower()

    @property
    def argument(self) -> str:
        """The text after a command, stripped."""
        if not self.text:
            return ""
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""


@dataclass(frozen=True)
class Button:
    """An option the user can press; `data` comes back as `Incoming.callback`."""

    label: str
    data: str


@dataclass(frozen=True)
class Document:
    """A file to send, e.g. an iCalendar file."""

    filename: str
    content: bytes
    mime_type: str
    # A recording (OGG/Opus) to play in the chat: Telegram sends it as a voice message.
    spoken: bool = False


@dataclass
class Reply:
    """One message back to the user: text, buttons, maybe a file.

    `edit` replaces the message whose button was pressed instead of sending a new one;
    `toast` is the short notice shown on the pressed button itself.
    """

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False
    document: Document | None = None
    audio: Audio | None = None  # sent as a voice message, `text` its caption
    toast: str | None = None
    lang: str = "en"
    rtl: bool = False
    # The person erased their data: a channel that keeps a transcript forgets it now.
    forget: bool = False
