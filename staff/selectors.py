"""
Reads for the staff workspace (the diary grid is in diary_grid.py): the morning worklist, series with
a session to book again, patient search with next appointments, duplicates, the clinic-wide history.
Each costs a fixed number of queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Lower

from bookings import availability
from bookings.models import Appointment, AuditEvent, ClinicRules, OutboxMessage, Patient, Series
from bookings.selectors import clinic_zone, local_midnight, spacing_of
from staff.access import sees_all, visible_patients

REVIEW_AHEAD = timedelta(days=7)
SEARCH_LIMIT = 50
FAILED_SHOWN = 50


# --- Series with a session to book again ------------------------------------------------------------


def missing_sessions(series: Series, live: dict[int, Appointment]) -> list[int]:
    """Sessions of an active series the front desk can book again: unbooked, beside a booked neighbour.

    `live` is the series' active appointments by session number (selectors.rebook_refusal's rule).
    """
    if series.status != Series.Status.ACTIVE or not live:
        return []
    return [
        number
        for number in range(1, series.treatment.sessions_in_series + 1)
        if number not in live and (number - 1 in live or number == 1)
    ]


# --- The worklist ---------------------------------------------------------------------------------


@dataclass
class ClosingWindow:
    """A series whose next session is unbooked while its spacing window closes (or has closed)."""

    series: Series
    number: int  # the session to book
    first: date
    last: date
    days_left: int  # negative: closed that many days ago


@dataclass
class Worklist:
    closing: list[ClosingWindow]
    reviews: list[Appointment]
    failed: list[OutboxMessage]
    unconfirmed: list[Appointment]
    unconfirmed_days: int
    # Sessions the patient's new safety answers rule out (issue 13): until moved late enough or cancelled.
    ineligible: list = field(default_factory=list)


def _missing_session(series: Series) -> tuple[int, Appointment | None, Appointment | None] | None:
    """The first session that can be booked again, with its booked neighbours."""
    live = {appointment.session_number: appointment for appointment in series.live}
    missing = missing_sessions(series, live)
    if not missing:
        return None
    return missing[0], live.get(missing[0] - 1), live.get(missing[0] + 1)


def windows_closing(*, now: datetime, within_days: int) -> list[ClosingWindow]:
    """Active series whose next session's window (availability.spacing_window) ends within `within_days`."""
    tz = clinic_zone()
    today = now.astimezone(tz).date()
    active = (
        Series.objects.filter(status=Series.Status.ACTIVE)
        .select_related("patient", "treatment")
        .prefetch_related(Prefetch("appointments", Appointment.objects.active(), to_attr="live"))
    )
    closing = []
    for series in active:
        missing = _missing_session(series)
        if missing is None:
            continue
        number, previous, following = missing
        window = availability.spacing_window(
            previous.start if previous else None,
            following.start if following else None,
            spacing_of(series.treatment),
            tz,
        )
        if window is None:
            continue
        first, last = window
        if (last - today).days <= within_days:
            closing.append(ClosingWindow(series, number, first, last, (last - today).days))
    return sorted(closing, key=lambda row: (row.last, row.series.patient.name))


def worklist(*, now: datetime) -> Worklist:
    """What the front desk works through each morning."""
    rules = ClinicRules.load()
    booked = Appointment.objects.filter(status=Appointment.Status.BOOKED).select_related(
        "series__patient", "series__treatment", "practitioner"
    )
    unconfirmed_days = max(rules.answers_open_days, 1)
    return Worklist(
        closing=windows_closing(now=now, within_days=rules.alert_days_before_window_closes),
        reviews=list(
            booked.filter(start__gte=now, start__lt=now + REVIEW_AHEAD)
            .filter(Q(needs_review=True) | Q(series__needs_review=True))
            .order_by("start")
        ),
        failed=list(
            OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
            .select_related("series__patient")
            .order_by("-updated_at", "-pk")[:FAILED_SHOWN]
        ),
        unconfirmed=list(
            booked.filter(
                start__gte=now,
                start__lt=now + timedelta(days=unconfirmed_days),
                answers_confirmed_at__isnull=True,
            ).order_by("start")
        ),
        unconfirmed_days=unconfirmed_days,
        ineligible=ineligible_sessions(now=now),
    )


def ineligible_sessions(*, now: datetime) -> list:
    """Open eligibility flags on sessions still booked ahead and still before the day the answers allow."""
    from bookings.models import EligibilityFlag

    return list(
        EligibilityFlag.objects.filter(
            resolved_at__isnull=True,
            appointment__status=Appointment.Status.BOOKED,
            appointment__end__gt=now,
        )
        .filter(Q(earliest_at__isnull=True) | Q(appointment__start__lt=F("earliest_at")))
        .select_related("appointment__series__patient", "appointment__series__treatment", "appointment__practitioner")
        .order_by("appointment__start")
    )


# --- Patients ---------------------------------------------------------------------------------------


def phone_digits(value: str) -> str:
    """A phone number as its digits, a leading +44 read as 0: '+44 7700 900123' == '07700900123'."""
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if value.strip().startswith("+44") else digits


def _with_phone_digits(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    digits = Func(F("phone"), Value(r"\D"), Value(""), Value("g"), function="regexp_replace")
    return patients.annotate(phone_digits=digits)


def patient_search(*, user, query: str) -> list[Patient]:
    """Patients whose name or e-mail contains `query`, or whose phone contains its digits."""
    condition = Q(name__icontains=query) | Q(email__icontains=query)
    digits = re.sub(r"\D", "", query)
    patients = visible_patients(user)
    if len(digits) >= 3:
        # Stored as typed ("07700 900123"): compare digits only, so any spacing finds it.
        patients = _with_phone_digits(patients)
        condition |= Q(phone_digits__contains=digits)
    return list(patients.filter(condition).order_by("name", "pk")[:SEARCH_LIMIT])


def possible_duplicates(*, email: str, phone: str, exclude: int | None = None) -> list[Patient]:
    """Patients with the same e-mail (any case) or the same phone number (any spacing)."""
    condition = Q(email_lower=email.strip().lower())
    digits = phone_digits(phone)
    if len(digits) >= 6:
        national = "44" + digits[1:] if digits.startswith("0") else digits
        condition |= Q(phone_digits__in=[digits, national])
    patients = _with_phone_digits(Patient.objects.annotate(email_lower=Lower("email"))).filter(condition)
    if exclude:
        patients = patients.exclude(pk=exclude)
    return list(patients.order_by("name", "pk")[:10])


@dataclass
class Progress:
    series: Series
    next_number: int | None  # the next session to take place (None: none booked ahead)
    total: int


def search_rows(patients: list[Patient], *, now: datetime) -> list[dict]:
    """Each patient with their next appointment and their active series' progress (two queries)."""
    upcoming = (
        Appointment.objects.filter(
            series__patient=OuterRef("pk"), status=Appointment.Status.BOOKED, start__gte=now
        )
        .order_by("start")
        .values("pk")[:1]
    )
    ids = [patient.pk for patient in patients]
    next_ids = dict(
        Patient.objects.filter(pk__in=ids).annotate(next_id=Subquery(upcoming)).values_list("pk", "next_id")
    )
    appointments = Appointment.objects.select_related("practitioner")
    series = (
        Series.objects.filter(patient_id__in=ids, status=Series.Status.ACTIVE)
        .select_related("treatment")
        .prefetch_related(Prefetch("appointments", appointments.order_by("session_number"), to_attr="all"))
        .order_by("created_at")
    )
    by_patient: dict[int, list[Series]] = {}
    following: dict[int, Appointment] = {}
    for one in series:
        by_patient.setdefault(one.patient_id, []).append(one)
        for appointment in one.all:
            following[appointment.pk] = appointment
    rows = []
    for patient in patients:
        progress = []
        for one in by_patient.get(patient.pk, []):
            ahead = [a for a in one.all if a.status == Appointment.Status.BOOKED and a.start >= now]
            progress.append(
                Progress(one, ahead[0].session_number if ahead else None, one.treatment.sessions_in_series)
            )
        rows.append(
            {"patient": patient, "next": following.get(next_ids.get(patient.pk)), "progress": progress}
        )
    return rows


# --- History --------------------------------------------------------------------------------------------


def history_events(
    *,
    user,
    actor=None,
    patient: str = "",
    since: date | None = None,
    until: date | None = None,
    action: str = "",
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, filtered (without the clinic-wide right: the user's own patients')."""
    events = AuditEvent.objects.select_related("series__patient", "series__treatment", "appointment", "actor")
    if not user.has_perm("bookings.view_history"):
        events = events.filter(series__patient__in=visible_patients(user))
    if actor is not None:
        events = events.filter(actor=actor)
    if patient:
        events = events.filter(series__patient__name__icontains=patient)
    tz = clinic_zone()
    if since:
        events = events.filter(at__gte=local_midnight(since, tz))
    if until:
        events = events.filter(at__lt=local_midnight(until + timedelta(days=1), tz))
    if action:
        events = events.filter(action=action)
    return events.order_by("-at", "-pk")


def may_see_history(user) -> bool:
    """Managers see everyone's; practitioners their own patients'; the front desk the appointment pages'."""
    return user.has_perm("bookings.view_history") or (
        user.has_perm("bookings.view_auditevent") and not sees_all(user)
    )
