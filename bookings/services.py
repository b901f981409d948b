"""
Every write to bookings: book a series, move sessions, cancel, record what happened.

Each service owns its transaction. Rules are re-checked here, server-side, with the same pure
engine the pages use (bookings/availability.py), so a tampered form cannot book what the pages
would not offer. Who gets what:

- Patients (`for_staff=False`): minimum notice on every session booked or moved, the horizon on
  the first session, the cancellation cutoff on every change.
- Staff (`for_staff=True`): may book sooner, beyond the horizon, inside the cutoff, and accept a
  longer gap than recommended between sessions. Nobody may book a gap shorter than the
  treatment's minimum, outside working hours, or over someone else's appointment.

Double booking: a Python-side guard (lock the practitioner and room rows, then check) gives the
early, friendly refusal and keeps the cleaning buffer; the PostgreSQL exclusion constraints of
migration 0002 are the guarantee against overlap whatever happens above them. Either way the
person sees SlotTaken ("That time was just taken…") with fresh alternatives, and the atomic
block has rolled back everything the request wrote. On SQLite the settings open every
transaction IMMEDIATE, which serialises check-then-insert instead.

BookingError and SlotTaken live in bookings/errors.py (selectors raise them too) and are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from bookings import availability, notifications, questionnaire, selectors
from bookings.audit import PATIENT_MANAGE_LINK, PATIENT_ONLINE, SYSTEM, audit_record, snapshot
from bookings.availability import Slot
from bookings.errors import BookingError, SlotTaken
from bookings.models import (
    Appointment,
    AuditEvent,
    OutboxMessage,
    Patient,
    Practitioner,
    Questionnaire,
    Room,
    Series,
)

__all__ = [
    "BookingError",
    "PatientDetails",
    "SlotTaken",
    "appointment_cancel",
    "appointment_confirm_answers",
    "appointment_mark",
    "appointment_review_clear",
    "appointments_reschedule",
    "patient_create",
    "series_book",
    "series_cancel_remaining",
    "session_rebook",
]

# The exclusion constraints created by migration 0002: an IntegrityError naming one of these is a
# lost race for a practitioner's or a room's time, not a bug.
OVERLAP_CONSTRAINTS = frozenset({"appointment_no_practitioner_overlap", "appointment_no_room_overlap"})
DEADLOCK_DETECTED = "40P01"

# The seam the concurrency tests turn off (monkeypatch) to prove the database constraint alone
# keeps practitioners and rooms from being double-booked: it switches off the Python-side guard
# (resource locks and overlap check) as a whole. Always True in the application.
PRECHECK_OVERLAPS = True

ALTERNATIVES = 5


@dataclass
class PatientDetails:
    name: str
    email: str
    phone: str


class _Clash(Exception):
    """Internal: the Python-side check found `slot` taken (raised inside the atomic block)."""

    def __init__(self, slot: Slot):
        self.slot = slot


# --- Booking a series ------------------------------------------------------------------------------


def series_book(
    *,
    treatment,
    patient: PatientDetails | Patient,
    slots: list[Slot],
    answers: dict[str, bool],
    consent_treatment: bool,
    consent_privacy: bool,
    source: str = Series.Source.ONLINE,
    by=None,
    now: datetime | None = None,
    for_staff: bool = False,
) -> Series:
    """Book every session of a series, or nothing at all."""
    now = now or timezone.now()
    if not (consent_treatment and consent_privacy):
        raise BookingError(
            "Please confirm both consents: agreement to the treatment and to how we keep your details."
        )
    slots = sorted(slots)
    if len(slots) != treatment.sessions_in_series:
        raise BookingError(
            f"{treatment.name} is booked as a series of {treatment.sessions_in_series} sessions; "
            f"{len(slots)} were chosen. Please plan the series again."
        )
    flagged = questionnaire.flagged_keys(answers)
    try:
        with transaction.atomic():
            # On SQLite this transaction is IMMEDIATE (settings.py): it holds the write lock from
            # here, so nobody can insert between the check below and our insert.
            _check_slots(treatment, dict(enumerate(slots, start=1)), now=now, for_staff=for_staff)
            series = Series.objects.create(
                patient=patient if isinstance(patient, Patient) else _patient_for(patient),
                treatment=treatment,
                source=source,
                needs_review=bool(flagged),
                created_by=by,
            )
            Questionnaire.objects.create(
                series=series,
                answers=answers,
                flagged=flagged,
                consent_treatment=consent_treatment,
                consent_privacy=consent_privacy,
                wording_version=questionnaire.WORDING_VERSION,
                submitted_at=now,
            )
            # One INSERT, rows in time order. On PostgreSQL the exclusion constraints check each
            # row against every committed or in-flight appointment; a racer's conflicting row
            # makes this statement wait for that transaction and fail if it commits.
            booked = Appointment.objects.bulk_create(
                Appointment(
                    series=series,
                    session_number=number,
                    practitioner_id=slot.practitioner_id,
                    room_id=slot.room_id,
                    start=slot.start,
                    end=slot.end,
                )
                for number, slot in enumerate(slots, start=1)
            )
            audit_record(
                action=AuditEvent.Action.BOOKED,
                changes=[(appointment, {}) for appointment in booked],
                by=by,
                default_actor=PATIENT_ONLINE,
                at=now,
                series=series,
            )
            # The confirmation and the series' reminders become outbox rows in this transaction.
            notifications.series_booked(series=series, now=now)
    except _Clash as clash:
        raise _taken(treatment, slots, clash.slot, now=now, for_staff=for_staff) from None
    except (IntegrityError, OperationalError) as exc:
        if not is_overlap_error(exc):
            raise
        raise _taken(treatment, slots, None, now=now, for_staff=for_staff) from exc
    return series


def _patient_for(details: PatientDetails) -> Patient:
    """The patient with these exact name and e-mail, or a new one (details are never overwritten)."""
    existing = Patient.objects.filter(
        name__iexact=details.name.strip(), email__iexact=details.email.strip()
    ).first()
    return existing or Patient.objects.create(
        name=details.name.strip(), email=details.email.strip(), phone=details.phone.strip()
    )


def _check_slots(
    treatment,
    sessions: dict[int, Slot],
    *,
    now: datetime,
    for_staff: bool,
    changed: set[int] | None = None,
    exclude: Q | None = None,
) -> None:
    """Refuse (BookingError) new times that break the rules; raise _Clash for one already taken.

    `sessions` is the series as it would be (session number -> slot); only the `changed` numbers
    (default: all) are checked, with the spacing to their neighbours. `exclude` leaves out the
    appointments being moved, so a session does not clash with where it used to be.
    """
    tz = selectors.clinic_zone()
    changed = set(sessions) if changed is None else changed
    if PRECHECK_OVERLAPS:
        _lock_resources([sessions[number] for number in changed])
    if treatment.session_minutes * 60 > selectors.MAX_APPOINTMENT.total_seconds():
        raise BookingError("This treatment is too long to book online. Please call the clinic.")
    days = [sessions[number].start.astimezone(tz).date() for number in changed]
    schedule = selectors.load_schedule(
        treatment=treatment, first_day=min(days), last_day=max(days), exclude=exclude
    )
    spacing = selectors.spacing_of(treatment)
    for number in sorted(changed):
        slot = sessions[number]
        not_before, last_day = availability.booking_bounds(
            schedule.rules, now=now, tz=tz, for_staff=for_staff, first_session=number == 1
        )
        problem = availability.slot_problem(schedule, slot, not_before=not_before, last_day=last_day)
        for earlier in (number - 1, number):
            if problem is None and earlier in sessions and earlier + 1 in sessions:
                problem = availability.spacing_problem(
                    sessions[earlier], sessions[earlier + 1], earlier + 1, spacing, tz, allow_longer=for_staff
                )
        if problem is None and any(
            slot.overlaps(sessions[other], schedule.rules.buffer) for other in sessions if other != number
        ):
            problem = "That time clashes with another session of this series."
        if problem:
            raise BookingError(problem)
        if PRECHECK_OVERLAPS and not schedule.is_free(slot):
            raise _Clash(slot)


def _lock_resources(slots: list[Slot]) -> None:
    """Row-lock the practitioners and rooms these slots use, until the transaction ends.

    Why: the exclusion constraints refuse overlaps but know nothing of the cleaning buffer (it
    changes with ClinicRules), so two requests racing for back-to-back times would both pass the
    check below and both insert. Holding these rows serialises bookings per practitioner and
    room: the second request waits here, then its check (a fresh READ COMMITTED snapshot) sees
    the first one's rows. Always practitioners before rooms, each by id, so two bookings
    locking the same resources cannot deadlock. (No-op on SQLite, whose IMMEDIATE transaction
    already holds the database's single write lock.)
    """
    practitioner_ids = sorted({slot.practitioner_id for slot in slots})
    room_ids = sorted({slot.room_id for slot in slots if slot.room_id is not None})
    list(
        Practitioner.objects.select_for_update()
        .filter(pk__in=practitioner_ids)
        .order_by("pk")
        .values_list("pk")
    )
    if room_ids:
        list(Room.objects.select_for_update().filter(pk__in=room_ids).order_by("pk").values_list("pk"))


def is_overlap_error(exc: Exception) -> bool:
    """True when the database refused a double booking (or broke a deadlock between two bookers)."""
    cause = exc.__cause__
    if getattr(cause, "pgcode", None) == DEADLOCK_DETECTED:
        # Two series each waiting on the other's row: PostgreSQL aborts one; it lost the race.
        return True
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None) in OVERLAP_CONSTRAINTS


def _taken(treatment, slots: list[Slot], slot: Slot | None, *, now: datetime, for_staff: bool) -> SlotTaken:
    """SlotTaken for the first requested slot now taken, with the nearest fresh alternatives.

    Runs after the rollback, so it reads what the winner committed.
    """
    tz = selectors.clinic_zone()
    if slot is None:
        schedule = selectors.load_schedule(
            treatment=treatment,
            first_day=slots[0].start.astimezone(tz).date(),
            last_day=slots[-1].start.astimezone(tz).date(),
        )
        slot = next((candidate for candidate in slots if not schedule.is_free(candidate)), slots[0])
    index = slots.index(slot) if slot in slots else 0
    previous = slots[index - 1] if index else None
    following = slots[index + 1] if index + 1 < len(slots) else None
    alternatives = nearest_free(
        treatment,
        wanted=slot,
        previous=previous,
        following=following,
        now=now,
        for_staff=for_staff,
        first_session=index == 0,
    )
    if len(slots) == 1:
        message = "That time was just taken. Please choose another time."
    else:
        message = f"That time was just taken (session {index + 1}). Please choose another time for it."
    return SlotTaken(message, alternatives)


def nearest_free(
    treatment,
    *,
    wanted: Slot,
    previous: Slot | None,
    following: Slot | None,
    now: datetime,
    for_staff: bool,
    first_session: bool,
    days_around: int = 3,
) -> list[Slot]:
    """Free slots nearest to `wanted` that keep the spacing with its neighbours."""
    tz = selectors.clinic_zone()
    wanted_day = wanted.start.astimezone(tz).date()
    first_day, last_day = wanted_day - timedelta(days=days_around), wanted_day + timedelta(days=days_around)
    window = availability.spacing_window(
        previous.start if previous else None,
        following.start if following else None,
        selectors.spacing_of(treatment),
        tz,
    )
    if window is not None:
        first_day, last_day = max(first_day, window[0]), min(last_day, window[1])
    if first_day > last_day:
        return []
    schedule = selectors.load_schedule(treatment=treatment, first_day=first_day, last_day=last_day)
    found = selectors.free_between(
        schedule,
        first_day=first_day,
        last_day=last_day,
        now=now,
        for_staff=for_staff,
        first_session=first_session,
    )
    return sorted(found, key=lambda slot: abs(slot.start - wanted.start))[:ALTERNATIVES]


# --- Moving sessions -------------------------------------------------------------------------------


def appointments_reschedule(
    *,
    moves: list[tuple[Appointment, Slot]],
    by=None,
    now: datetime | None = None,
    for_staff: bool = False,
) -> list[Appointment]:
    """Move sessions of one series to new slots, all or none (see selectors.reschedule_plan)."""
    now = now or timezone.now()
    if not moves:
        return []
    series_ids = {appointment.series_id for appointment, _ in moves}
    if len(series_ids) != 1:
        raise BookingError("Sessions of different series cannot be moved together.")
    new_slots = {appointment.pk: slot for appointment, slot in moves}
    try:
        with transaction.atomic():
            # Lock the series' live rows first: a concurrent cancel, move or check-in of the same
            # sessions waits here and then sees our result, instead of both acting on stale rows.
            live = list(
                Appointment.objects.active()
                .filter(series_id=series_ids.pop())
                .select_for_update()
                .order_by("session_number")
            )
            moving = [appointment for appointment in live if appointment.pk in new_slots]
            if len(moving) != len(new_slots):
                raise BookingError(
                    "This session can no longer be changed: it has been cancelled or has already taken place."
                )
            for appointment in moving:
                refusal = selectors.change_refusal(appointment=appointment, now=now, for_staff=for_staff)
                if refusal:
                    raise BookingError(refusal)
            sessions = {
                appointment.session_number: new_slots.get(appointment.pk) or selectors.as_slot(appointment)
                for appointment in live
            }
            _check_slots(
                moving[0].series.treatment,
                sessions,
                now=now,
                for_staff=for_staff,
                changed={appointment.session_number for appointment in moving},
                exclude=Q(pk__in=list(new_slots)),
            )
            before = {appointment.pk: snapshot(appointment) for appointment in moving}
            for appointment in moving:
                slot = new_slots[appointment.pk]
                appointment.start, appointment.end = slot.start, slot.end
                appointment.practitioner_id, appointment.room_id = slot.practitioner_id, slot.room_id
                appointment.save(update_fields=["start", "end", "practitioner", "room", "updated_at"])
            audit_record(
                action=AuditEvent.Action.MOVED,
                changes=[(appointment, before[appointment.pk]) for appointment in moving],
                by=by,
                default_actor=PATIENT_MANAGE_LINK,
                at=now,
            )
            # Confirmation row, and the moved sessions' reminders planned again (old ones cancelled).
            notifications.appointments_rescheduled(appointments=moving, now=now)
    except _Clash as clash:
        raise _move_taken(moves, clash.slot, now=now, for_staff=for_staff) from None
    except (IntegrityError, OperationalError) as exc:
        if not is_overlap_error(exc):
            raise
        raise _move_taken(moves, None, now=now, for_staff=for_staff) from exc
    return moving


def _move_taken(moves, slot: Slot | None, *, now: datetime, for_staff: bool) -> SlotTaken:
    appointment, wanted = next(((a, s) for a, s in moves if s == slot), moves[0])
    options = selectors.session_options(appointment=appointment, now=now, for_staff=for_staff)
    alternatives = sorted(options, key=lambda option: abs(option.start - wanted.start))[:ALTERNATIVES]
    return SlotTaken("That time was just taken. Please choose another time.", alternatives)


# --- Booking a cancelled session again ---------------------------------------------------------------


def session_rebook(
    *,
    series: Series,
    number: int,
    slot: Slot,
    by=None,
    now: datetime | None = None,
    for_staff: bool = False,
) -> Appointment:
    """Book session `number` of a series again (cancelled or missed) inside its spacing window."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # Lock the series first: a second tab booking the same session, or a move of its
            # neighbour, waits here and then sees this booking (and its new window) instead of
            # both acting on the same snapshot.
            series = Series.objects.select_for_update(of=("self",)).select_related("treatment").get(pk=series.pk)
            live = selectors.live_sessions(series)
            refusal = selectors.rebook_refusal(series=series, number=number, sessions=live)
            if refusal:
                raise BookingError(refusal)
            sessions = {n: selectors.as_slot(appointment) for n, appointment in live.items()}
            sessions[number] = slot
            _check_slots(series.treatment, sessions, now=now, for_staff=for_staff, changed={number})
            # One revision past the session's last event, so calendars take it over the cancellation.
            revisions = series.appointments.filter(session_number=number).aggregate(last=Max("sequence"))["last"]
            appointment = Appointment.objects.create(
                series=series,
                session_number=number,
                practitioner_id=slot.practitioner_id,
                room_id=slot.room_id,
                start=slot.start,
                end=slot.end,
                sequence=0 if revisions is None else revisions + 1,
            )
            audit_record(
                action=AuditEvent.Action.BOOKED,
                changes=[(appointment, {})],
                by=by,
                default_actor=PATIENT_MANAGE_LINK,
                at=now,
                series=series,
            )
            notifications.session_rebooked(appointment=appointment, now=now)
    except _Clash as clash:
        raise _rebook_taken(series, number, clash.slot, now=now, for_staff=for_staff) from None
    except (IntegrityError, OperationalError) as exc:
        if not is_overlap_error(exc):
            raise
        raise _rebook_taken(series, number, slot, now=now, for_staff=for_staff) from exc
    return appointment


def _rebook_taken(series: Series, number: int, wanted: Slot, *, now: datetime, for_staff: bool) -> SlotTaken:
    options = selectors.window_slots(series=series, number=number, now=now, for_staff=for_staff)
    alternatives = sorted(options, key=lambda option: abs(option.start - wanted.start))[:ALTERNATIVES]
    return SlotTaken("That time was just taken. Please choose another time.", alternatives)


# --- Cancelling and recording what happened ---------------------------------------------------------


def appointment_cancel(
    *,
    appointment: Appointment,
    by=None,
    reason: str = "",
    now: datetime | None = None,
    for_staff: bool = False,
) -> Appointment:
    """Cancel one session. The row stays (status, time and reason recorded); its time frees up."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the row: a concurrent move or check-in of this session waits, then sees it cancelled.
        appointment = Appointment.objects.select_for_update().select_related("series").get(pk=appointment.pk)
        refusal = selectors.change_refusal(appointment=appointment, now=now, for_staff=for_staff)
        if refusal:
            raise BookingError(refusal)
        before = snapshot(appointment)
        _mark_cancelled(appointment, reason=reason, now=now)
        _audit_cancelled([(appointment, before)], by=by, now=now)
        _settle_series(appointment.series)
        notifications.appointments_cancelled(appointments=[appointment], now=now)
    return appointment


def series_cancel_remaining(
    *,
    series: Series,
    from_session: int,
    by=None,
    reason: str = "",
    now: datetime | None = None,
    for_staff: bool = False,
) -> list[Appointment]:
    """Cancel every booked session from `from_session` on, or none (a patient inside the cutoff calls)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the series' remaining sessions so a concurrent move or cancel cannot interleave.
        remaining = list(
            Appointment.objects.filter(
                series=series, session_number__gte=from_session, status=Appointment.Status.BOOKED
            )
            .select_for_update()
            .order_by("session_number")
        )
        if not remaining:
            raise BookingError("There are no booked sessions left to cancel in this series.")
        for appointment in remaining:
            refusal = selectors.change_refusal(appointment=appointment, now=now, for_staff=for_staff)
            if refusal:
                raise BookingError(refusal)
        changes = [(appointment, snapshot(appointment)) for appointment in remaining]
        for appointment in remaining:
            _mark_cancelled(appointment, reason=reason, now=now)
        _audit_cancelled(changes, by=by, now=now)
        _settle_series(series)
        notifications.appointments_cancelled(appointments=remaining, now=now)
    return remaining


MARKABLE = {
    Appointment.Status.CHECKED_IN: {Appointment.Status.BOOKED},
    Appointment.Status.COMPLETED: {Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN},
    Appointment.Status.NO_SHOW: {Appointment.Status.BOOKED},
}


def appointment_mark(
    *, appointment: Appointment, status: str, by=None, now: datetime | None = None
) -> Appointment:
    """Staff record a check-in, a completed session or a no-show (a no-show frees its time)."""
    now = now or timezone.now()
    if status not in MARKABLE:
        raise BookingError("Sessions can only be marked as checked in, completed or no-show.")
    with transaction.atomic():
        # Lock the row so a patient's cancel racing the front desk cannot both win.
        appointment = Appointment.objects.select_for_update().select_related("series").get(pk=appointment.pk)
        if appointment.status not in MARKABLE[status]:
            raise BookingError(
                f"A session that is {appointment.get_status_display().lower()} cannot be marked "
                f"{Appointment.Status(status).label.lower()}."
            )
        if status == Appointment.Status.NO_SHOW and now < appointment.start:
            raise BookingError("A session can be marked as a no-show only once its start time has passed.")
        before = snapshot(appointment)
        appointment.status = status
        appointment.save(update_fields=["status", "updated_at"])
        audit_record(action=status, changes=[(appointment, before)], by=by, default_actor=SYSTEM, at=now)
        _settle_series(appointment.series)
        notifications.appointment_marked(appointment=appointment, now=now)  # a no-show gets no aftercare
    return appointment


def _audit_cancelled(changes: list[tuple[Appointment, dict]], *, by, now: datetime) -> None:
    audit_record(
        action=AuditEvent.Action.CANCELLED, changes=changes, by=by, default_actor=PATIENT_MANAGE_LINK, at=now
    )


def _mark_cancelled(appointment: Appointment, *, reason: str, now: datetime) -> None:
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:300]
    appointment.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])


def _settle_series(series: Series) -> None:
    """An active series with nothing left to attend becomes completed or cancelled."""
    if series.status != Series.Status.ACTIVE:
        return
    statuses = set(series.appointments.values_list("status", flat=True))
    if statuses & {Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN}:
        return
    series.status = (
        Series.Status.COMPLETED if Appointment.Status.COMPLETED in statuses else Series.Status.CANCELLED
    )
    series.save(update_fields=["status"])


def appointment_confirm_answers(
    *, appointment: Appointment, changed: bool, now: datetime | None = None
) -> Appointment:
    """The patient re-confirms their safety answers before a session; a change holds it for review."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the row so a cancel or move racing the confirmation sees one result or the other.
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status != Appointment.Status.BOOKED or appointment.end <= now:
            raise BookingError(
                "This session has been cancelled or has already taken place, so there is nothing to confirm."
            )
        not_yet = selectors.answers_not_open_yet(appointment, now=now)
        if not_yet:
            raise BookingError(not_yet)
        before = snapshot(appointment)
        appointment.answers_confirmed_at = now
        # Once flagged, it stays flagged until a practitioner has reviewed it.
        appointment.needs_review = appointment.needs_review or changed
        appointment.save(update_fields=["answers_confirmed_at", "needs_review", "updated_at"])
        audit_record(
            action=AuditEvent.Action.ANSWERS_CONFIRMED,
            changes=[(appointment, before)],
            by=None,
            default_actor=PATIENT_MANAGE_LINK,
            at=now,
        )
    return appointment


def appointment_review_clear(*, appointment: Appointment, by, now: datetime | None = None) -> Appointment:
    """A practitioner has reviewed the safety answers: clear the flag on the session and its series."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the row so two people clearing (or a patient re-flagging) record one result each.
        appointment = Appointment.objects.select_for_update().select_related("series").get(pk=appointment.pk)
        series = appointment.series
        if not (appointment.needs_review or series.needs_review):
            raise BookingError("This session is not waiting for a review.")
        before = {**snapshot(appointment), "needs_review": True}
        appointment.needs_review = False
        appointment.save(update_fields=["needs_review", "updated_at"])
        Series.objects.filter(pk=series.pk).update(needs_review=False)
        audit_record(
            action=AuditEvent.Action.REVIEW_CLEARED,
            changes=[(appointment, before)],
            by=by,
            default_actor=SYSTEM,
            at=now,
        )
    return appointment


# --- Patients ----------------------------------------------------------------------------------------


def patient_create(*, details: PatientDetails, by=None, now: datetime | None = None) -> Patient:
    """A patient registered by the front desk (typically on the phone, before booking); audited."""
    with transaction.atomic():
        patient = Patient.objects.create(
            name=" ".join(details.name.split()), email=details.email.strip(), phone=details.phone.strip()
        )
        audit_record(
            action=AuditEvent.Action.CREATED,
            changes=[(patient, {})],
            by=by,
            default_actor=SYSTEM,
            at=now or timezone.now(),
        )
    return patient


# What an anonymised patient is called; also how a second run knows it has nothing left to do.
ANONYMISED_NAME = "Anonymised patient"


def patients_due_for_anonymising(*, before: datetime):
    """Patients not yet anonymised whose last appointment ended (with none: who registered) before `before`."""
    recent = Appointment.objects.filter(series__patient=OuterRef("pk"), end__gte=before)
    return (
        Patient.objects.exclude(name=ANONYMISED_NAME)
        .filter(created_at__lt=before)
        .exclude(Exists(recent))
        .order_by("pk")
    )


def patient_anonymise(*, patient: Patient) -> None:
    """Remove a patient's personal data for good, keeping the appointments (times, statuses) for statistics.

    Name, e-mail and phone are replaced; questionnaire answers are cleared; the free-text cancel
    reasons (on appointments and in the audit trail's snapshots) and mail-server errors, which may
    quote them or their address, are blanked.
    """
    with transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(
            name=ANONYMISED_NAME, email=f"anonymised-{patient.pk}@invalid.example", phone=""
        )
        Questionnaire.objects.filter(series__patient=patient).update(answers={}, flagged=[])
        Appointment.objects.filter(series__patient=patient).update(cancel_reason="")
        OutboxMessage.objects.filter(series__patient=patient).update(last_error="")
        # The trail is never edited otherwise; here its personal text goes, its facts stay.
        trail = AuditEvent.objects.filter(Q(series__patient=patient) | Q(patient=patient))
        for event in trail.select_for_update(of=("self",)):
            for snapshot_ in (event.before, event.after):
                for personal in ("cancel_reason", "name", "email", "phone"):
                    if snapshot_.get(personal):
                        snapshot_[personal] = ""
            event.save(update_fields=["before", "after"])
