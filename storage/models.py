"""SQLAlchemy models: the whole Wegweiser schema.

Personal data is kept to the minimum: a display name (first name or pseudonym), the chosen
language and the chat binding. No residence status, nationality or birth date.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from storage.states import (
    AppointmentResponse,
    BroadcastState,
    HandoverStatus,
    OutboxState,
    ParticipantStatus,
    StaffRole,
    choice,
)
from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING)


class StaffUser(Base):
    """A member of staff who logs into the web backend: an admin or a coach."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[StaffRole] = mapped_column(choice(StaffRole, name="role", length=10))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10), default="de")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """A logged-in browser of a staff user; only the SHA-256 of its cookie is stored, so
    logging out (or a password change) ends it on the server, whatever the browser keeps."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    # The form token of this session: every state-changing request must carry it.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff: Mapped[StaffUser] = relationship(lazy="joined")


class StaffPasswordLink(Base):
    """A one-time link with which a staff user sets their own password: a new account's
    first one, or a new one after an admin's reset. Only the token's SHA-256 is stored."""

    __tablename__ = "staff_password_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))  # "invite" | "reset"
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Module(Base):
    """One of the programme's building blocks ("Bausteine"), e.g. coaching."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    # A retired module keeps its participants, history and report rows; it is no longer
    # offered for new participants, courses or imports.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Participant(Base):
    """A young person in the programme, as little about them as the service needs."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(10))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id"))
    # "active" until the programme ends ("ended") or the person erases their data ("deleted").
    status: Mapped[ParticipantStatus] = mapped_column(
        choice(ParticipantStatus, name="status", length=10), default=ParticipantStatus.ACTIVE
    )
    privacy_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bilingual: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by /stop: no broadcasts until /start; reminders of their own appointments go on.
    broadcasts_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The planned last day (staff set it for a person, a module or a cohort); on that day
    # the person is told what happens now and asked about the hand-over to KIM.
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Where the person went at the programme's end (one of bot.features.outcomes.OUTCOMES);
    # kept after an erasure, as an anonymous count.
    outcome: Mapped[str | None] = mapped_column(String(20))

    coach: Mapped[StaffUser | None] = relationship(lazy="joined")
    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="participant", cascade="all, delete-orphan"
    )


class ChannelIdentity(Base):
    """A chat on a messenger (Telegram, web chat) bound to one participant or one staff user."""

    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        CheckConstraint("(participant_id IS NULL) <> (staff_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    # What the next free-text message answers, e.g. "ap:reason:12"; None for nothing.
    awaiting: Mapped[str | None] = mapped_column(String(60))
    # The invite that bound this chat; declining the privacy notice reopens exactly that one.
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    # Set when a send to this chat got "blocked by the user"; cleared when they write again.
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant | None] = relationship(
        back_populates="identities", lazy="joined"
    )
    staff: Mapped[StaffUser | None] = relationship(lazy="joined")


class Invite(Base):
    """A one-time invite for a participant or a staff user; only the token's SHA-256 is stored."""

    __tablename__ = "invites"
    __table_args__ = (
        CheckConstraint("(participant_id IS NULL) <> (staff_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    # A staff invite links a coach's own chat, for notices and staff commands.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Course(Base):
    """A course with weekly recurring sessions between two dates."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id"))
    title: Mapped[str] = mapped_column(String(200))
    # Participant-facing kind, one of bot.plumbing.labels.KIND_LABELS, e.g. "german_course".
    kind: Mapped[str] = mapped_column(String(40))
    location: Mapped[str] = mapped_column(String(300))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    coach: Mapped[StaffUser | None] = relationship(lazy="joined")
    slots: Mapped[list[CourseSlot]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CourseSlot.weekday"
    )
    exceptions: Mapped[list[CourseException]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class CourseSlot(Base):
    """A weekly time slot of a course, in the programme's local time."""

    __tablename__ = "course_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class CourseException(Base):
    """A date on which a course does not meet (cancelled session, holiday)."""

    __tablename__ = "course_exceptions"
    __table_args__ = (UniqueConstraint("course_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20), default="cancelled")  # or "holiday"


class Enrolment(Base):
    """A participant's place in a course; reminders can be muted per course."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("participant_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(lazy="joined")


class Appointment(Base):
    """A single appointment of a participant with a coach or an office."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_participant_starts", "participant_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Participant-facing kind, one of bot.plumbing.labels.KIND_LABELS; never the reason why.
    kind: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The participant's answer; None until they give one.
    response: Mapped[AppointmentResponse | None] = mapped_column(
        choice(AppointmentResponse, name="response", length=12)
    )
    response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A short reason for "can't come"; shown to the coach in the backend, never pushed.
    response_note: Mapped[str | None] = mapped_column(String(300))
    # Weekdays (0 = Monday) preferred for another time, e.g. "0,2"; empty for any day.
    preferred_days: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coach: Mapped[StaffUser | None] = relationship(lazy="joined")


class Broadcast(Base):
    """A message from staff to a segment of participants; one outbox row per recipient.

    Content is one of: a template key with parameters (rendered in each recipient's
    language), free text sent as written, or staff-written versions per language.
    """

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    # {"kind": "course" | "module" | "caseload" | "everyone", "id": N,
    #  "languages": ["ar", ...] | None, "within_days": N | None}
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    template: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text: Mapped[str | None] = mapped_column(Text)
    versions: Mapped[dict[str, str] | None] = mapped_column(JSON)
    state: Mapped[BroadcastState] = mapped_column(
        choice(BroadcastState, name="state", length=10), default=BroadcastState.DRAFT
    )
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Outcome counts of rows already pruned from the outbox, so the report stays whole.
    pruned_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Priorities: lower goes first. Replies and notices before reminders, reminders before bulk.
PRIORITY_REPLY, PRIORITY_NOTICE, PRIORITY_REMINDER, PRIORITY_BULK = 0, 1, 5, 9


class OutboxMessage(Base):
    """One push (reminder, broadcast, notice) to one recipient, rendered when it is sent.

    It holds no text: a template key and its parameters are rendered at send time in the
    recipient's language of that moment, and the subject (e.g. appointment 12) is checked
    then, so a reminder for a cancelled appointment is never sent.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("(participant_id IS NULL) <> (staff_id IS NULL)", name="one_recipient"),
        # The dispatcher's two questions, answered from small partial indexes.
        Index(
            "ix_outbox_due",
            "priority",
            "due_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index(
            "ix_outbox_lease",
            "lease_until",
            sqlite_where=text("state = 'claimed'"),
            postgresql_where=text("state = 'claimed'"),
        ),
        Index("ix_outbox_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    # What the push is about, e.g. ("appointment", 12); checked again at send time.
    subject_type: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    # A renderer key declared by a feature, e.g. "appointment.answer", and its parameters.
    template: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    # Makes a producer idempotent, e.g. "reminder:ap:12:24h"; insert-if-absent.
    dedup_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=PRIORITY_NOTICE)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[OutboxState] = mapped_column(
        choice(OutboxState, name="state", length=10), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Sends that timed out and may have arrived anyway: a duplicate is possible for these.
    ambiguous: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebChatKey(Base):
    """A web chat key this deployment handed out (by its hash): a key made up elsewhere is
    refused, by every process."""

    __tablename__ = "webchat_keys"

    chat_id: Mapped[str] = mapped_column(String(41), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebChatEntry(Base):
    """One line of a web chat's transcript (bounded per chat, pruned when old), so the
    conversation survives a restart and every process shows the same."""

    __tablename__ = "webchat_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(41), index=True)
    sender: Mapped[str] = mapped_column(String(4))  # "user" | "bot"
    text: Mapped[str] = mapped_column(Text)
    # A bot reply's buttons, language, direction and file: {"buttons": [[[label, data]]], ...}
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SignalMenu(Base):
    """The numbered options of the last message with buttons sent to a Signal chat: Signal
    has no buttons, so "1" typed back means the first option. Stored, so a reminder sent by
    one process is answered through the receiving one."""

    __tablename__ = "signal_menus"

    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoredSecret(Base):
    """A secret the deployment made for itself (e.g. the webhook secret), shared by every
    process through the database."""

    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryCount(Base):
    """Counts of finished pushes per day, template and outcome, kept after rows are pruned."""

    __tablename__ = "delivery_counts"
    __table_args__ = (UniqueConstraint("day", "template", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    template: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer, default=0)


class ContentNode(Base):
    """An entry of the staff-edited "what comes next" tree; its texts are ContentEntry rows
    (one per language, German is the source), its contact is the same in every language."""

    __tablename__ = "content_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_nodes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_address: Mapped[str | None] = mapped_column(String(300))
    contact_hours: Mapped[str | None] = mapped_column(String(200))
    # Shows "ask a person": the participant writes to their coach from here.
    ask_person: Mapped[bool] = mapped_column(Boolean, default=False)


class ContentEntry(Base):
    """One language version of an editable text, e.g. an FAQ answer."""

    __tablename__ = "content_entries"
    __table_args__ = (UniqueConstraint("key", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    parent_key: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Recording(Base):
    """A spoken version (OGG/Opus) of a text in one language: a "what comes next" entry
    (subject "content", key = the node's key) or a ready broadcast template (subject
    "template", key = the template's name). `text_version` fingerprints the text it was
    recorded for: when the text changes, the recording is outdated."""

    __tablename__ = "recordings"
    __table_args__ = (
        UniqueConstraint("subject", "key", "locale"),
        CheckConstraint("subject IN ('content', 'template')", name="subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    # Loaded only when it is sent or played, never with a list.
    audio: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    seconds: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    text_version: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HandoverRequest(Base):
    """A participant's consented request to be handed over to the case management (KIM)."""

    __tablename__ = "handover_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[HandoverStatus] = mapped_column(
        choice(HandoverStatus, name="status", length=12), default=HandoverStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CoachMessage(Base):
    """A message between a participant and their coach ("contact my coach"); the only
    place free text of a conversation is kept. Erased with the person."""

    __tablename__ = "coach_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" from the participant, "out" back
    body: Mapped[str] = mapped_column(Text)
    # The message this one answers (a coach's reply to a question).
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("coach_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VoiceMessage(Base):
    """The recording of a voice message between a participant and their coach: the bytes of
    one `CoachMessage` whose body is empty (who, to whom, which direction and what it
    answers are that message's). Kept in the database, not on disk, so that it is erased in
    the same transaction as the person's other messages, backed up with them and shared by
    every process. Telegram's file id is not kept. Erased with the person.

    Without a message it is a draft: a participant's voice message sent outside "write to
    my coach", waiting for their "yes, send it" (a day at most, see contact.prune_drafts)."""

    __tablename__ = "voice_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("coach_messages.id", ondelete="CASCADE"), unique=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    duration_seconds: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(60))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who did what to which record; ids only, never message bodies or names."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(60))  # "staff:3", "participant:7", "system"
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ThrottleHit(Base):
    """One counted try (a login, a wrong invite code) of a throttle, shared by every process
    and kept over restarts; `key` is a keyed hash of the e-mail, address or chat, never the
    value itself. Rows older than a day are deleted."""

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SendShare(Base):
    """A running process that sends with the bot token (PostgreSQL): the live ones split
    Telegram's budget between them, and a 429 one of them got holds them all."""

    __tablename__ = "send_shares"

    process: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
