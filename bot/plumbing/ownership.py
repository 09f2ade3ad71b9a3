"""Who on the staff may work on what: the one rule every staff action checks."""

from __future__ import annotations

from storage.models import StaffUser


def may_act_for(actor: StaffUser, owner_id: int | None) -> bool:
    """An admin works on everything; a coach on what is theirs (their participants,
    courses, broadcasts)."""
    return actor.role == "admin" or (owner_id is not None and owner_id == actor.id)
