"""Recordings in the staff web: the upload (checked and converted before the page's
transaction), its refusal beside the file input, and playing a recording back."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from bot.i18n import A_
from bot.plumbing.audio import MAX_BYTES, AudioRefused, CheckedAudio, to_voice
from bot.plumbing.recordings import delete_recording, recording_status, save_recording
from bot.web.admin.forms import RecordingForm, Submitted
from bot.web.admin.site import Ctx, NotFound
from storage.recordings import recording

# TRANSLATORS: admin web; a recording was uploaded for a language without a text yet.
NO_TEXT = A_("Write the text in this language first, then record it.")


async def checked_upload(form: FormData) -> CheckedAudio | AudioRefused:
    """The posted file as OGG/Opus, or why it was refused (ffmpeg off the event loop)."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return AudioRefused(A_("Choose an audio file."))
    data = await upload.read(MAX_BYTES + 1)
    try:
        return await to_voice(data)
    except AudioRefused as refused:
        return refused


async def upload(
    ctx: Ctx, *, subject: str, key: str, text_of: Any
) -> tuple[Submitted[RecordingForm], str]:
    """Save the prepared upload for the posted language; the form (refused or not) and
    the language. `text_of(code)` is the text being recorded, None where there is none."""
    posted = ctx.submitted(RecordingForm)
    code = posted.values["lang"]
    if (data := posted.data) is None:
        return posted, code
    checked = ctx.prepared
    if isinstance(checked, AudioRefused):
        posted.refuse(checked.message, field="file", **checked.params)
        return posted, code
    text = text_of(data.lang)
    if text is None:
        posted.refuse(NO_TEXT, field="file")
        return posted, code
    await ctx.save(
        posted,
        lambda: save_recording(
            ctx.session,
            actor=ctx.login.staff,
            subject=subject,
            key=key,
            code=data.lang,
            audio=checked,
            text=text,
            now=ctx.now,
        ),
    )
    return posted, code


async def remove(ctx: Ctx, *, subject: str, key: str) -> str | None:
    """Delete the recording of the posted language; the refusal, if any."""
    code = ctx.field("lang")
    _, error = await ctx.attempt(
        lambda: delete_recording(
            ctx.session, actor=ctx.login.staff, subject=subject, key=key, code=code
        )
    )
    return error


async def panel(
    ctx: Ctx, *, subject: str, key: str, code: str, text: str | None
) -> dict[str, Any]:
    """What the recording box of a page shows for one language."""
    found = await recording(ctx.session, subject=subject, key=key, locale=code)
    return {"found": found, "status": recording_status(found, text), "code": code}


async def play(ctx: Ctx, *, subject: str, key: str) -> Response:
    """The recording as OGG/Opus for the page's audio player (logged-in staff only)."""
    code = ctx.request.path_params["code"]
    found = await recording(ctx.session, subject=subject, key=key, locale=code, with_audio=True)
    if found is None:
        raise NotFound
    return Response(
        found.audio,
        media_type="audio/ogg",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )
