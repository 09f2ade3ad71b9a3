"""Typed forms of the staff web: what a form posts, checked in one place.

A form is a pydantic model whose fields are the form's input names. `Ctx.submitted(Model)`
reads the posted fields, keeps what was typed, and either gives the typed values or an error
per field in the staff member's language; an action's `UserError` lands beside the field it
names (`UserError.field`), else above the form. Templates show them with the `field_error`
and `form_error` macros of admin/macros.html.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.i18n import A_, LANGUAGES
from bot.plumbing.labels import KIND_LABELS

FORM = ""  # the key of an error about the whole form, not one field

# TRANSLATORS: admin web; beside a form field whose value could not be read.
CHECK_FIELD = A_("Check this field.")


@dataclass(frozen=True)
class Says:
    """The message (a msgid) shown beside a field whose value is missing or malformed."""

    message: str


class Form(BaseModel):
    """A posted form: every field a string until the model reads it; unknown fields ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", frozen=True)


def blank(value: Any) -> Any:
    """An empty input means "nothing chosen"."""
    return None if value == "" else value


MAX_ID = 999_999_999  # ids fit PostgreSQL's integer; a longer number is no id of ours

# A record chosen in a <select>, or none; a forged value is an error, not a silent "none".
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
ChosenId = Annotated[RecordId | None, BeforeValidator(blank)]


def _one_of(*allowed: str) -> Any:
    """A validator that lets only `allowed` through."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(value)
        return value

    return check


def _appointment_kind(value: str) -> str:
    if value not in APPOINTMENT_KINDS:
        raise ValueError(value)
    return value


APPOINTMENT_KINDS = [kind for kind in KIND_LABELS if not kind.endswith("_course")]


def local_time(day: dt.date, clock: dt.time, tz: ZoneInfo) -> dt.datetime:
    """A local date and time from a form as an aware datetime."""
    return dt.datetime.combine(day, clock, tzinfo=tz)


Place = Annotated[str, Field(min_length=1, max_length=300)]
PLACE = A_("Give the place of the appointment (at most 300 characters).")


class ParticipantForm(Form):
    """Add or edit a participant; the action checks name, language, module and coach."""

    name: str = ""
    language: Annotated[str | None, BeforeValidator(blank)] = None
    module: Annotated[ChosenId, Says(A_("Choose a module from the list."))] = None
    coach: Annotated[ChosenId, Says(A_("Choose a coach."))] = None


class AppointmentForm(Form):
    """Plan an appointment: what, when and where."""

    kind: Annotated[
        str,
        AfterValidator(_appointment_kind),
        Says(A_("Choose what kind of appointment it is.")),
    ]
    date: Annotated[dt.date, Says(A_("Give a date."))]
    start: Annotated[dt.time, Says(A_("Give a start time."))]
    end: Annotated[dt.time, Says(A_("Give an end time."))]
    location: Annotated[Place, Says(PLACE)]

    def starts_at(self, tz: ZoneInfo) -> dt.datetime:
        """The start as an aware datetime."""
        return local_time(self.date, self.start, tz)

    def ends_at(self, tz: ZoneInfo) -> dt.datetime:
        """The end as an aware datetime."""
        return local_time(self.date, self.end, tz)


class MoveForm(Form):
    """Move an appointment: a new day and times, the place only if given."""

    date: Annotated[dt.date, Says(A_("Give a date."))]
    start: Annotated[dt.time, Says(A_("Give a start time."))]
    end: Annotated[dt.time, Says(A_("Give an end time."))]
    location: Annotated[Place | None, BeforeValidator(blank), Says(PLACE)] = None

    def starts_at(self, tz: ZoneInfo) -> dt.datetime:
        """The new start as an aware datetime."""
        return local_time(self.date, self.start, tz)

    def ends_at(self, tz: ZoneInfo) -> dt.datetime:
        """The new end as an aware datetime."""
        return local_time(self.date, self.end, tz)


COURSE_DAYS = A_("Give the first and the last day of the course.")
SLOTS = 3  # weekly times on the course form
Weekday = Annotated[int, Field(ge=0, le=6)]


class CourseForm(Form):
    """A new course with up to three weekly times (a line left empty is no time)."""

    title: str = ""
    kind: str = ""
    location: str = ""
    starts_on: Annotated[dt.date, Says(COURSE_DAYS)]
    ends_on: Annotated[dt.date, Says(COURSE_DAYS)]
    module: Annotated[ChosenId, Says(A_("Choose a module from the list."))] = None
    coach: Annotated[ChosenId, Says(A_("Choose a coach."))] = None
    day0: Annotated[Weekday | None, BeforeValidator(blank)] = None
    start0: Annotated[dt.time | None, BeforeValidator(blank)] = None
    end0: Annotated[dt.time | None, BeforeValidator(blank)] = None
    day1: Annotated[Weekday | None, BeforeValidator(blank)] = None
    start1: Annotated[dt.time | None, BeforeValidator(blank)] = None
    end1: Annotated[dt.time | None, BeforeValidator(blank)] = None
    day2: Annotated[Weekday | None, BeforeValidator(blank)] = None
    start2: Annotated[dt.time | None, BeforeValidator(blank)] = None
    end2: Annotated[dt.time | None, BeforeValidator(blank)] = None

    def slot(self, i: int) -> tuple[int | None, dt.time | None, dt.time | None]:
        """The i-th weekly time as typed: weekday, start, end."""
        return getattr(self, f"day{i}"), getattr(self, f"start{i}"), getattr(self, f"end{i}")

    def half_filled(self) -> int | None:
        """The first weekly time with a start or an end but not all three parts."""
        for i in range(SLOTS):
            weekday, start, end = self.slot(i)
            if (start or end) and None in (weekday, start, end):
                return i
        return None

    def slots(self) -> list[tuple[int, dt.time, dt.time]]:
        """The weekly times that were filled in."""
        return [
            (weekday, start, end)
            for weekday, start, end in (self.slot(i) for i in range(SLOTS))
            if weekday is not None and start is not None and end is not None
        ]


class EnrolForm(Form):
    """Put a participant into a course, or take them out."""

    participant: Annotated[RecordId, Says(A_("Choose a participant."))]


class CourseDateForm(Form):
    """A date on which a course does not meet."""

    date: Annotated[dt.date, Says(A_("Give a date."))]
    reason: Annotated[str, AfterValidator(_one_of("cancelled", "holiday"))] = "cancelled"


class EndForm(Form):
    """The last day of one participant, of a module's or of everyone (module left empty)."""

    ends_on: Annotated[dt.date, Says(A_("Give the last day."))]
    module: Annotated[ChosenId, Says(A_("Choose a module from the list."))] = None


class OutcomeForm(Form):
    """Where a participant went at the end (the action knows the choices); empty clears."""

    outcome: Annotated[str | None, BeforeValidator(blank)] = None


class PasswordForm(Form):
    """Change one's own password (never shown again on a refused form)."""

    current: str = ""
    new: str = ""
    again: str = ""


class TextForm(Form):
    """One entry's title and text in one language (the action checks both)."""

    title: str = ""
    body: str = ""


class NewEntryForm(TextForm):
    """A new entry with its German text, at the top level or under another entry."""

    parent: Annotated[ChosenId, Says(A_("This entry does not exist."))] = None


class ContactForm(Form):
    """An entry's contact, the same in every language."""

    name: str = ""
    phone: str = ""
    address: str = ""
    hours: str = ""
    ask: str = ""


class AnswerForm(Form):
    """A coach's answer to a participant's message (the action checks its length)."""

    text: str = ""


class ReadForm(Form):
    """Mark the notices shown up to this one as read."""

    upto: Annotated[RecordId, Says(CHECK_FIELD)]


F = TypeVar("F", bound=Form)


@dataclass
class Submitted(Generic[F]):
    """A posted form: what was typed, the typed values if they could be read, and the
    errors (msgids with their parameters, translated when shown) by field name."""

    values: dict[str, str]
    data: F | None
    errors: dict[str, tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every field could be read and nothing was refused."""
        return self.data is not None and not self.errors

    def refuse(self, message: str, *, field: str | None = None, **params: Any) -> None:
        """Mark the form refused: `message` beside `field`, or above the form."""
        self.errors[field if field in self.values else FORM] = (message, params)


def empty(model: type[F], **values: str) -> Submitted[F]:
    """A form not sent yet, with starting values (an edit form's current record)."""
    return Submitted({name: values.get(name, "") for name in model.model_fields}, None)


def read(model: type[F], posted: dict[str, str]) -> Submitted[F]:
    """Read the posted fields (those sent) into `model`: its values, or an error per
    field."""
    values = {name: posted.get(name, "") for name in model.model_fields}
    try:
        # Only what was sent: a field left out takes the model's default.
        return Submitted(values, model.model_validate(posted))
    except ValidationError as failure:
        submitted: Submitted[F] = Submitted(values, None)
        for error in failure.errors():
            name = str(error["loc"][0]) if error["loc"] else FORM
            if name not in submitted.errors:
                submitted.refuse(_says(model, name), field=name)
        return submitted


def _says(model: type[Form], name: str) -> str:
    """The message a field shows when its value cannot be read."""
    info = model.model_fields.get(name)
    for item in info.metadata if info else ():
        if isinstance(item, Says):
            return item.message
    return CHECK_FIELD


def _language(value: str) -> str:
    if value not in LANGUAGE_CODES:
        raise ValueError(value)
    return value


LANGUAGE_CODES = frozenset(language.code for language in LANGUAGES)


class RecordingForm(Form):
    """Upload (or replace) a recording of a text in one language; the file itself is
    checked and converted before the page's transaction (bot/web/admin/recordings.py)."""

    lang: Annotated[str, AfterValidator(_language), Says(A_("Unknown language."))]
    file: str = ""  # the upload; its errors are shown beside the file input
