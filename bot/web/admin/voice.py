"""Voice messages in the staff web: the inbox's player and a spoken answer by upload.

A recording is served only to the participant's coach and to admins, never cached
(`Cache-Control: no-store`): it is personal data, and a shared office computer's browser
cache must not keep it. An upload is checked by its first bytes (OGG, MP3 or M4A, the
formats Telegram plays as a voice message) and its size; the length of an OGG/Opus file is
read from its last page and held to the same limit as a participant's voice message.
"""

from __future__ import annotations

import math
import re

from starlette.datastructures import UploadFile
from starlette.responses import Response

from bot.features.contact import answer_participant
from bot.i18n import A_
from bot.plumbing.messages import MAX_AUDIO_BYTES, MAX_AUDIO_SECONDS, Audio
from bot.plumbing.ownership import may_act_for
from bot.web.admin.forms import AnswerForm, empty
from bot.web.admin.inbox import inbox_page
from bot.web.admin.site import Ctx, Page, get, not_found, post
from storage.models import CoachMessage, Participant
from storage.voice_messages import recording_of

RANGE = re.compile(r"bytes=(\d*)-(\d*)")
OPUS_RATE = 48_000  # Opus granule positions count 48 kHz samples, whatever the input rate
NOT_AUDIO = A_("Please choose a recording: an OGG, MP3 or M4A file of at most {mb} MB.")
TOO_LONG = A_("This recording is too long. At most {minutes} minutes, please.")


def audio_type(data: bytes) -> str | None:
    """The audio format by the file's first bytes: OGG, MP3 or M4A; else None."""
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    return None


def opus_seconds(data: bytes) -> int | None:
    """The length of an OGG/Opus recording from its last page's granule position; None for
    another format (its length is not read: its size is held to the limit)."""
    head = data.find(b"OpusHead", 0, 512)
    if head < 0:
        return None
    pre_skip = int.from_bytes(data[head + 10 : head + 12], "little")
    last = data.rfind(b"OggS")
    granule = int.from_bytes(data[last + 6 : last + 14], "little", signed=True)
    return max(0, math.ceil((granule - pre_skip) / OPUS_RATE))


async def voice_file(ctx: Ctx) -> Response:
    """The recording of a message, for the participant's coach and admins only."""
    message = await ctx.session.get(CoachMessage, int(ctx.request.path_params["mid"]))
    participant = await ctx.session.get(Participant, message.participant_id) if message else None
    if (
        message is None
        or participant is None
        or not may_act_for(ctx.login.staff, participant.coach_id)
    ):
        return not_found(ctx)
    recording = await recording_of(ctx.session, message_id=message.id)
    if recording is None:
        return not_found(ctx)
    # `Cache-Control: no-store` and `nosniff` come with every staff page (bot/web/app.py).
    return ranged(recording.content, recording.mime_type, ctx.request.headers.get("range"))


def ranged(content: bytes, mime_type: str, asked: str | None) -> Response:
    """The bytes, or the one range a player asks for (it reads the end of an OGG file for
    the length, and seeks): without ranges a browser shows no length and cannot seek."""
    size = len(content)
    match = RANGE.fullmatch(asked.strip()) if asked else None
    if match is None or size == 0:
        return Response(content, media_type=mime_type, headers={"Accept-Ranges": "bytes"})
    first, last = match.group(1), match.group(2)
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # "bytes=-N": the last N bytes
        start, end = max(0, size - int(last or 0)), size - 1
    if start > end or start >= size:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    return Response(
        content[start : end + 1],
        status_code=206,
        media_type=mime_type,
        headers={"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{size}"},
    )


async def voice_answer(ctx: Ctx) -> Response:
    """A coach answers a participant's message with an uploaded recording; it reaches the
    participant's chat as a voice message."""
    message_id = int(ctx.request.path_params["mid"])
    form = empty(AnswerForm)
    upload = ctx.form.get("voice") if ctx.form is not None else None
    data = await upload.read(MAX_AUDIO_BYTES + 1) if isinstance(upload, UploadFile) else b""
    mime = audio_type(data)
    if not data or len(data) > MAX_AUDIO_BYTES or mime is None:
        form.refuse(NOT_AUDIO, mb=MAX_AUDIO_BYTES // (1024 * 1024))
        return await inbox_page(ctx, (message_id, form))
    seconds = opus_seconds(data)
    if seconds is not None and seconds > MAX_AUDIO_SECONDS:
        form.refuse(TOO_LONG, minutes=MAX_AUDIO_SECONDS // 60)
        return await inbox_page(ctx, (message_id, form))
    audio = Audio(data, mime, seconds or 0)
    answer = await ctx.save(
        form,
        lambda: answer_participant(
            ctx.session,
            actor=ctx.login.staff,
            message_id=message_id,
            text="",
            now=ctx.now,
            audio=audio,
        ),
    )
    if answer is None:
        return await inbox_page(ctx, (message_id, form))
    return ctx.redirect("/admin/inbox", "answered")


routes: list[Page] = [
    get("/messages/{mid:id}/voice", voice_file),
    post("/messages/{mid:id}/voice-answer", voice_answer),
]
