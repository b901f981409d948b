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
block has rolled back everything the request wrote.

BookingError and SlotTaken live in bookings/errors.py (selectors raise them too) and are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from bookings import availability, eligibility_services, notifications, outbox, questionnaire, selectors
from bookings.audit import (
    PATIENT_MANAGE_LINK,
    PATIENT_ONLINE,
    SYSTEM,
    actor_label,
    audit_events,
    audit_patient_changed,
    audit_record,
    snapshot,
)
from bookings.availability import Slot
from bookings.errors import CHANGED, BookingError, Code, PatientExists, Problem, SeriesRunning, SlotTaken
from bookings.locks import busy, is_lock_timeout, resources_lock, series_lock
from bookings.models import (
    Appointment,
    AuditEvent,
    ClinicRules,
    EligibilityFlag,
    OutboxMessage,
    Patient,
    Practitioner,
    Questionnaire,
    Series,
    WaitlistEntry,
)

__all__ = [
    "BookingError",
    "PatientDetails",
    "SlotTaken",
    "appointment_cancel",
    "appointment_confirm_answers",
    "appointment_mark",
    "appointment_review_clear",
    "appointment_unmark",
    "appointments_reschedule",
    "message_resend",
    "patient_create",
    "patient_update",
    "patients_merge",
    "practitioner_deactivate",
    "series_book",
    "series_cancel_remaining",
    "series_lock",
    "session_rebook",
]

# The exclusion constraints created by migration 0002: an IntegrityError naming one of these is a
# lost race for a practitioner's or a room's time, not a bug.
OVERLAP_CONSTRAINTS = frozenset({"appointment_no_practitioner_overlap", "appointment_no_room_overlap"})
# Migration 0008's: the patient already holds an appointment at that time (a refusal, not a race lost
# to someone else, so it gets its own sentence rather than SlotTaken).
PATIENT_OVERLAP_CONSTRAINT = "appointment_no_patient_overlap"
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
    dates: dict | None = None,
    source: str = Series.Source.ONLINE,
    by=None,
    now: datetime | None = None,
    for_staff: bool = False,
    rules: ClinicRules | None = None,
    schedule: availability.Schedule | None = None,
    with_consultation: bool = True,
) -> Series:
    """Book every session of a series, or nothing at all.

    A treatment that requires a consultation first (Treatment.prerequisite) books one for a patient who
    holds no valid one, in the same transaction: the planner places it first, at least the treatment's
    days before session 1 (eligibility_services.consultation_slot); if the series then fails, so does the
    consultation. `with_consultation=False`: the consultation itself, booked by this call.

    `rules` and `schedule` (selectors.series_schedule): what the caller read to plan the series,
    passed down so they are read once per request; the appointments are read again under the locks.
    `dates`: the days given with "yes" answers (last dose...), which the eligibility rules count from;
    a first session before the answers allow is refused here (eligibility_services.decide), whoever books.
    """
    now = now or timezone.now()
    if not (consent_treatment and consent_privacy):
        raise BookingError(
            "Please confirm both consents: agreement to the treatment and to how we keep your details.",
            code=Code.CONSENT,
        )
    slots = sorted(slots)
    if len(slots) != treatment.sessions_in_series:
        raise BookingError(
            f"{treatment.name} is booked as a series of {treatment.sessions_in_series} sessions; "
            f"{len(slots)} were chosen. Please plan the series again.",
            code=Code.INVALID,
        )
    flagged = questionnaire.flagged_keys(answers)
    patient_id = patient.pk if isinstance(patient, Patient) else None
    try:
        with transaction.atomic():
            # A new series has no row to lock yet: the practitioners' and rooms' rows are locked in
            # the check, under the lock timeout, then the patient's (in _check_patient).
            rules = rules or ClinicRules.load()
            sessions = dict(enumerate(slots, start=1))
            _check_slots(treatment, sessions, now=now, for_staff=for_staff, rules=rules, known=schedule)
            details_before: dict = {}
            created = False
            if not isinstance(patient, Patient):
                patient, details_before, created = _patient_for(patient)
            patient_id = patient.pk
            if not created:
                # A patient added by this transaction has no series or appointments, and no other
                # transaction can see their row yet: there is nothing to lock or check.
                _check_patient(treatment, patient, slots, now=now, for_staff=for_staff)
            # Eligibility (issue 13), after the patient's row lock: their overrides are read as they stand
            # (a patient added by this transaction has none, and no consultation: nothing to read).
            tz = selectors.clinic_zone()
            decision = eligibility_services.decide(
                treatment=treatment, patient=patient, answers=answers, dates=dates,
                first_day=slots[0].start.astimezone(tz).date(), today=now.astimezone(tz).date(), for_staff=for_staff,
                new_patient=created,
            )  # fmt: skip
            consultation = None
            if with_consultation and eligibility_services.consultation_needed(
                treatment=treatment, patient=patient, first_start=slots[0].start, new_patient=created
            ):
                planned = eligibility_services.consultation_slot(
                    treatment=treatment, first_start=slots[0].start, now=now, for_staff=for_staff
                )
                if planned is None:
                    raise eligibility_services.no_consultation_time(treatment, slots[0].start, for_staff=for_staff)
                # A savepoint inside this transaction: a refusal of the series below undoes it too.
                consultation = series_book(
                    treatment=treatment.prerequisite, patient=patient, slots=[planned], answers=answers,
                    dates=dates, consent_treatment=consent_treatment, consent_privacy=consent_privacy,
                    source=source, by=by, now=now, for_staff=for_staff, rules=rules, with_consultation=False,
                )  # fmt: skip
            series = Series.objects.create(
                patient=patient,
                treatment=treatment,
                source=source,
                needs_review=bool(flagged) or bool(decision.verdict and decision.verdict.review),
                created_by=by,
                eligibility_rules=decision.rules,
                consultation=consultation,
            )
            Questionnaire.objects.create(
                series=series,
                answers=answers,
                dates={key: day.isoformat() for key, day in (dates or {}).items() if answers.get(key)},
                flagged=flagged,
                consent_treatment=consent_treatment,
                consent_privacy=consent_privacy,
                consent_text=treatment.consent_text,
                wording_version=questionnaire.WORDING_VERSION,
                submitted_at=now,
            )
            # One INSERT, rows in time order. On PostgreSQL the exclusion constraints check each
            # row against every committed or in-flight appointment; a racer's conflicting row
            # makes this statement wait for that transaction and fail if it commits.
            booked = Appointment.objects.bulk_create(
                Appointment(
                    series=series,
                    patient=patient,
                    session_number=number,
                    practitioner_id=slot.practitioner_id,
                    room_id=slot.room_id,
                    start=slot.start,
                    end=slot.end,
                )
                for number, slot in enumerate(slots, start=1)
            )
            # The sessions booked, the patient added or their details changed: one INSERT.
            trail = {"by": by, "default_actor": PATIENT_ONLINE, "at": now, "series": series}
            events = audit_events(
                action=AuditEvent.Action.BOOKED, changes=[(appointment, {}) for appointment in booked], **trail
            )
            if created:
                events += audit_events(action=AuditEvent.Action.CREATED, changes=[(patient, {})], **trail)
            if details_before:
                events += audit_events(
                    action=AuditEvent.Action.PATIENT_CHANGED, changes=[(patient, details_before)], **trail
                )
            AuditEvent.objects.bulk_create(events)
            # The confirmation and the series' reminders become outbox rows in this transaction.
            notifications.series_booked(series=series, appointments=booked, rules=rules, now=now)
    except _Clash as clash:
        raise _taken(treatment, slots, clash.slot, now=now, for_staff=for_staff) from None
    except (IntegrityError, OperationalError) as exc:
        if is_lock_timeout(exc):
            raise busy() from exc
        if is_patient_overlap_error(exc):
            raise _patient_busy(patient_id, slots, for_staff=for_staff) from exc
        if not is_overlap_error(exc):
            raise
        raise _taken(treatment, slots, None, now=now, for_staff=for_staff) from exc
    # What the booking changed on the patient's record ({}: nothing), for selectors.details_note.
    series.patient_change = details_before
    return series


def _patient_for(details: PatientDetails) -> tuple[Patient, dict, bool]:
    """The patient these details identify, what their record said before (empty: no change), and
    whether the record was added now.

    The identity rule (online booking and the API): a returning patient is the one with the same
    name and e-mail (case and spacing aside; the oldest record if there are several). A different
    phone number given by them replaces the one on record: it is the person who reads that
    e-mail address's confirmations, and the change is audited and told to them (the confirmation
    page and e-mail name the number now held and the one it replaced). A different name is a
    different person (families share addresses), so it makes a new record.
    """
    name, email, phone = " ".join(details.name.split()), details.email.strip(), details.phone.strip()
    _lock_identity(email)
    patient = _patient_found_or_added(Patient(name=name, email=email, phone=phone))
    if patient.created:
        return patient, {}, True
    if not phone or phone == patient.phone:
        return patient, {}, False
    before = {"phone": patient.phone}
    patient.phone = phone
    patient.save(update_fields=["phone"])
    return patient, before, False


def _patient_found_or_added(new: Patient) -> Patient:
    """The oldest patient with `new`'s name and e-mail (case aside), else `new` inserted: one statement.

    Its `created` attribute says which. Runs after _lock_identity, in a statement of its own, so
    that it reads what a booking with the same address committed while this one waited.
    """
    fields = [field for field in Patient._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(new, add=True), connection) for field in fields]
    table = quote(Patient._meta.db_table)
    sql = f"""
        WITH found AS (
            SELECT id, {columns} FROM {table}
            WHERE UPPER({quote("name")}::text) = UPPER(%s) AND UPPER({quote("email")}::text) = UPPER(%s)
            ORDER BY id LIMIT 1
        ), added AS (
            INSERT INTO {table} ({columns})
            SELECT {", ".join(["%s"] * len(fields))} WHERE NOT EXISTS (SELECT 1 FROM found)
            RETURNING id, {columns}
        )
        SELECT *, false AS created FROM found UNION ALL SELECT *, true AS created FROM added
    """
    (patient,) = Patient.objects.raw(sql, [new.name, new.email, *values])
    return patient


def _lock_identity(email: str) -> None:
    """Serialise bookings made with one e-mail address until the transaction ends.

    Why: two first bookings by one person at once would each find no record and create two
    patients, and then neither would see the other's series (one course at a time, below). A
    transaction-level advisory lock keyed by the address makes the second wait and then find the
    first's patient.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(lower(%s)))", [IDENTITY_LOCK, email])


# The first key of the advisory locks above ('PATI'): keeps them apart from any other advisory lock.
IDENTITY_LOCK = 0x50415449


def _check_patient(treatment, patient: Patient, slots: list[Slot], *, now: datetime, for_staff: bool) -> None:
    """Refuse a second running series of this treatment, and (early) a time the patient is elsewhere.

    The patient's row is locked first: two bookings for one patient run one after the other, so the
    second sees the first's series (the running-series rule has no constraint to fall back on).
    """
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))
    tz = selectors.clinic_zone()
    courses = selectors.patient_courses(patient_id=patient.pk, treatment=treatment)
    running = availability.running_course(courses, slots[0].start, selectors.spacing_of(treatment), tz)
    if running is not None:
        existing = Series.objects.get(pk=running.series_id)
        raise _series_running(treatment, existing, patient, for_staff=for_staff)
    if PRECHECK_OVERLAPS:
        clash = _patient_clash(patient.pk, slots)
        if clash is not None:
            raise _patient_busy_error(clash, for_staff=for_staff)


def _series_running(treatment, existing: Series, patient: Patient, *, for_staff: bool) -> SeriesRunning:
    """The refusal of a second concurrent series, pointing to the one that runs."""
    tz = selectors.clinic_zone()
    upcoming = existing.appointments.filter(
        status__in=(Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)
    ).order_by("start").first()
    if upcoming is not None:
        when = f"session {upcoming.session_number} on {upcoming.start.astimezone(tz):%A %-d %B %Y}"
        if for_staff:
            message = (
                f"{patient.name} already has a {treatment.name} series running (next: {when}). "
                "Change that series instead, or cancel what is left of it first."
            )
        else:
            # No dates here: whoever typed a name and an e-mail address is not yet known to be them.
            message = (
                f"You already have a {treatment.name} series booked with us, and one series runs at a time. "
                f"Its sessions are in the confirmation e-mail we sent to {patient.email}, with a link to "
                f"move or cancel them; or call us on {settings.CLINIC_PHONE}."
            )
        return SeriesRunning(message, existing)
    last = existing.appointments.active().order_by("-start").first()
    opens = last.start.astimezone(tz).date() + timedelta(days=treatment.min_days_between)
    if for_staff:
        message = (
            f"{treatment.name} needs at least {treatment.min_days_between} days between sessions, and "
            f"{patient.name}'s last session was on {last.start.astimezone(tz):%A %-d %B %Y}: a new series "
            f"can start from {opens:%A %-d %B %Y}."
        )
    else:
        message = (
            f"You had a {treatment.name} session with us less than {treatment.min_days_between} days before "
            "the first session you chose, and the skin needs that long between sessions. Please choose a "
            "later start (the dates are in your last confirmation e-mail), or call us on "
            f"{settings.CLINIC_PHONE}."
        )
    return SeriesRunning(message, existing)


def _patient_clash(patient_id: int | None, slots: list[Slot], exclude: Q | None = None) -> Appointment | None:
    """The patient's first active appointment overlapping any of `slots` (the moved ones excluded)."""
    if patient_id is None:
        return None
    overlapping = Q()
    for slot in slots:
        overlapping |= Q(start__lt=slot.end, end__gt=slot.start)
    found = Appointment.objects.active().filter(overlapping, patient_id=patient_id)
    if exclude is not None:
        found = found.exclude(exclude)
    return found.select_related("series__treatment").order_by("start").first()


def _patient_busy_error(clash: Appointment | None, *, for_staff: bool) -> BookingError:
    if clash is None:
        when = ""
    else:
        local = clash.start.astimezone(selectors.clinic_zone())
        when = f" ({clash.series.treatment.name}, {local:%A %-d %B %Y at %H:%M})"
    who = "The patient already has" if for_staff else "You already have"
    return BookingError(
        code="patient_busy",
        message=f"{who} an appointment at that time{when}. Please choose another time.",
    )


def _patient_busy(
    patient_id, slots: list[Slot], *, for_staff: bool, exclude: Q | None = None
) -> BookingError:
    """After the database refused the patient's overlap (and the rollback): which appointment clashed."""
    return _patient_busy_error(_patient_clash(patient_id, slots, exclude), for_staff=for_staff)


def _check_slots(
    treatment,
    sessions: dict[int, Slot],
    *,
    now: datetime,
    for_staff: bool,
    changed: set[int] | None = None,
    exclude: Q | None = None,
    rules: ClinicRules | None = None,
    known: availability.Schedule | None = None,
) -> None:
    """Refuse (BookingError) new times that break the rules; raise _Clash for one already taken.

    `sessions` is the series as it would be (session number -> slot); only the `changed` numbers
    (default: all) are checked, with the spacing to their neighbours. `exclude` leaves out the
    appointments being moved, so a session does not clash with where it used to be. `known`: the
    diaries the caller planned with; only their appointments are read again (after the locks).
    """
    tz = selectors.clinic_zone()
    changed = set(sessions) if changed is None else changed
    if PRECHECK_OVERLAPS:
        _lock_resources([sessions[number] for number in changed])
    if treatment.session_minutes * 60 > selectors.MAX_APPOINTMENT.total_seconds():
        raise BookingError(
            "This treatment is too long to book online. Please call the clinic.", code=Code.OUTSIDE_RULES
        )
    days = [sessions[number].start.astimezone(tz).date() for number in changed]
    if known is not None and known.covers(min(days), max(days)):
        schedule = selectors.schedule_refreshed(
            known, first_day=min(days), last_day=max(days), exclude=exclude
        )
    else:
        schedule = selectors.load_schedule(
            treatment=treatment, first_day=min(days), last_day=max(days), exclude=exclude, rules=rules
        )
    spacing = selectors.spacing_of(treatment)
    for number in sorted(changed):
        slot = sessions[number]
        not_before, last_day = availability.booking_bounds(
            schedule.rules, now=now, tz=tz, for_staff=for_staff, first_session=number == 1
        )
        problem = availability.slot_problem(schedule, slot, not_before=not_before, last_day=last_day)
        # Spacing with the live sessions either side (a cancelled session between is skipped).
        previous_number, next_number = availability.live_neighbours(sessions, number)
        for earlier, later in ((previous_number, number), (number, next_number)):
            if problem is None and earlier is not None and later is not None:
                problem = availability.spacing_problem(
                    sessions[earlier], sessions[later], later, spacing, tz,
                    allow_longer=for_staff, previous_number=earlier,
                )  # fmt: skip
        if problem is None and any(
            slot.overlaps(sessions[other], schedule.rules.buffer) for other in sessions if other != number
        ):
            problem = Problem(Code.OUTSIDE_RULES, selectors.CLASHES_WITH_SERIES)
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
    locking the same resources cannot deadlock.
    """
    resources_lock(
        practitioner_ids=list({slot.practitioner_id for slot in slots}),
        room_ids=list({slot.room_id for slot in slots if slot.room_id is not None}),
    )


def _constraint_name(exc: Exception) -> str | None:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


def is_patient_overlap_error(exc: Exception) -> bool:
    """True when the database refused an appointment at a time its patient is already booked."""
    return _constraint_name(exc) == PATIENT_OVERLAP_CONSTRAINT


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
    seen: dict[int, int] | None = None,
) -> list[Appointment]:
    """Move sessions of one series to new slots, all or none (see selectors.reschedule_plan).

    `seen`: the versions of the sessions as the page the person acted on showed them (appointment
    id -> version); a session changed since then refuses the move ("changed"). None: no page.
    """
    now = now or timezone.now()
    if not moves:
        return []
    series_ids = {appointment.series_id for appointment, _ in moves}
    if len(series_ids) != 1:
        raise BookingError("Sessions of different series cannot be moved together.", code=Code.INVALID)
    new_slots = {appointment.pk: slot for appointment, slot in moves}
    try:
        with transaction.atomic():
            # The series first: a concurrent cancel, move or check-in of its sessions waits here
            # and then sees our result, instead of both acting on stale rows. Then its live rows.
            series = series_lock(series_ids.pop())
            _refuse_if_changed(series, seen)
            live = list(
                Appointment.objects.active()
                .filter(series=series)
                .select_for_update(of=("self",))
                .order_by("session_number")
            )
            for appointment in live:
                appointment.series = series  # locked and read above, with its treatment
            moving = [appointment for appointment in live if appointment.pk in new_slots]
            if len(moving) != len(new_slots):
                raise BookingError(selectors.NOT_CHANGEABLE, code=Code.NOT_CHANGEABLE)
            for appointment in moving:
                refusal = selectors.change_refusal(appointment=appointment, now=now, for_staff=for_staff)
                if refusal:
                    raise BookingError(refusal)
            _refuse_before_eligible(moving, new_slots, for_staff=for_staff)
            sessions = {
                appointment.session_number: new_slots.get(appointment.pk) or selectors.as_slot(appointment)
                for appointment in live
            }
            _check_slots(
                series.treatment,
                sessions,
                now=now,
                for_staff=for_staff,
                changed={appointment.session_number for appointment in moving},
                exclude=Q(pk__in=list(new_slots)),
            )
            patient_id = moving[0].patient_id
            if PRECHECK_OVERLAPS:
                clash = _patient_clash(patient_id, list(new_slots.values()), Q(pk__in=list(new_slots)))
                if clash is not None:
                    raise _patient_busy_error(clash, for_staff=for_staff)
            before = {appointment.pk: snapshot(appointment) for appointment in moving}
            # The times they leave go to the waitlist once this commits.
            notifications.time_freed_on_commit(
                [(a.practitioner_id, a.room_id, a.start, a.end) for a in moving]
            )
            for appointment in moving:
                slot = new_slots[appointment.pk]
                appointment.start, appointment.end = slot.start, slot.end
                appointment.practitioner_id, appointment.room_id = slot.practitioner_id, slot.room_id
                appointment.version += 1  # under the series lock: nobody else changes it meanwhile
                appointment.save(
                    update_fields=["start", "end", "practitioner", "room", "version", "updated_at"]
                )
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
        if is_lock_timeout(exc):
            raise busy() from exc
        if is_patient_overlap_error(exc):
            moved = Q(pk__in=list(new_slots))
            patient_id = moves[0][0].patient_id
            wanted = list(new_slots.values())
            raise _patient_busy(patient_id, wanted, for_staff=for_staff, exclude=moved) from exc
        if not is_overlap_error(exc):
            raise
        raise _move_taken(moves, None, now=now, for_staff=for_staff) from exc
    return moving


def _refuse_before_eligible(moving: list[Appointment], new_slots: dict[int, Slot], *, for_staff: bool) -> None:
    """A session whose re-confirmed safety answers allow it only from a later day (an open
    EligibilityFlag) is not moved before that day, by anyone: the rule lives here, the patient's
    move calendar only hides those days. One read, of the moving sessions' open flags."""
    tz = selectors.clinic_zone()
    flags = EligibilityFlag.objects.filter(
        appointment__in=moving, resolved_at__isnull=True, earliest__isnull=False
    ).values_list("appointment_id", "earliest")
    for appointment_id, earliest in flags:
        if new_slots[appointment_id].start.astimezone(tz).date() < earliest:
            whose = "The patient's" if for_staff else "Your"
            raise BookingError(
                f"{whose} new safety answers allow this session from {earliest:%A} {earliest.day} {earliest:%B %Y} "
                "at the earliest. Please choose a time from then.",
                code=Code.NOT_ELIGIBLE_YET,
            )


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
            series = series_lock(series.pk)
            live = selectors.live_sessions(series)
            refusal = selectors.rebook_refusal(series=series, number=number, sessions=live)
            if refusal:
                raise BookingError(refusal)
            sessions = {n: selectors.as_slot(appointment) for n, appointment in live.items()}
            sessions[number] = slot
            _check_slots(series.treatment, sessions, now=now, for_staff=for_staff, changed={number})
            if PRECHECK_OVERLAPS:
                clash = _patient_clash(series.patient_id, [slot])
                if clash is not None:
                    raise _patient_busy_error(clash, for_staff=for_staff)
            if series.ends_after_session is not None and number > series.ends_after_session:
                # Booking a session past where "cancel the rest" ended the series resumes it.
                Series.objects.filter(pk=series.pk).update(ends_after_session=None)
                series.ends_after_session = None
            # One revision past the session's last event, so calendars take it over the cancellation.
            revisions = series.appointments.filter(session_number=number).aggregate(last=Max("sequence"))["last"]
            appointment = Appointment.objects.create(
                series=series,
                patient_id=series.patient_id,
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
        if is_lock_timeout(exc):
            raise busy() from exc
        if is_patient_overlap_error(exc):
            raise _patient_busy(series.patient_id, [slot], for_staff=for_staff) from exc
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
    seen: dict[int, int] | None = None,
) -> Appointment:
    """Cancel one session. The row stays (status, time and reason recorded); its time frees up.

    `seen`: as for appointments_reschedule, the versions the person's page showed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The series first: a concurrent move, check-in or cancel of any of its sessions waits,
        # then sees this one cancelled (and the series' state settled by whoever came first).
        series = series_lock(appointment.series_id)
        _refuse_if_changed(series, seen)
        appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        appointment.series = series
        refusal = selectors.change_refusal(appointment=appointment, now=now, for_staff=for_staff)
        if refusal:
            raise BookingError(refusal)
        before = snapshot(appointment)
        _mark_cancelled(appointment, reason=reason, now=now)
        _audit_cancelled([(appointment, before)], by=by, now=now)
        _settle_series(appointment.series)
        notifications.appointments_cancelled(appointments=[appointment], now=now)
        notifications.appointments_freed([appointment])  # offered to the waitlist after commit
    return appointment


def series_cancel_remaining(
    *,
    series: Series,
    from_session: int,
    by=None,
    reason: str = "",
    now: datetime | None = None,
    for_staff: bool = False,
    seen: dict[int, int] | None = None,
) -> list[Appointment]:
    """Cancel every booked session from `from_session` on, or none (a patient inside the cutoff calls).

    `seen`: as for appointments_reschedule, the versions the person's page showed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The series first, so a concurrent move or cancel cannot interleave: whoever comes second
        # sees the other's result (seen: a cancel and a cancel-the-rest, each deciding the series'
        # state from a snapshot without the other's change, left it active with nothing booked).
        series = series_lock(series.pk)
        _refuse_if_changed(series, seen)
        remaining = list(
            Appointment.objects.filter(
                series=series, session_number__gte=from_session, status=Appointment.Status.BOOKED
            )
            .select_for_update(of=("self",))
            .order_by("session_number")
        )
        if not remaining:
            raise BookingError(
                "There are no booked sessions left to cancel in this series.", code=Code.NOT_CHANGEABLE
            )
        for appointment in remaining:
            refusal = selectors.change_refusal(appointment=appointment, now=now, for_staff=for_staff)
            if refusal:
                raise BookingError(refusal)
        changes = [(appointment, snapshot(appointment)) for appointment in remaining]
        for appointment in remaining:
            _mark_cancelled(appointment, reason=reason, now=now)
        _audit_cancelled(changes, by=by, now=now)
        # The series now ends before `from_session`: no nudge or alert for sessions not coming.
        ending = Q(ends_after_session__isnull=True) | Q(ends_after_session__gte=from_session)
        Series.objects.filter(ending, pk=series.pk).update(ends_after_session=from_session - 1)
        _settle_series(series)
        notifications.appointments_cancelled(appointments=remaining, now=now)
        notifications.appointments_freed(remaining)  # offered to the waitlist after commit
    return remaining


MARKABLE = {
    Appointment.Status.CHECKED_IN: {Appointment.Status.BOOKED},
    Appointment.Status.COMPLETED: {Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN},
    Appointment.Status.NO_SHOW: {Appointment.Status.BOOKED},
}


# Recording these needs the safety review done first (a session held for review is not treated).
REVIEWED_BEFORE = {Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED}
# What an undo (the same local day) takes back to booked.
UNDOABLE = {Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW}


def status_clock() -> availability.StatusClock:
    return availability.StatusClock(
        check_in_opens=timedelta(minutes=settings.CHECK_IN_OPENS_MINUTES),
        no_show_grace=timedelta(minutes=settings.NO_SHOW_GRACE_MINUTES),
    )


def mark_refusal(*, appointment: Appointment, status: str, now: datetime) -> BookingError | None:
    """Why `status` cannot be recorded for this session now (its state, then the clock), or None."""
    if status not in MARKABLE:
        return BookingError(
            code="not_markable", message="Sessions can only be marked as checked in, completed or no-show."
        )
    if appointment.status not in MARKABLE[status]:
        return BookingError(
            code="wrong_status",
            message=f"A session that is {appointment.get_status_display().lower()} cannot be marked "
            f"{Appointment.Status(status).label.lower()}.",
        )
    problem = availability.status_window_problem(
        status, start=appointment.start, now=now, clock=status_clock(), tz=selectors.clinic_zone()
    )
    return BookingError(code=problem[0], message=problem[1]) if problem else None


def appointment_mark(
    *, appointment: Appointment, status: str, by=None, now: datetime | None = None, review_done: bool = False
) -> Appointment:
    """Staff record a check-in, a completed session or a no-show (a no-show frees its time).

    Each only in its window around the session (availability.status_window_problem). A session
    held for a safety review is checked in or completed only with `review_done` (the person says
    the review was done), which clears the flag and records that too.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The series, then the row, so a patient's cancel racing the front desk cannot both win.
        series = series_lock(appointment.series_id)
        appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        appointment.series = series
        refusal = mark_refusal(appointment=appointment, status=status, now=now)
        if refusal:
            raise refusal
        if status in REVIEWED_BEFORE and (appointment.needs_review or appointment.series.needs_review):
            if not review_done:
                raise BookingError(
                    code="review_needed",
                    message="This patient's safety answers are waiting for a practitioner's review: confirm "
                    "the review was done before the session goes ahead.",
                )
            _review_clear(appointment, by=by, now=now)
        before = snapshot(appointment)
        appointment.status = status
        appointment.version += 1
        appointment.save(update_fields=["status", "version", "updated_at"])
        audit_record(action=status, changes=[(appointment, before)], by=by, default_actor=SYSTEM, at=now)
        _settle_series(appointment.series)
        notifications.appointment_marked(appointment=appointment, now=now)  # a no-show gets no aftercare
        if status == Appointment.Status.NO_SHOW:
            notifications.appointments_freed([appointment])  # its time is free: offered after commit
    return appointment


def unmark_refusal(*, appointment: Appointment, now: datetime) -> BookingError | None:
    """Why this session's check-in, completion or no-show cannot be undone now, or None."""
    if appointment.status not in UNDOABLE:
        return BookingError(
            code="not_marked", message="Only a check-in, a completed session or a no-show can be undone."
        )
    recorded = appointment.audit_events.filter(action=appointment.status).order_by("-at", "-pk")
    marked_at = recorded.values_list("at", flat=True).first()
    problem = availability.undo_problem(marked_at, now=now, tz=selectors.clinic_zone())
    return BookingError(code=problem[0], message=problem[1]) if problem else None


def appointment_unmark(*, appointment: Appointment, by=None, now: datetime | None = None) -> Appointment:
    """Undo the same day's check-in, completion or no-show: the session is booked again, its e-mails
    planned again and the series' status derived again. A no-show's time may have gone meanwhile."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # The series, then the row: the same locks as marking, so a mark and its undo never interleave.
            series = series_lock(appointment.series_id)
            appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
            appointment.series = series
            refusal = unmark_refusal(appointment=appointment, now=now)
            if refusal:
                raise refusal
            before = snapshot(appointment)
            appointment.status = Appointment.Status.BOOKED
            appointment.version += 1  # a page showing the marked session is now stale
            appointment.save(update_fields=["status", "version", "updated_at"])
            audit_record(
                action=AuditEvent.Action.UNDONE,
                changes=[(appointment, before)],
                by=by,
                default_actor=SYSTEM,
                at=now,
            )
            _settle_series(appointment.series)
            notifications.appointment_marked(appointment=appointment, now=now)
    except IntegrityError as exc:
        # Only a no-show frees its time, so only its undo can meet someone else's appointment there.
        if is_patient_overlap_error(exc):
            raise BookingError(
                code="patient_busy",
                message="The patient has another appointment at that time now, so the no-show cannot be "
                "undone.",
            ) from exc
        if is_overlap_error(exc) or _constraint_name(exc) == "appointment_one_active_per_session":
            raise BookingError(
                code="taken",
                message="That time has been booked for someone else since the no-show was recorded, so it "
                "cannot be undone. Book the patient a new time instead.",
            ) from exc
        raise
    return appointment


def _audit_cancelled(changes: list[tuple[Appointment, dict]], *, by, now: datetime) -> None:
    audit_record(
        action=AuditEvent.Action.CANCELLED, changes=changes, by=by, default_actor=PATIENT_MANAGE_LINK, at=now
    )


def _mark_cancelled(appointment: Appointment, *, reason: str, now: datetime) -> None:
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:300]
    appointment.version += 1
    appointment.save(update_fields=["status", "cancelled_at", "cancel_reason", "version", "updated_at"])


def _refuse_if_changed(series: Series, seen: dict[int, int] | None) -> None:
    """Refuse ("changed") when a session changed since the page the person acted on showed it.

    Optimistic concurrency: two tabs (or the patient and the front desk) showing one session both
    offer to change it; whoever acts second acted on a view that no longer holds. Called under the
    series lock, so the versions read here are the ones the change will build on.
    """
    if not seen:
        return
    now_versions = dict(series.appointments.filter(pk__in=list(seen)).values_list("pk", "version"))
    if any(now_versions.get(pk) != version for pk, version in seen.items()):
        raise BookingError(CHANGED, code=Code.CHANGED)


def _settle_series(series: Series) -> None:
    """The series' status, derived from its sessions: active while one is booked or checked in,
    else completed when one was completed, else cancelled (every change calls this, undo too)."""
    # Lock the series row (after the appointments, the order series_replan keeps): two changes to
    # different sessions of one series derive the status one after the other, each reading the
    # other's committed rows, so the last one sees everything (never "active, nothing booked").
    Series.objects.select_for_update(of=("self",)).filter(pk=series.pk).values_list("pk").first()
    statuses = set(Appointment.objects.filter(series_id=series.pk).values_list("status", flat=True))
    if statuses & {Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN}:
        status = Series.Status.ACTIVE
    elif Appointment.Status.COMPLETED in statuses:
        status = Series.Status.COMPLETED
    else:
        status = Series.Status.CANCELLED
    Series.objects.filter(pk=series.pk).exclude(status=status).update(status=status)
    series.status = status


def answers_session_lock(appointment: Appointment, *, now: datetime) -> Appointment:
    """The session whose safety answers the patient re-confirms, locked (inside the caller's transaction),
    or a refusal when it is no longer booked ahead or re-confirming has not opened yet."""
    # The series, then the row, so a cancel or move racing the confirmation sees one result or the other.
    series = series_lock(appointment.series_id)
    appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
    appointment.series = series
    if appointment.status != Appointment.Status.BOOKED or appointment.end <= now:
        raise BookingError(
            "This session has been cancelled or has already taken place, so there is nothing to confirm.",
            code=Code.NOT_CHANGEABLE,
        )
    not_yet = selectors.answers_not_open_yet(appointment, now=now)
    if not_yet:
        raise BookingError(not_yet, code=Code.NOT_YET)
    return appointment


def appointment_confirm_answers(
    *, appointment: Appointment, changed: bool, now: datetime | None = None
) -> Appointment:
    """The patient re-confirms their safety answers before a session; a change holds it for review."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = answers_session_lock(appointment, now=now)
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
        # The series, then the row, so two people clearing (or a patient re-flagging) record one
        # result each.
        series = series_lock(appointment.series_id)
        appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        appointment.series = series
        if not (appointment.needs_review or series.needs_review):
            raise BookingError("This session is not waiting for a review.", code=Code.WRONG_STATUS)
        _review_clear(appointment, by=by, now=now)
    return appointment


def _review_clear(appointment: Appointment, *, by, now: datetime) -> None:
    """Clear the review flag on the session and its series, and record who did (row locked by the caller)."""
    before = {**snapshot(appointment), "needs_review": True}
    appointment.needs_review = False
    appointment.save(update_fields=["needs_review", "updated_at"])
    Series.objects.filter(pk=appointment.series_id).update(needs_review=False)
    appointment.series.needs_review = False
    audit_record(
        action=AuditEvent.Action.REVIEW_CLEARED,
        changes=[(appointment, before)],
        by=by,
        default_actor=SYSTEM,
        at=now,
    )


# --- Practitioners -----------------------------------------------------------------------------------

LISTED_AHEAD = 20


def practitioner_deactivate_refusal(*, practitioner: Practitioner, now: datetime) -> BookingError | None:
    """Why the practitioner cannot come off the diary now: the sessions still ahead, each listed."""
    ahead = list(
        Appointment.objects.filter(
            practitioner=practitioner,
            status__in=(Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN),
            end__gt=now,
        )
        .select_related("series__patient", "series__treatment")
        .order_by("start")
    )
    if not ahead:
        return None
    tz = selectors.clinic_zone()
    listed = "; ".join(
        f"{a.series.patient.name}, {a.series.treatment.name} session {a.session_number}, "
        f"{a.start.astimezone(tz):%a %-d %b %Y %H:%M}"
        for a in ahead[:LISTED_AHEAD]
    )
    more = f"; and {len(ahead) - LISTED_AHEAD} more" if len(ahead) > LISTED_AHEAD else ""
    plural = "s" if len(ahead) != 1 else ""
    refusal = BookingError(
        code="has_bookings",
        message=f"{practitioner.name} still has {len(ahead)} session{plural} ahead, which would vanish from "
        f"the diary. Move or cancel them first: {listed}{more}.",
    )
    refusal.appointments = ahead
    return refusal


def practitioner_deactivate(*, practitioner: Practitioner, now: datetime | None = None) -> Practitioner:
    """Take a practitioner off the diary and out of online booking; refused while they have sessions ahead."""
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock every booking for them takes first (_lock_resources): a booking racing this
        # either commits before (and is listed below) or waits and then finds them inactive.
        practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
        refusal = practitioner_deactivate_refusal(practitioner=practitioner, now=now)
        if refusal:
            raise refusal
        practitioner.is_active = False
        practitioner.save(update_fields=["is_active"])
    return practitioner


# --- Patients ----------------------------------------------------------------------------------------


def patient_create(*, details: PatientDetails, by=None, now: datetime | None = None) -> Patient:
    """A patient registered by the front desk (typically on the phone, before booking).

    The identity rule of online booking (_patient_for) holds here too: someone with the same name
    and e-mail as a patient on record is that patient, so registering them again is refused
    (PatientExists, with the record to open) rather than making a duplicate. Audited.
    """
    name, email = " ".join(details.name.split()), details.email.strip()
    with transaction.atomic():
        _lock_identity(email)  # two registrations (or a booking) with one address: one after the other
        patient = _patient_found_or_added(Patient(name=name, email=email, phone=details.phone.strip()))
        if not patient.created:
            raise PatientExists(
                f"{patient.name} ({patient.email}) is already registered: open their record to book or "
                "to check their phone number.",
                patient,
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
        Questionnaire.objects.filter(series__patient=patient).update(answers={}, flagged=[], dates={})
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


def waitlist_callers_forget(*, before: datetime) -> int:
    """Delete new callers' waitlist entries (their name, e-mail and phone: no patient record holds
    them) made before `before`, with their offers; how many. Those of patients with a series go with
    the series' own retention."""
    stale = WaitlistEntry.objects.filter(series__isnull=True, created_at__lt=before)
    count = stale.count()
    stale.delete()
    return count


# --- Patient records (the staff workspace) -----------------------------------------------------------


def patient_update(*, patient: Patient, details: PatientDetails, by, now: datetime | None = None) -> Patient:
    """Correct a patient's contact details; the change is audited on their latest series (if any)."""
    now = now or timezone.now()
    new = {
        "name": " ".join(details.name.split()),
        "email": details.email.strip(),
        "phone": details.phone.strip(),
    }
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        before = {field: getattr(patient, field) for field in new if getattr(patient, field) != new[field]}
        if not before:
            return patient
        for field, value in new.items():
            setattr(patient, field, value)
        patient.save(update_fields=list(new))
        # AuditEvent needs a series (until events without one land): a patient with none goes unrecorded.
        latest = patient.series.order_by("-created_at", "-pk").first()
        if latest is not None:
            audit_patient_changed(
                series=latest, patient=patient, before=before, by=by, default_actor=SYSTEM, at=now
            )
    return patient


def patients_merge(*, keep: Patient, merge: Patient, by, now: datetime | None = None) -> Patient:
    """Move every series of `merge` to `keep` and delete `merge` (a duplicate record), audited per series.

    Refused when the two records hold live appointments at overlapping times: one person cannot be
    in two chairs, so one of them must be moved or cancelled first.
    """
    now = now or timezone.now()
    if keep.pk == merge.pk:
        raise BookingError("Choose two different patient records to merge.")
    try:
        return _patients_merge(keep=keep, merge=merge, by=by, now=now)
    except IntegrityError as exc:
        if not is_patient_overlap_error(exc):
            raise
        # A session booked meanwhile that the check below did not see: the constraint refused it.
        raise BookingError(
            "These records cannot be merged: they now hold sessions at the same time. "
            "Move or cancel one first."
        ) from exc


def _patients_merge(*, keep: Patient, merge: Patient, by, now: datetime) -> Patient:
    with transaction.atomic():
        # Both rows, in id order, so two managers merging the same pair either way round wait, not deadlock.
        rows = Patient.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk")
        patients = {row.pk: row for row in rows}
        if len(patients) < 2:
            raise BookingError("One of these patient records no longer exists.")
        keep, merge = patients[keep.pk], patients[merge.pk]
        live = Appointment.objects.active()
        theirs = list(live.filter(series__patient=merge).select_related("series__treatment"))
        clash = next(
            (
                (mine, other)
                for other in theirs
                for mine in live.filter(series__patient=keep).overlapping(other.start, other.end)
            ),
            None,
        )
        if clash:
            mine, other = clash
            raise BookingError(
                f"These records cannot be merged: {keep.name}'s session on "
                f"{timezone.localtime(mine.start):%a %-d %b %Y %H:%M} overlaps {merge.name}'s session "
                f"on {timezone.localtime(other.start):%a %-d %b %Y %H:%M}. Move or cancel one first."
            )
        moved = list(merge.series.all())
        Series.objects.filter(patient=merge).update(patient=keep)
        Appointment.objects.filter(patient=merge).update(patient=keep)
        # The merged record's own trail (its creation, its edits) now reads in the kept one's history;
        # each event still names the record it was about (subject_id).
        AuditEvent.objects.filter(patient=merge).update(patient=keep)
        label = actor_label(by, default=SYSTEM)
        AuditEvent.objects.bulk_create(
            AuditEvent(
                series=series,
                actor=by,
                actor_label=label,
                action=AuditEvent.Action.PATIENTS_MERGED,
                before=_patient_record(merge),
                after=_patient_record(keep),
                at=now,
            )
            for series in moved
        )
        merge.delete()
    return keep


def _patient_record(patient: Patient) -> dict:
    return {"patient_id": patient.pk, "name": patient.name, "email": patient.email, "phone": patient.phone}


def message_resend(*, message: OutboxMessage, now: datetime | None = None) -> OutboxMessage:
    """Send one failed e-mail again now (the admin's "send again", for one row from the staff worklist)."""
    with transaction.atomic():
        if not outbox.messages_retry(ids=[message.pk], now=now):
            raise BookingError(
                "This e-mail has not failed (any more): it was sent again or cancelled meanwhile."
            )
        notifications.send_on_commit([message.pk])
    message.refresh_from_db()
    return message
