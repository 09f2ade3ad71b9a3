"""The programme's end: each person is told what happens now and asked, in their language,
whether they want to be handed over to the municipal case management KIM.

"Yes" shows exactly which data is passed on and asks for consent; the request then waits
for staff with exactly that data. `/handover` shows the status and lets the person
withdraw, or ask after all. "No" is respected and can be changed later.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_, BY_CODE, N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.messages import Button, Reply
from bot.plumbing.ownership import may_act_for
from bot.plumbing.routes import ButtonRoute, Command, Feature, Job, JobContext
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.models import (
    PRIORITY_NOTICE,
    HandoverRequest,
    Module,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.outbox import enqueue
from storage.states import HandoverStatus

ENDED = "programme.ended"  # the outbox template sent on the last day

# TRANSLATORS: sent on the participant's last day in the programme. KIM is the municipal
# case management of Kreis Unna; keep the name "KIM".
ENDED_TEXT = N_(
    "Your time in the programme ends today. Thank you for taking part!\n"
    "What happens now: your appointments and course reminders here stop. "
    "You can still read your data with /privacy.\n"
    "The case management KIM of Kreis Unna can support you further, for example with "
    "language courses, school, training or work."
)
# TRANSLATORS: the question after the programme-end message and in /handover.
QUESTION = N_("Do you want us to hand you over to KIM?")
# TRANSLATORS: the consent screen. The list is exactly what is passed on to KIM.
CONSENT = N_(
    "If you agree, we pass on to KIM:\n"
    "• your first name: {name}\n"
    "• your language: {language}\n"
    "• your programme module: {module}\n"
    "• the name of your coach: {coach}\n"
    "Nothing else. KIM will contact you. You can withdraw at any time with /handover."
)


def handover_data(participant: Participant, module_name: str | None) -> dict[str, str]:
    """Exactly the data passed on to KIM, the same on the consent screen and for staff."""
    language = BY_CODE[participant.locale].native_name if participant.locale else "–"
    return {
        "name": participant.display_name,
        "language": language,
        "module": module_name or "–",
        "coach": participant.coach.display_name if participant.coach else "–",
    }


# ---------------------------------------------------------------- actions


async def latest_request(session: AsyncSession, *, participant_id: int) -> HandoverRequest | None:
    """The participant's newest hand-over request or answer, if any."""
    return await session.scalar(
        select(HandoverRequest)
        .where(HandoverRequest.participant_id == participant_id)
        .order_by(HandoverRequest.created_at.desc(), HandoverRequest.id.desc())
        .limit(1)
    )


async def answer_handover(
    session: AsyncSession, *, participant: Participant, consent: bool, now: datetime
) -> HandoverRequest:
    """Record the person's answer: consent (an open request for staff) or no."""
    latest = await latest_request(session, participant_id=participant.id)
    if consent and latest is not None and latest.status == "open":
        raise UserError(N_("You asked already. Your request is with the team."), show_menu=False)
    if not consent and latest is not None and latest.status == "declined":
        return latest
    request = HandoverRequest(
        participant_id=participant.id,
        consent_at=now if consent else None,
        status="open" if consent else "declined",
    )
    session.add(request)
    await session.flush()
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="handover.consented" if consent else "handover.declined",
        object_type="handover",
        object_id=request.id,
    )
    return request


async def withdraw_handover(
    session: AsyncSession, *, participant: Participant, now: datetime
) -> HandoverRequest:
    """The person takes back an open request before staff handed it over."""
    latest = await latest_request(session, participant_id=participant.id)
    if latest is None or latest.status != "open":
        raise UserError(N_("There is no open request to withdraw."), show_menu=False)
    latest.status, latest.handled_at = HandoverStatus.WITHDRAWN, now
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="handover.withdrawn",
        object_type="handover",
        object_id=latest.id,
    )
    return latest


async def mark_handed_over(
    session: AsyncSession, *, actor: StaffUser, request_id: int, now: datetime
) -> HandoverRequest:
    """Staff passed the data on to KIM: the request is done."""
    request = await session.get(HandoverRequest, request_id, with_for_update=True)
    participant = await session.get(Participant, request.participant_id) if request else None
    if request is None or participant is None or not may_act_for(actor, participant.coach_id):
        raise UserError(A_("This request does not exist, or it is not one of yours."))
    if request.status != "open":
        raise UserError(A_("This request is not open any more (withdrawn or done)."))
    request.status, request.handled_by_id, request.handled_at = (
        HandoverStatus.DONE,
        actor.id,
        now,
    )
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="handover.done",
        object_type="handover",
        object_id=request.id,
    )
    return request


async def plan_programme_end(
    session: AsyncSession, *, actor: StaffUser, participant_ids: list[int], ends_on: date
) -> int:
    """Set the last day for active participants the actor may work on; how many."""
    query = select(Participant).where(
        Participant.id.in_(participant_ids), Participant.status == "active"
    )
    if actor.role != "admin":
        query = query.where(Participant.coach_id == actor.id)
    changed = 0
    for participant in (await session.scalars(query)).unique():
        participant.ends_on = ends_on
        changed += 1
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="programme.end_planned",
        object_type="participant",
        detail={"count": changed, "date": ends_on.isoformat()},
    )
    return changed


async def end_due(context: JobContext) -> int:
    """Job: end every active participant whose last day has come and tell them."""
    today = context.now.astimezone(context.settings.tz).date()
    async with context.sessions.begin() as session:
        due = (
            await session.scalars(
                select(Participant).where(
                    Participant.status == "active", Participant.ends_on <= today
                )
            )
        ).unique()
        ended = 0
        for participant in due:
            participant.status, participant.ended_at = "ended", context.now
            await audit.record(
                session,
                actor="system",
                action="participant.ended",
                object_type="participant",
                object_id=participant.id,
            )
            await enqueue(
                session,
                template=ENDED,
                participant_id=participant.id,
                subject=("participant", participant.id),
                params={},
                dedup_key=f"ended:{participant.id}",
                due_at=context.now,
                priority=PRIORITY_NOTICE,
            )
            ended += 1
        return ended


# ---------------------------------------------------------------- rendering


def _question_buttons(voice: Voice) -> list[list[Button]]:
    return [
        [Button(voice.label("✅ Yes, please"), "ho:yes")],
        [Button(voice.label("❌ No, thank you"), "ho:no")],
    ]


async def ended_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """Outbox `programme.ended`: what happens now, and the question about KIM."""
    participant = await session.get(Participant, row.participant_id)
    if participant is None or participant.status == "deleted":
        return None
    text = voice._(ENDED_TEXT) + "\n\n" + voice._(QUESTION)
    return voice.reply(text, _question_buttons(voice))


def render_status(voice: Voice, request: HandoverRequest | None) -> Reply:
    """/handover: where the person stands, with what they can do next."""
    if request is not None and request.status == "open":
        text = voice._(
            "You asked to be handed over to KIM. Your request is with the team. "
            "KIM will contact you."
        )
        buttons = [[Button(voice.label("↩️ Withdraw my request"), "ho:wd")]]
    elif request is not None and request.status == "done":
        text = voice._("Your data was passed on to KIM. KIM will contact you.")
        buttons = []
    else:
        said_no = request is not None and request.status in {"declined", "withdrawn"}
        first = (
            voice._("You said no to a hand-over to KIM. You can change your mind.")
            if said_no
            else voice._("KIM, the case management of Kreis Unna, can support you further.")
        )
        text = first + "\n" + voice._(QUESTION)
        buttons = _question_buttons(voice)
    return voice.reply(text, buttons + menu.menu_button(voice))


async def _consent_screen(turn: Turn) -> Reply:
    participant = turn.participant
    assert participant is not None
    module = await _module_name(turn.session, participant)
    data = {
        key: turn.voice.isolate(value) for key, value in handover_data(participant, module).items()
    }
    buttons = [
        [Button(turn.voice.label("✅ I agree"), "ho:ok")],
        [Button(turn.voice.label("↩️ Back"), "ho:st")],
    ]
    return turn.reply(turn._(CONSENT, **data), buttons, edit=True)


async def _module_name(session: AsyncSession, participant: Participant) -> str | None:
    if participant.module_id is None:
        return None
    module = await session.get(Module, participant.module_id)
    return module.name_de if module else None


# ---------------------------------------------------------------- chat handlers


async def cmd_handover(turn: Turn) -> list[Reply]:
    """/handover: the status of a hand-over to KIM."""
    participant = turn.participant
    assert participant is not None
    latest = await latest_request(turn.session, participant_id=participant.id)
    return [render_status(turn.voice, latest)]


async def cb_yes(turn: Turn) -> list[Reply]:
    """ "Yes, please": first the consent screen with exactly the data passed on."""
    return [await _consent_screen(turn)]


async def cb_consent(turn: Turn) -> list[Reply]:
    """ "I agree" on the consent screen: the request goes to staff."""
    participant = turn.participant
    assert participant is not None
    request = await answer_handover(
        turn.session, participant=participant, consent=True, now=turn.now
    )
    reply = render_status(turn.voice, request)
    reply.edit, reply.toast = True, turn._("Thank you ✅")
    return [reply]


async def cb_no(turn: Turn) -> list[Reply]:
    """ "No, thank you": respected; /handover can change it later."""
    participant = turn.participant
    assert participant is not None
    await answer_handover(turn.session, participant=participant, consent=False, now=turn.now)
    text = turn._("Okay. We pass on nothing. If you change your mind, send /handover.")
    return [turn.reply(text, menu.menu_button(turn.voice), edit=True)]


async def cb_withdraw(turn: Turn) -> list[Reply]:
    """ "Withdraw my request"."""
    participant = turn.participant
    assert participant is not None
    request = await withdraw_handover(turn.session, participant=participant, now=turn.now)
    reply = render_status(turn.voice, request)
    reply.edit, reply.toast = True, turn._("Withdrawn")
    return [reply]


async def cb_status(turn: Turn) -> list[Reply]:
    """ "Back" from the consent screen."""
    participant = turn.participant
    assert participant is not None
    reply = render_status(
        turn.voice, await latest_request(turn.session, participant_id=participant.id)
    )
    reply.edit = True
    return [reply]


FEATURE = Feature(
    name="handover",
    commands=(
        Command("handover", N_("Hand-over to the case management KIM"), cmd_handover, rank=80),
    ),
    buttons=(
        ButtonRoute("ho:yes", cb_yes),
        ButtonRoute("ho:ok", cb_consent),
        ButtonRoute("ho:no", cb_no),
        ButtonRoute("ho:wd", cb_withdraw),
        ButtonRoute("ho:st", cb_status),
    ),
    templates={ENDED: ended_notice},
    jobs=(Job("programme end", end_due, every=300),),
)
