"""Changes and e-mails in words, for the appointment, patient and history pages."""

from datetime import datetime

from django.db.models import Q

from bookings.audit import changed_fields
from bookings.forms import clinic_zone
from bookings.models import Appointment, OutboxMessage, Room


FIELD_LABELS = {
    "status": "Status",
    "start": "Start",
    "end": "End",
    "practitioner_id": "Practitioner",
    "room_id": "Room",
    "needs_review": "Review needed",
    "cancel_reason": "Reason",
    "name": "Name",
    "phone": "Phone",
}


def audit_rows(events, names: dict[int, str], rooms: dict[int, str] | None = None) -> list[dict]:
    """Each event with its changes in words ('start: Tue 9 Mar 10:00 → Wed 10 Mar 11:00'), rooms by name."""
    events = list(events)
    if rooms is None and any(event.before.get("room_id") or event.after.get("room_id") for event in events):
        rooms = dict(Room.objects.values_list("pk", "name"))
    return [
        {
            "event": event,
            "changes": [
                (
                    FIELD_LABELS.get(field, field),
                    None if old is None and not event.before else _shown(field, old, names, rooms),
                    _shown(field, new, names, rooms),
                )
                for field, old, new in changed_fields(event)
            ],
        }
        for event in events
    ]


def _shown(field: str, value, names: dict[int, str], rooms: dict[int, str] | None) -> str:
    if value in (None, ""):
        return "—"
    if field in ("start", "end"):
        return f"{datetime.fromisoformat(value).astimezone(clinic_zone()):%a %-d %b %Y %H:%M}"
    if field == "practitioner_id":
        return names.get(value, f"#{value}")
    if field == "room_id":
        return (rooms or {}).get(value, f"#{value}")
    if field == "status":
        return Appointment.Status(value).label if value in Appointment.Status.values else value
    if field == "needs_review":
        return "yes" if value else "no"
    return str(value)


def messages_for(appointments) -> dict[int, list[OutboxMessage]]:
    """The e-mails planned, sent or failed about each appointment (reminders and confirmations)."""
    ids = [appointment.pk for appointment in appointments]
    found: dict[int, list[OutboxMessage]] = {pk: [] for pk in ids}
    condition = Q(appointment_id__in=ids)
    for pk in ids:
        condition |= Q(appointment_ids__contains=[pk])
    for message in OutboxMessage.objects.filter(condition).order_by("due_at", "pk"):
        for pk in {message.appointment_id, *message.appointment_ids} & set(ids):
            found[pk].append(message)
    return found

