"""Participant-facing names of appointment and course kinds.

A kind says what, never why: Telegram chats are not end-to-end encrypted.
"""

from __future__ import annotations

from bot.i18n import N_
from bot.plumbing.voice import Voice

KIND_LABELS = {
    # Appointments
    "coaching": N_("Coaching appointment"),
    "language": N_("Language support"),
    "school": N_("School certificate support"),
    "vocational": N_("Job preparation appointment"),
    # TRANSLATORS: Teilhabemanagement: the person who helps with everyday matters (housing,
    # offices, leisure). Say it plainly in your language; keep "(Teilhabemanagement)".
    "participation": N_("Appointment with your participation manager"),
    "nursing": N_("Nursing training appointment"),
    # Courses
    "german_course": N_("German course"),
    "school_course": N_("School certificate course"),
    "job_course": N_("Job preparation course"),
    "nursing_course": N_("Nursing preparation course"),
}
GENERIC = N_("Appointment")


def kind_label(voice: Voice, kind: str) -> str:
    """The translated name of a kind; unknown kinds read as a plain "Appointment"."""
    return voice._(KIND_LABELS.get(kind, GENERIC))
