"""Group messages (broadcasts): compose, preview per language, send now or at a time, the
delivery report and stop the rest, through the same actions as the bot's /broadcast."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from babel import Locale
from starlette.responses import Response

from bot.features.broadcasts import actions, render
from bot.features.courses import own_course
from bot.i18n import A_, BY_CODE, LANGUAGES
from bot.plumbing.errors import UserError
from bot.plumbing.voice import Voice
from bot.web.admin.site import (
    Ctx,
    Page,
    form,
    get,
    not_found,
    parse_clock,
    parse_day,
    parse_id,
    post,
)
from storage.models import Broadcast, StaffUser

LIST_LIMIT = 50  # broadcasts on the list, newest first
OWN = "own"  # the content choice "own text" beside the ready templates
SUMMARY = 80  # characters of an own text shown on the list
# What each word of the report means, for a coach who has not seen it before.
STATE_HELP = {
    "sent": A_("arrived in the person's chat"),
    "pending": A_("will go out soon, or at the planned time"),
    "failed": A_("could not be delivered, also after several tries"),
    "blocked": A_("the person has blocked the bot"),
    "skipped": A_("not sent: the person left the programme or sent /stop"),
    "cancelled": A_("not sent, because you stopped the rest"),
}
DONE = {
    "sent": A_("Sent. The messages go out now; this page shows how far they are."),
    "planned": A_("Planned. The messages go out at the time you chose."),
    "stopped": A_("Stopped. What had not gone out yet will not be sent."),
    "discarded": A_("Thrown away. Nothing was sent."),
}


def language_names(ctx: Ctx) -> dict[str, str]:
    """Each language as the staff user reads it, with its own name: "Arabisch – العربية"."""
    names = {}
    for language in LANGUAGES:
        if language.code == "de_simple":
            shown = ctx._(A_("Plain German"))
        elif language.code == "fa_AF":
            shown = ctx._(A_("Dari"))
        else:
            shown = Locale.parse(language.code).get_display_name(ctx.t.code) or language.code
        names[language.code] = (
            shown if shown == language.native_name else f"{shown} – {language.native_name}"
        )
    return names


def _voice(ctx: Ctx) -> Voice:
    """The staff user's voice for the words shared with the bot (group names, report)."""
    return Voice.for_language(ctx.t.code, tz=ctx.settings.tz, now=ctx.now)


async def _own(ctx: Ctx) -> Broadcast | None:
    """The broadcast of the URL if this staff user may see it; None reads as 404."""
    try:
        return await actions.own_broadcast(
            ctx.session, actor=ctx.login.staff, broadcast_id=int(ctx.request.path_params["bid"])
        )
    except UserError:
        return None


def _summary(ctx: Ctx, broadcast: Broadcast) -> str:
    """One line on what a broadcast says, for the list: a ready message's name, or the own
    text as the staff user would get it (their version, else English, then German)."""
    if broadcast.template is not None:
        return ctx._(render.TEMPLATE_LABELS[broadcast.template])
    text = render.render_content(_voice(ctx), broadcast)
    return text if len(text) <= SUMMARY else text[: SUMMARY - 1] + "…"


async def broadcast_list(ctx: Ctx) -> Response:
    """The last broadcasts with their delivery counts; a coach sees their own."""
    voice = _voice(ctx)
    rows = []
    for broadcast in await actions.recent_broadcasts(
        ctx.session, actor=ctx.login.staff, limit=LIST_LIMIT
    ):
        author = await ctx.session.get(StaffUser, broadcast.created_by_id)
        rows.append(
            {
                "broadcast": broadcast,
                "group": await render.segment_label(ctx.session, voice, broadcast),
                "summary": _summary(ctx, broadcast),
                "counts": await actions.counts(ctx.session, broadcast=broadcast),
                "author": author.display_name if author else "–",
            }
        )
    return ctx.render("broadcasts.html", rows=rows, states=render.STATES, done=_done(ctx))


def _done(ctx: Ctx) -> str | None:
    key = ctx.query("done")
    return ctx._(DONE[key]) if key in DONE else None


# ---------------------------------------------------------------- compose


@dataclass
class Draft:
    """What the compose form holds, as typed: shown again when something is wrong."""

    group: str = "caseload"  # caseload | course:<id> | module:<id> | everyone
    languages: list[str] = field(default_factory=list)  # empty: every language
    content: str = OWN  # a template key or OWN
    date: str = ""
    place: str = ""
    text: str = ""
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, broadcast: Broadcast) -> Draft:
        """The form of a saved draft."""
        segment = broadcast.segment or {}
        kind = segment.get("kind") or "caseload"
        return cls(
            group=f"{kind}:{segment['id']}" if segment.get("id") else kind,
            languages=list(segment.get("languages") or []),
            content=broadcast.template or OWN,
            date=str(broadcast.params.get("date", "")),
            place=str(broadcast.params.get("place", "")),
            text=broadcast.text or "",
            versions=dict(broadcast.versions or {}),
        )

    @classmethod
    def posted(cls, ctx: Ctx) -> Draft:
        """The form as sent."""
        assert ctx.form is not None
        languages = [str(code) for code in ctx.form.getlist("languages")]
        return cls(
            group=ctx.field("group"),
            languages=[code for code in languages if code][: len(LANGUAGES)],
            content=ctx.field("content"),
            date=ctx.field("date"),
            place=ctx.field("place"),
            text=ctx.field("text"),
            versions={
                language.code: ctx.field(f"version_{language.code}")
                for language in LANGUAGES
                if ctx.field(f"version_{language.code}")
            },
        )


async def broadcast_new(ctx: Ctx) -> Response:
    """A new group message: who, what, then the preview."""
    return await _compose(ctx, None)


async def broadcast_edit(ctx: Ctx) -> Response:
    """Change a draft before it is sent."""
    broadcast = await _own(ctx)
    if broadcast is None:
        return not_found(ctx)
    if broadcast.state != "draft":
        return ctx.redirect(f"/admin/broadcasts/{broadcast.id}")
    return await _compose(ctx, broadcast)


async def _compose(ctx: Ctx, broadcast: Broadcast | None) -> Response:
    courses, modules = await actions.segment_choices(ctx.session, actor=ctx.login.staff)
    draft = Draft.of(broadcast) if broadcast is not None else Draft()
    errors: dict[str, str] = {}

    def page(status: int = 200) -> Response:
        return ctx.render(
            "broadcast_form.html",
            status=status,
            broadcast=broadcast,
            draft=draft,
            errors=errors,
            error=errors.get("form"),
            courses=courses,
            modules=modules,
            languages=LANGUAGES,
            language_names=language_names(ctx),
            templates=render.TEMPLATE_LABELS,
            needs={key: needed for key, (_message, needed) in actions.TEMPLATES.items()},
            today=ctx.today,
        )

    if ctx.form is None:
        return page()
    draft = Draft.posted(ctx)
    kind, _colon, target = draft.group.partition(":")
    target_id = parse_id(target) if target else None
    if kind == "course":
        try:  # another coach's course, by a forged id, reads like a missing one
            await own_course(ctx.session, actor=ctx.login.staff, course_id=target_id or 0)
        except UserError:
            return not_found(ctx)
    template = None if draft.content == OWN else draft.content
    params: dict[str, str] = {}
    if template is None:
        if not draft.text and not draft.versions:
            errors["text"] = ctx._(A_("Write the message, or choose a ready one."))
    elif template in actions.TEMPLATES:
        _message, needed = actions.TEMPLATES[template]
        if "date" in needed:
            day = parse_day(draft.date)
            if day is None or day < ctx.today:
                errors["date"] = ctx._(A_("Give the day: today or later."))
            params["date"] = draft.date
        if "place" in needed:
            if not draft.place:
                errors["place"] = ctx._(A_("Write the new room or address."))
            params["place"] = draft.place
    if errors:
        return page(400)

    async def save() -> Broadcast:
        staff = ctx.login.staff
        saved = broadcast or await actions.start_broadcast(ctx.session, actor=staff, now=ctx.now)
        await actions.choose_segment(
            ctx.session,
            actor=staff,
            broadcast_id=saved.id,
            kind=kind,
            target_id=target_id,
            languages=draft.languages,
        )
        return await actions.set_content(
            ctx.session,
            actor=staff,
            broadcast_id=saved.id,
            template=template,
            params=params,
            text=(draft.text or None) if template is None else None,
            versions=(draft.versions or None) if template is None else None,
        )

    saved, error = await ctx.attempt(save)
    if saved is None:
        errors["form"] = error or ""
        return page(400)
    return ctx.redirect(f"/admin/broadcasts/{saved.id}")


# ---------------------------------------------------------------- preview, report, send, stop


async def broadcast_detail(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    """A draft's preview per language with the number of people, and the send form; a sent
    one's delivery report with "stop the rest" while copies wait."""
    broadcast = await _own(ctx)
    if broadcast is None:
        return not_found(ctx)
    voice = _voice(ctx)
    context: dict[str, Any] = {
        "broadcast": broadcast,
        "group": await render.segment_label(ctx.session, voice, broadcast),
        "states": render.STATES,
        "state_help": STATE_HELP,
        "language_names": language_names(ctx),
    }
    if broadcast.state == "draft":
        preview, nobody = [], None
        try:
            found = await actions.language_counts(
                ctx.session, broadcast=broadcast, actor=ctx.login.staff, now=ctx.now
            )
        except UserError as refused:
            found, nobody = None, ctx.error_text(refused)
        for code, count in sorted((found or {}).items(), key=lambda item: (-item[1], item[0])):
            reader = Voice.for_language(code, tz=ctx.settings.tz, now=ctx.now)
            language = BY_CODE.get(code)
            preview.append(
                {
                    "code": code,
                    "count": count,
                    "text": render.render_content(reader, broadcast),
                    "rtl": bool(language and language.rtl),
                }
            )
        tomorrow = ctx.today + timedelta(days=1)
        context |= {
            "preview": preview,
            "total": sum((found or {}).values()),
            "nobody": nobody,
            "when": ctx.field("when") or "now",
            "send_date": ctx.field("date") or tomorrow.isoformat(),
            "send_time": ctx.field("time") or "08:00",
        }
    else:
        context["counts"] = await actions.counts(ctx.session, broadcast=broadcast)
    return ctx.render(
        "broadcast.html",
        status=status,
        error=error,
        done=_done(ctx),
        ngettext=lambda one, many, n: ctx.t.ngettext(one, many, n).format(n=n),
        **context,
    )


def _send_at(ctx: Ctx) -> datetime | None:
    """The local date and time of "at a time", or None when not a real moment."""
    day, clock = parse_day(ctx.field("date")), parse_clock(ctx.field("time"))
    if day is None or clock is None:
        return None
    return datetime.combine(day, clock, ctx.settings.tz)


async def broadcast_send(ctx: Ctx) -> Response:
    """📤 Send now, or at a time: one outbox row per person; the dispatcher does the rest."""
    broadcast = await _own(ctx)
    if broadcast is None:
        return not_found(ctx)
    send_at = ctx.now
    if ctx.field("when") == "later":
        chosen = _send_at(ctx)
        if chosen is None:
            return await broadcast_detail(
                ctx, error=ctx._(A_("Give a day and a time.")), status=400
            )
        if chosen <= ctx.now:
            return await broadcast_detail(
                ctx, error=ctx._(A_("This time has passed. Choose a later one.")), status=400
            )
        send_at = chosen
    queued, error = await ctx.attempt(
        lambda: actions.queue_broadcast(
            ctx.session,
            actor=ctx.login.staff,
            broadcast_id=broadcast.id,
            send_at=send_at,
            now=ctx.now,
        )
    )
    if queued is None:
        return await broadcast_detail(ctx, error=error, status=400)
    done = "sent" if send_at <= ctx.now else "planned"
    return ctx.redirect(f"/admin/broadcasts/{broadcast.id}", done)


async def broadcast_stop(ctx: Ctx) -> Response:
    """✖ Stop the rest: copies not sent yet are never sent."""
    broadcast = await _own(ctx)
    if broadcast is None:
        return not_found(ctx)
    _, error = await ctx.attempt(
        lambda: actions.cancel_broadcast(
            ctx.session, actor=ctx.login.staff, broadcast_id=broadcast.id, now=ctx.now
        )
    )
    if error:
        return await broadcast_detail(ctx, error=error, status=400)
    return ctx.redirect(f"/admin/broadcasts/{broadcast.id}", "stopped")


async def broadcast_discard(ctx: Ctx) -> Response:
    """Throw a draft away: nothing is sent."""
    broadcast = await _own(ctx)
    if broadcast is None:
        return not_found(ctx)
    _, error = await ctx.attempt(
        lambda: actions.discard_draft(
            ctx.session, actor=ctx.login.staff, broadcast_id=broadcast.id
        )
    )
    if error:
        return await broadcast_detail(ctx, error=error, status=400)
    return ctx.redirect("/admin/broadcasts", "discarded")


routes: list[Page] = [
    get("/broadcasts", broadcast_list),
    form("/broadcasts/new", broadcast_new),
    get("/broadcasts/{bid:id}", broadcast_detail),
    form("/broadcasts/{bid:id}/edit", broadcast_edit),
    post("/broadcasts/{bid:id}/send", broadcast_send),
    post("/broadcasts/{bid:id}/stop", broadcast_stop),
    post("/broadcasts/{bid:id}/discard", broadcast_discard),
]
