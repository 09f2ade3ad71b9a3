"""Names for the codes the staff web shows: languages, chat channels and audit events.

Staff read German or English; a code (`fa_AF`, `web`, `participant.viewed`) is for machines.
"""

from __future__ import annotations

from bot.i18n import A_

# TRANSLATORS: admin web; a participant's language, named in the staff member's language.
LANGUAGE_NAMES = {
    "ar": A_("Arabic"),
    "fa": A_("Persian (Farsi)"),
    "fa_AF": A_("Dari"),
    "ps": A_("Pashto"),
    "ku": A_("Kurmanji (Kurdish)"),
    "ckb": A_("Sorani (Kurdish)"),
    "tr": A_("Turkish"),
    "uk": A_("Ukrainian"),
    "ru": A_("Russian"),
    "ti": A_("Tigrinya"),
    "so": A_("Somali"),
    "fr": A_("French"),
    "en": A_("English"),
    "de": A_("German"),
    "de_simple": A_("Plain German"),
}

CHANNEL_NAMES = {
    "telegram": A_("Telegram"),
    "signal": A_("Signal"),
    # TRANSLATORS: admin web; the chat on the programme's own web page.
    "web": A_("web chat"),
}

# What the audit log's action codes mean; a code not listed here is shown as it is.
EVENT_NAMES = {
    "appointment.created": A_("Appointment planned"),
    "appointment.moved": A_("Appointment moved"),
    "appointment.cancelled": A_("Appointment cancelled"),
    "appointment.confirmed": A_("Will come to an appointment"),
    "appointment.declined": A_("Cannot come to an appointment"),
    "appointment.reschedule": A_("Asked for another time"),
    "appointment.reason": A_("Gave a reason for not coming"),
    "broadcast.queued": A_("Broadcast planned"),
    "broadcast.cancelled": A_("Broadcast cancelled"),
    "broadcasts.stopped": A_("All broadcasts stopped"),
    "broadcasts.resumed": A_("Broadcasts resumed"),
    "content.saved": A_("Text saved"),
    "content.deleted": A_("Text deleted"),
    "content.contact_saved": A_("Contact details saved"),
    "course.created": A_("Course added"),
    "course.enrolled": A_("Enrolled in a course"),
    "course.left": A_("Taken out of a course"),
    "course.exception_added": A_("Course date without a session marked"),
    "course.muted": A_("Course reminders muted"),
    "course.unmuted": A_("Course reminders on again"),
    "handover.consented": A_("Agreed to the hand-over to KIM"),
    "handover.declined": A_("Said no to the hand-over to KIM"),
    "handover.withdrawn": A_("Withdrew the hand-over to KIM"),
    "handover.done": A_("Handed over to KIM"),
    "invite.revoked": A_("Invites revoked"),
    "invite.used": A_("Invite used"),
    "message.sent": A_("Message to the coach"),
    "message.answered": A_("Message answered"),
    "module.created": A_("Module added"),
    "module.renamed": A_("Module renamed"),
    "module.retired": A_("Module retired"),
    "module.reinstated": A_("Module offered again"),
    "participant.created": A_("Participant added"),
    "participant.changed": A_("Participant changed"),
    "participant.viewed": A_("Participant viewed"),
    "participant.exported": A_("All stored data shown"),
    "participant.erased": A_("Personal data erased"),
    "participant.ended": A_("Programme ended"),
    "participant.outcome": A_("Outcome recorded"),
    "participant.language": A_("Language chosen"),
    "participant.bilingual": A_("German below each message switched"),
    "participants.imported": A_("Participants imported (CSV)"),
    "participants.exported": A_("Participant list exported (CSV)"),
    "recording.saved": A_("Recording uploaded"),
    "recording.deleted": A_("Recording deleted"),
    "privacy.accepted": A_("Privacy notice accepted"),
    "privacy.declined": A_("Privacy notice declined"),
    "programme.end_planned": A_("Last day planned"),
    "staff.created": A_("Staff account created"),
    "staff.login": A_("Logged in"),
    "staff.login_failed": A_("Failed login"),
    "staff.logout": A_("Logged out"),
    "staff.language": A_("Staff language changed"),
    "staff.password_changed": A_("Password changed"),
    "staff.unlocked": A_("Login lock lifted"),
    "staff.password_reset": A_("New password link made"),
    "staff.password_set": A_("Password set with a one-time link"),
    "staff.role_changed": A_("Role changed"),
    "staff.deactivated": A_("Staff account deactivated"),
    "staff.reactivated": A_("Staff account activated again"),
    "staff.caseload_handed_over": A_("Participants handed over to another coach"),
    "staff_chat.unlinked": A_("Staff chat unlinked"),
}
