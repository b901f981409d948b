"""
The patient's booking in progress, kept in the server-side session between the steps.

Nothing the browser sends is trusted: the session only remembers which times the patient picked
and what they typed, and every step re-checks those times against fresh availability (the final
booking re-checks them once more inside the service's transaction).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from bookings.availability import Slot


@dataclass
class Draft:
    slots: list[Slot]  # the chosen time of each session so far, session 1 first
    details: dict[str, object] = field(default_factory=dict)  # the details form as typed
    notice: str = ""  # shown once on the next page ("That time was just taken…")
    # Eligibility (issue 13): the earliest first session the answers allow, and the engine's sentences
    # saying why; the calendar starts there. Set when the booking was refused as too early.
    earliest: date | None = None
    why: list[str] = field(default_factory=list)


def _key(slug: str) -> str:
    return f"booking:{slug}"


def _dump_slot(slot: Slot) -> dict:
    return {"start": slot.start.isoformat(), "end": slot.end.isoformat(),
            "practitioner_id": slot.practitioner_id, "room_id": slot.room_id}


def _load_slot(data: dict) -> Slot:
    zone = ZoneInfo(settings.TIME_ZONE)
    return Slot(datetime.fromisoformat(data["start"]).astimezone(zone),
                datetime.fromisoformat(data["end"]).astimezone(zone),
                int(data["practitioner_id"]), data["room_id"])


def draft_load(request, slug: str) -> Draft | None:
    data = request.session.get(_key(slug))
    if not data:
        return None
    slots = [_load_slot(slot) for slot in data["slots"]]
    earliest = date.fromisoformat(data["earliest"]) if data.get("earliest") else None
    return Draft(slots, data.get("details", {}), data.get("notice", ""), earliest, data.get("why", []))


def draft_save(request, slug: str, draft: Draft) -> None:
    request.session[_key(slug)] = {
        "slots": [_dump_slot(slot) for slot in draft.slots],
        "details": draft.details,
        "notice": draft.notice,
        "earliest": draft.earliest.isoformat() if draft.earliest else "",
        "why": draft.why,
    }


def draft_clear(request, slug: str) -> None:
    request.session.pop(_key(slug), None)


def pop_notice(request, slug: str, draft: Draft) -> str:
    notice, draft.notice = draft.notice, ""
    if notice:
        draft_save(request, slug, draft)
    return notice
