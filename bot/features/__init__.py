"""Features, each with its route table; FEATURES is the one ordered list the router walks.

Features never import each other: what two of them need lives in `bot.plumbing`.
"""

from __future__ import annotations

from bot.features import (
    appointments,
    broadcasts,
    contact,
    courses,
    handover,
    home,
    next_steps,
    onboarding,
    privacy,
    staff,
)
from bot.plumbing.routes import Feature

# Order matters only for the main menu's buttons within a row and for duplicate checks.
FEATURES: tuple[Feature, ...] = (
    home.FEATURE,
    appointments.FEATURE,
    courses.FEATURE,
    onboarding.FEATURE,
    privacy.FEATURE,
    staff.FEATURE,
    broadcasts.FEATURE,
    handover.FEATURE,
    contact.FEATURE,
    next_steps.FEATURE,
)

# What a chat sees when it asks for something it may not use yet.
welcome = onboarding.welcome
