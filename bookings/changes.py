"""
What a page offering a change showed, so the change is refused when the sessions moved meanwhile
(another tab, the patient, a colleague). Shared by the patient's manage pages and the staff pages.
"""

import re

from bookings.availability import Slot
from bookings.forms import slot_key
from bookings.models import Appointment

SEEN_LIMIT = 64  # sessions a page may show; a longer `seen` field is not one of ours
SEEN_ITEM = re.compile(r"(?P<pk>[1-9][0-9]{0,17}):(?P<version>[1-9][0-9]{0,8})")


def seen_field(appointments) -> str:
    """The hidden `seen` field of a page offering a change: the versions of the sessions it shows."""
    return ",".join(f"{appointment.pk}:{appointment.version}" for appointment in appointments)


def seen_posted(data) -> dict[int, int] | None:
    """The versions a posted form showed (appointment id -> version); None when it carries none.

    A garbled value counts as none: it can only come from someone editing the form, and the
    services' own checks still apply to them. Both numbers are bounded (an id fits a bigint, a
    version an integer column), so no value reaches the database as an overflow.
    """
    items = data.get("seen", "")[: SEEN_LIMIT * 30].split(",")
    pairs = [SEEN_ITEM.fullmatch(item) for item in items if item]
    if not pairs or len(pairs) > SEEN_LIMIT or not all(pairs):
        return None
    return {int(pair["pk"]): int(pair["version"]) for pair in pairs}


def changed_since(seen: dict[int, int] | None, appointments) -> bool:
    """Whether any of these sessions changed since the page that posted `seen` showed it."""
    return bool(seen) and any(seen.get(a.pk, a.version) != a.version for a in appointments)


def plan_fingerprint(moves: list[tuple[Appointment, Slot]]) -> str:
    """What the patient was shown, to confirm exactly that plan and nothing else."""
    return ",".join(f"{appointment.session_number}:{slot_key(slot)}" for appointment, slot in moves)
