"""
The audit trail of appointments: every create, move, cancel and status change, by whom.

The services call `audit_record` inside their own transaction, so a change and its record commit
or roll back together. Rows are never updated or deleted (the admin shows them read-only).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bookings.models import Appointment, AuditEvent, Series

PATIENT_ONLINE = "patient (online booking)"
PATIENT_MANAGE_LINK = "patient via manage link"
SYSTEM = "clinic system"

# What a snapshot holds, in the order changes are listed (a patient's changed details: the last ones).
FIELDS = (
    "status", "start", "end", "practitioner_id", "room_id", "needs_review", "cancel_reason", "name", "phone",
)


def actor_label(by, *, default: str) -> str:
    """The person as the trail names them: the staff user's name, else who acts without logging in."""
    if by is None:
        return default
    return by.get_full_name() or by.get_username()


def snapshot(appointment: Appointment) -> dict:
    """The appointment's recorded state (times as ISO 8601 on the clinic's clock, with the offset)."""
    return {
        "status": appointment.status,
        "start": timezone.localtime(appointment.start).isoformat(),
        "end": timezone.localtime(appointment.end).isoformat(),
        "practitioner_id": appointment.practitioner_id,
        "room_id": appointment.room_id,
        "needs_review": appointment.needs_review,
        "cancel_reason": appointment.cancel_reason,
    }


def audit_record(
    *,
    action: str,
    changes: list[tuple[Appointment, dict]],
    by,
    default_actor: str,
    at: datetime,
    series: Series | None = None,
) -> None:
    """One event per (appointment, its snapshot before the change; {} when it is new)."""
    label = actor_label(by, default=default_actor)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            series_id=series.pk if series else appointment.series_id,
            appointment=appointment,
            actor=by,
            actor_label=label,
            action=action,
            before=before,
            after=snapshot(appointment),
            at=at,
        )
        for appointment, before in changes
    )


def audit_patient_changed(
    *, series: Series, patient, before: dict, by, default_actor: str, at: datetime
) -> AuditEvent:
    """The patient's details changed with this series' booking: the fields before, and after."""
    return AuditEvent.objects.create(
        series=series,
        appointment=None,
        actor=by,
        actor_label=actor_label(by, default=default_actor),
        action=AuditEvent.Action.PATIENT_CHANGED,
        before=before,
        after={name: getattr(patient, name) for name in before},
        at=at,
    )


def changed_fields(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for each recorded field whose value changed; for a new appointment,
    (field, None, value) for each field that has a value."""
    if not event.before:
        return [(name, None, event.after[name]) for name in FIELDS if event.after.get(name) not in (None, "")]
    return [
        (name, event.before.get(name), event.after.get(name))
        for name in FIELDS
        if event.before.get(name) != event.after.get(name)
    ]
