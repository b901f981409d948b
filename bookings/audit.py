"""
The audit trail: every change to a booking (create, move, cancel, status) and to the records around
it (patients, practitioners' hours and time off, clinic rules, e-mails sent again, sign-in locks),
by whom, before and after.

Everything is recorded through `audit_record`, called inside the transaction of the change, so a
change and its record commit or roll back together. Rows are never updated or deleted (the admin
shows them read-only; anonymising a patient blanks their personal text and nothing else).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal

from django.db import models
from django.utils import timezone

from bookings.models import Appointment, AuditEvent, Patient, Practitioner, Series

PATIENT_ONLINE = "patient (online booking)"
PATIENT_MANAGE_LINK = "patient via manage link"
SYSTEM = "clinic system"

APPOINTMENT = "bookings.appointment"
# What an appointment's snapshot holds, in the order changes are listed.
FIELDS = ("status", "start", "end", "practitioner_id", "room_id", "needs_review", "cancel_reason")


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


def _json(value):
    """A field's value as JSON keeps it: times on the clinic's clock, ids and numbers as they are."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_json(item) for item in value]
    if isinstance(value, models.Model):
        return value.pk
    return value


def record(obj: models.Model) -> dict:
    """Any other record's own fields as the trail keeps them (not the timestamps the database fills
    in); many-to-many fields as sorted ids."""
    values = {
        field.attname: _json(field.value_from_object(obj))
        for field in obj._meta.concrete_fields
        if not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    }
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            values[field.attname] = sorted(getattr(obj, field.attname).values_list("pk", flat=True))
    return values


def _placed(subject: models.Model, series: Series | None, *, deleted: bool) -> dict:
    """The event's subject and the histories it belongs to (series, patient, practitioner)."""
    if isinstance(subject, Appointment):
        return {
            "subject_kind": APPOINTMENT,
            "subject_id": subject.pk,
            "appointment": subject,
            "series_id": series.pk if series else subject.series_id,
        }
    own = {Series: "series_id", Patient: "patient_id", Practitioner: "practitioner_id"}.get(type(subject))
    placed = {
        "subject_kind": subject._meta.label_lower,
        "subject_id": subject.pk,
        "series_id": series.pk if series else getattr(subject, "series_id", None),
        "patient_id": getattr(subject, "patient_id", None),
        "practitioner_id": getattr(subject, "practitioner_id", None),
    }
    if own and not deleted:  # a deleted patient's or practitioner's event names them by kind and id
        placed[own] = subject.pk
    return placed


def audit_record(
    *,
    action: str,
    changes: list[tuple[models.Model, dict]],
    by,
    default_actor: str,
    at: datetime,
    series: Series | None = None,
    after: dict | None = None,
) -> None:
    """One event per (subject, its state before the change: {} when it is new).

    An appointment's event keeps its whole snapshot before and after. Any other record's keeps the
    fields that changed (those named in `before`; all of them for a new record, `after` {} for a
    deleted one); `after` replaces the record's own fields where the change is not in them (a
    sign-in lock). A change that changed nothing is not recorded.
    """
    events = audit_events(
        action=action, changes=changes, by=by, default_actor=default_actor, at=at, series=series, after=after
    )
    if events:
        AuditEvent.objects.bulk_create(events)


def audit_events(
    *,
    action: str,
    changes: list[tuple[models.Model, dict]],
    by,
    default_actor: str,
    at: datetime,
    series: Series | None = None,
    after: dict | None = None,
) -> list[AuditEvent]:
    """audit_record's events, unsaved: a service that records several kinds of change at once
    saves them in one INSERT (AuditEvent.objects.bulk_create)."""
    label = actor_label(by, default=default_actor)
    events = []
    for subject, before in changes:
        if isinstance(subject, Appointment):
            now_state = snapshot(subject)
        elif after is not None:
            now_state = after
        else:
            now_state = {} if action == AuditEvent.Action.DELETED else record(subject)
            if before and now_state:
                changed = [name for name in before if before[name] != now_state.get(name)]
                if not changed:
                    continue
                before = {name: before[name] for name in changed}
                now_state = {name: now_state.get(name) for name in changed}
        events.append(
            AuditEvent(
                **_placed(subject, series, deleted=action == AuditEvent.Action.DELETED),
                actor=by,
                actor_label=label,
                action=action,
                before=before,
                after=now_state,
                at=at,
            )
        )
    return events


def formset_save(formset, *, by, at: datetime, default_actor: str = SYSTEM) -> None:
    """Save a model formset and record each row it adds, changes or deletes (in the caller's
    transaction: the admin's, or the view's)."""
    initial = [form.instance.pk for form in formset.initial_forms if form.instance.pk is not None]
    # The rows as stored: validation has already written the posted values onto the forms' instances.
    stored = {obj.pk: record(obj) for obj in formset.model._default_manager.filter(pk__in=initial)}
    going = [form.instance for form in formset.deleted_forms if form.instance.pk in stored]
    common = {"by": by, "at": at, "default_actor": default_actor}
    # Recorded before the save, while the rows still have their ids.
    audit_record(action=AuditEvent.Action.DELETED, changes=[(obj, stored[obj.pk]) for obj in going], **common)
    formset.save()
    created = [(obj, {}) for obj in formset.new_objects]
    audit_record(action=AuditEvent.Action.CREATED, changes=created, **common)
    audit_record(
        action=AuditEvent.Action.CHANGED,
        changes=[(obj, stored[obj.pk]) for obj, _ in formset.changed_objects],
        **common,
    )


def audit_patient_changed(
    *, series: Series, patient, before: dict, by, default_actor: str, at: datetime
) -> None:
    """The patient's details changed with this series' booking: the fields before, and after."""
    audit_record(
        action=AuditEvent.Action.PATIENT_CHANGED,
        changes=[(patient, before)],
        by=by,
        default_actor=default_actor,
        at=at,
        series=series,
    )


def changed_fields(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for each recorded field whose value changed; for a new record,
    (field, None, value) for each field that has a value."""
    if event.subject_kind == APPOINTMENT:
        names = FIELDS
    else:
        names = list(dict.fromkeys([*event.before, *event.after]))
    if not event.before:
        return [(name, None, event.after[name]) for name in names if event.after.get(name) not in (None, "")]
    return [
        (name, event.before.get(name), event.after.get(name))
        for name in names
        if event.before.get(name) != event.after.get(name)
    ]
