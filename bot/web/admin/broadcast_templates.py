"""The ready group messages (broadcast templates): their text in each language and a
recording per language, uploaded, replaced, played and deleted here."""

from __future__ import annotations

from starlette.responses import Response

from bot.features.broadcasts.render import TEMPLATE_LABELS, template_text
from bot.i18n import LANGUAGES
from bot.plumbing.recordings import recording_status
from bot.web.admin import recordings
from bot.web.admin.forms import RecordingForm, Submitted, empty
from bot.web.admin.site import Ctx, NotFound, Page, get, post
from storage.recordings import recordings_of

CODES = ["de", *(language.code for language in LANGUAGES if language.code != "de")]
SUBJECT = "template"


def _name(ctx: Ctx) -> str:
    """The template of the path; else the 404 page."""
    name = ctx.request.path_params["name"]
    if name not in TEMPLATE_LABELS:
        raise NotFound
    return str(name)


async def template_list(ctx: Ctx) -> Response:
    """Every ready message with its recordings per language."""
    spoken = await recordings_of(ctx.session, subject=SUBJECT, keys=list(TEMPLATE_LABELS))
    rows = [
        {
            "name": name,
            "label": ctx._(label),
            "recordings": {
                code: recording_status(spoken.get((name, code)), template_text(name, code))
                for code in CODES
            },
        }
        for name, label in TEMPLATE_LABELS.items()
    ]
    return ctx.render("templates.html", rows=rows, codes=CODES)


async def template_page(
    ctx: Ctx, name: str, code: str, recording: Submitted[RecordingForm] | None = None
) -> Response:
    """One ready message in one language with its recording (400 with a refused upload)."""
    text = template_text(name, code)
    return ctx.render(
        "template.html",
        status=400 if recording is not None and not recording.ok else 200,
        template=name,
        label=ctx._(TEMPLATE_LABELS[name]),
        code=code,
        codes=CODES,
        text=text,
        recording=await recordings.panel(ctx, subject=SUBJECT, key=name, code=code, text=text),
        recording_form=recording or empty(RecordingForm, lang=code),
        play_url=f"/admin/templates/{name}/recording/{code}",
        upload_url=f"/admin/templates/{name}/recording",
    )


async def template_show(ctx: Ctx) -> Response:
    """One ready message in the language of ?lang= (German first)."""
    code = ctx.query("lang", "de")
    return await template_page(ctx, _name(ctx), code if code in CODES else "de")


async def template_recording(ctx: Ctx) -> Response:
    """Upload or replace the recording of one language (converted before this runs)."""
    name = _name(ctx)
    posted, code = await recordings.upload(
        ctx, subject=SUBJECT, key=name, text_of=lambda c: template_text(name, c)
    )
    if not posted.ok:
        return await template_page(ctx, name, code if code in CODES else "de", posted)
    return ctx.redirect(f"/admin/templates/{name}?lang={code}#recording", "recorded")


async def template_recording_delete(ctx: Ctx) -> Response:
    """Delete the recording of one language."""
    name = _name(ctx)
    error = await recordings.remove(ctx, subject=SUBJECT, key=name)
    if error:
        return ctx.render("error.html", status=400, message=error)
    code = ctx.field("lang")
    return ctx.redirect(f"/admin/templates/{name}?lang={code}#recording", "recording_deleted")


async def template_recording_play(ctx: Ctx) -> Response:
    """A recording for the page's player."""
    return await recordings.play(ctx, subject=SUBJECT, key=_name(ctx))


routes: list[Page] = [
    get("/templates", template_list),
    get("/templates/{name}", template_show),
    post(
        "/templates/{name}/recording",
        template_recording,
        admin_only=True,
        prepare=recordings.checked_upload,
    ),
    post("/templates/{name}/recording/delete", template_recording_delete, admin_only=True),
    get("/templates/{name}/recording/{code}", template_recording_play),
]
