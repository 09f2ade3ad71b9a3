"""Group messages (broadcasts): compose, preview per language, send now or at a time, the
delivery report and stop the rest, through the same actions as the bot's /broadcast."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, create_model
from starlette.responses import Response

from bot.features.broadcasts import actions, render
from bot.features.courses import own_course
from bot.i18n import A_, BY_CODE, LANGUAGES
from bot.plumbing.errors import UserError
from bot.plumbing.voice import Voice
from bot.web.admin.forms import FORM, Form, Says, Submitted, blank, empty, local_time, read
from bot.web.admin.names import LANGUAGE_NAMES
from bot.web.admin.site import Ctx, NotFound, Page, form, get, post
from storage.models import Broadcast, StaffUser
from storage.states import BroadcastState

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
DAY = A_("Give the day: today or later.")


def language_names(ctx: Ctx) -> dict[str, str]:
    """Each language as the staff user reads it, with its own name: "Arabisch – العربية"."""
    names = {}
    for language in LANGUAGES:
        shown = ctx._(LANGUAGE_NAMES[language.code])
        names[language.code] = (
            shown if shown == language.native_name else f"{shown} – {language.native_name}"
        )
    return names


def _voice(ctx: Ctx) -> Voice:
    """The staff user's voice for the words shared with the bot (group names, report)."""
    return Voice.for_language(ctx.t.code, tz=ctx.settings.tz, now=ctx.now)


async def own_broadcast(ctx: Ctx) -> Broadcast:
    """The broadcast of the path if this staff user may see it; else NotFound, the 404
    page (another coach's reads like a missing one)."""
    try:
        return await actions.own_broadcast(
            ctx.session, actor=ctx.login.staff, broadcast_id=int(ctx.request.path_params["bid"])
        )
    except UserError:
        raise NotFound from None


def _done(ctx: Ctx) -> str | None:
    key = ctx.query("done")
    return ctx._(DONE[key]) if key in DONE else None


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
                "group": await render.segment_label(
                    ctx.session, voice, broadcast, viewer_id=ctx.login.staff.id
                ),
                "summary": _summary(ctx, broadcast),
                "counts": await actions.counts(ctx.session, broadcast=broadcast),
                "author": author.display_name if author else "–",
            }
        )
    return ctx.render("broadcasts.html", rows=rows, states=render.STATES, done=_done(ctx))


# ---------------------------------------------------------------- compose


def _group(value: str) -> str:
    """caseload | everyone | course:<id> | module:<id>."""
    kind, colon, target = value.partition(":")
    plain = kind in {"caseload", "everyone"} and not colon
    chosen = kind in {"course", "module"} and target.isdigit() and 0 < len(target) <= 9
    if not (plain or chosen):
        raise ValueError(value)
    return value


def _codes(value: Any) -> tuple[str, ...]:
    """The ticked languages, posted as "ar,uk"; each one of ours."""
    codes = tuple(code for code in str(value or "").split(",") if code)
    if any(code not in BY_CODE for code in codes):
        raise ValueError(value)
    return codes


def _content(value: str) -> str:
    if value != OWN and value not in actions.TEMPLATES:
        raise ValueError(value)
    return value


class _Compose(Form):
    """Who gets it and what it says; the versions per language are added below."""

    group: Annotated[str, AfterValidator(_group), Says(A_("Choose who gets the message."))]
    languages: Annotated[
        tuple[str, ...], BeforeValidator(_codes), Says(actions.UNKNOWN_LANGUAGE)
    ] = ()
    content: Annotated[str, AfterValidator(_content), Says(A_("Choose what it says."))] = OWN
    date: Annotated[dt.date | None, BeforeValidator(blank), Says(DAY)] = None
    place: str = ""
    text: str = ""

    def versions(self) -> dict[str, str]:
        """The versions written, by language."""
        found = {code: getattr(self, f"version_{code}", "") for code in BY_CODE}
        return {code: text for code, text in found.items() if text}


# One text field per language: version_ar, version_fa, ...
ComposeForm = create_model(
    "ComposeForm",
    __base__=_Compose,
    **{f"version_{language.code}": (str, "") for language in LANGUAGES},  # type: ignore[call-overload]
)


def _compose_values(broadcast: Broadcast) -> dict[str, str]:
    """A saved draft as the compose form shows it."""
    segment = broadcast.segment or {}
    kind = segment.get("kind") or "caseload"
    values = {
        "group": f"{kind}:{segment['id']}" if segment.get("id") else kind,
        "languages": ",".join(segment.get("languages") or []),
        "content": broadcast.template or OWN,
        "date": str(broadcast.params.get("date", "")),
        "place": str(broadcast.params.get("place", "")),
        "text": broadcast.text or "",
    }
    for code, text in (broadcast.versions or {}).items():
        values[f"version_{code}"] = text
    return values


def _posted(ctx: Ctx) -> Submitted[_Compose]:
    """The compose form as sent; the ticked languages arrive as one value each."""
    assert ctx.form is not None
    posted = {name: ctx.field(name) for name in ComposeForm.model_fields}
    posted["languages"] = ",".join(str(code) for code in ctx.form.getlist("languages"))
    return read(ComposeForm, posted)


async def broadcast_new(ctx: Ctx) -> Response:
    """A new group message: who, what, then the preview."""
    return await _compose(ctx, None)


async def broadcast_edit(ctx: Ctx) -> Response:
    """Change a draft before it is sent."""
    broadcast = await own_broadcast(ctx)
    if broadcast.state != BroadcastState.DRAFT:
        return ctx.redirect(f"/admin/broadcasts/{broadcast.id}")
    return await _compose(ctx, broadcast)


async def _compose(ctx: Ctx, broadcast: Broadcast | None) -> Response:
    """The compose form; a sent one is checked, saved as a draft and previewed."""
    courses, modules = await actions.segment_choices(ctx.session, actor=ctx.login.staff)

    def page(compose: Submitted[_Compose], status: int = 200) -> Response:
        return ctx.render(
            "broadcast_form.html",
            status=status,
            broadcast=broadcast,
            form=compose,
            courses=courses,
            modules=modules,
            languages=LANGUAGES,
            language_names=language_names(ctx),
            versions_open=any(compose.values.get(f"version_{code}") for code in BY_CODE),
            templates=render.TEMPLATE_LABELS,
            needs={key: needed for key, (_message, needed) in actions.TEMPLATES.items()},
            today=ctx.today,
        )

    if ctx.form is None:
        start = _compose_values(broadcast) if broadcast else {"group": "caseload", "content": OWN}
        return page(empty(ComposeForm, **start))
    compose = _posted(ctx)
    if (data := compose.data) is None:
        return page(compose, 400)
    kind, _colon, target = data.group.partition(":")
    target_id = int(target) if target else None
    if kind == "course":
        try:  # another coach's course, by a forged id, reads like a missing one
            await own_course(ctx.session, actor=ctx.login.staff, course_id=target_id or 0)
        except UserError:
            raise NotFound from None
    template = None if data.content == OWN else data.content
    needed = actions.TEMPLATES[template][1] if template else ()
    params: dict[str, str] = {}
    if template is None and not data.text and not data.versions():
        compose.refuse(A_("Write the message, or choose a ready one."), field="text")
    if "date" in needed:
        if data.date is None or data.date < ctx.today:
            compose.refuse(DAY, field="date")
        params["date"] = data.date.isoformat() if data.date else ""
    if "place" in needed:
        if not data.place:
            compose.refuse(A_("Write the new room or address."), field="place")
        params["place"] = data.place
    if not compose.ok:
        return page(compose, 400)

    async def save() -> Broadcast:
        staff = ctx.login.staff
        saved = broadcast or await actions.start_broadcast(ctx.session, actor=staff, now=ctx.now)
        await actions.choose_segment(
            ctx.session,
            actor=staff,
            broadcast_id=saved.id,
            kind=kind,
            target_id=target_id,
            languages=list(data.languages),
        )
        return await actions.set_content(
            ctx.session,
            actor=staff,
            broadcast_id=saved.id,
            template=template,
            params=params,
            text=(data.text or None) if template is None else None,
            versions=(data.versions() or None) if template is None else None,
        )

    saved = await ctx.save(compose, save)
    if saved is None:
        return page(compose, 400)
    return ctx.redirect(f"/admin/broadcasts/{saved.id}")


# ---------------------------------------------------------------- preview, report, send, stop


class SendForm(Form):
    """Send now, or at a local day and time."""

    when: Annotated[Literal["now", "later"], Says(A_("Choose now or a time."))] = "now"
    date: Annotated[dt.date | None, BeforeValidator(blank), Says(A_("Give a day."))] = None
    time: Annotated[dt.time | None, BeforeValidator(blank), Says(A_("Give a time."))] = None


async def broadcast_detail(
    ctx: Ctx, *, send: Submitted[SendForm] | None = None, error: str | None = None
) -> Response:
    """A draft's preview per language with the number of people, and the send form; a sent
    one's delivery report with "stop the rest" while copies wait."""
    broadcast = await own_broadcast(ctx)
    voice = _voice(ctx)
    context: dict[str, Any] = {
        "broadcast": broadcast,
        "group": await render.segment_label(
            ctx.session, voice, broadcast, viewer_id=ctx.login.staff.id
        ),
        "states": render.STATES,
        "state_help": STATE_HELP,
        "language_names": language_names(ctx),
    }
    if broadcast.state == BroadcastState.DRAFT:
        preview, nobody = [], None
        try:
            found = await actions.language_counts(ctx.session, broadcast=broadcast, now=ctx.now)
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
        tomorrow = ctx.today + dt.timedelta(days=1)
        context |= {
            "preview": preview,
            "total": sum((found or {}).values()),
            "nobody": nobody,
            "form": send or empty(SendForm, when="now", date=tomorrow.isoformat(), time="08:00"),
        }
    else:
        context["counts"] = await actions.counts(ctx.session, broadcast=broadcast)
        if send is not None and FORM in send.errors:  # sent already: no send form to show it
            message, params = send.errors[FORM]
            error = ctx._(message, **params)
    return ctx.render(
        "broadcast.html",
        status=400 if send is not None or error is not None else 200,
        error=error,
        done=_done(ctx),
        ngettext=lambda one, many, n: ctx.t.ngettext(one, many, n).format(n=n),
        **context,
    )


async def broadcast_send(ctx: Ctx) -> Response:
    """📤 Send now, or at a time: one outbox row per person; the dispatcher does the rest."""
    broadcast = await own_broadcast(ctx)
    send = ctx.submitted(SendForm)
    send_at = ctx.now
    if (data := send.data) is not None and data.when == "later":
        if data.date is None:
            send.refuse(A_("Give a day."), field="date")
        elif data.time is None:
            send.refuse(A_("Give a time."), field="time")
        else:
            send_at = local_time(data.date, data.time, ctx.settings.tz)
            if send_at <= ctx.now:
                send.refuse(A_("This time has passed. Choose a later one."), field="time")
    if send.ok:
        await ctx.save(
            send,
            lambda: actions.queue_broadcast(
                ctx.session,
                actor=ctx.login.staff,
                broadcast_id=broadcast.id,
                send_at=send_at,
                now=ctx.now,
            ),
        )
    if not send.ok:
        return await broadcast_detail(ctx, send=send)
    done = "sent" if send_at <= ctx.now else "planned"
    return ctx.redirect(f"/admin/broadcasts/{broadcast.id}", done)


async def broadcast_stop(ctx: Ctx) -> Response:
    """✖ Stop the rest: copies not sent yet are never sent."""
    broadcast = await own_broadcast(ctx)
    _, error = await ctx.attempt(
        lambda: actions.cancel_broadcast(
            ctx.session, actor=ctx.login.staff, broadcast_id=broadcast.id, now=ctx.now
        )
    )
    if error:
        return await broadcast_detail(ctx, error=error)
    return ctx.redirect(f"/admin/broadcasts/{broadcast.id}", "stopped")


async def broadcast_discard(ctx: Ctx) -> Response:
    """Throw a draft away: nothing is sent."""
    broadcast = await own_broadcast(ctx)
    _, error = await ctx.attempt(
        lambda: actions.discard_draft(
            ctx.session, actor=ctx.login.staff, broadcast_id=broadcast.id
        )
    )
    if error:
        return await broadcast_detail(ctx, error=error)
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
