"""
Every write to the waitlist: join, withdraw, offer a freed time (a hold), claim it, let it expire.

The matcher (bookings/waitlist.py) is pure; this module feeds it one schedule per treatment and
saves what it decides:

- `time_freed` runs after a cancel, move or no-show has committed (a Celery task enqueued on
  commit: bookings/notifications.time_freed_on_commit), never inside the transaction that freed
  the time. It finds the best waiting session for the freed time and makes the offer.
- An offer is a **hold**: Appointment rows with status "held" at the offered times (the session
  and every later one it moves), inserted with the Offer in one transaction. The exclusion
  constraints (migration 0014) see held rows, so nobody books a held time meanwhile and a hold is
  never placed over a booking. The offer e-mail goes through the outbox.
- `offer_claim`: the first valid claim wins, and the database decides which: a conditional UPDATE
  of the offer from "open" (and not expired) to "claimed", under the series lock. The holds then
  give way to the move itself (services.appointments_reschedule: the same checks, audit, e-mails
  and calendar SEQUENCE as any move), in the same transaction: all of it or none.
- `offers_expire` (beat, every minute) releases holds whose time is up and offers the freed time
  to the next waiting session. A claim after expiry is refused with a sentence (and releases it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from bookings import availability, notifications, questionnaire, selectors, services
from bookings.audit import PATIENT_ONLINE, audit_record
from bookings.availability import Slot
from bookings.errors import BookingError, Code
from bookings.locks import busy, is_lock_timeout, resources_lock, series_lock
from bookings.models import (
    Appointment,
    AuditEvent,
    ClinicRules,
    Offer,
    OutboxMessage,
    Practitioner,
    Questionnaire,
    Series,
    WaitlistEntry,
)
from bookings.waitlist import Offer as Match
from bookings.waitlist import Wish, match

# The parts of the day a patient may tick (local wall clock). Evening ends at the day's end.
DAY_PARTS = {
    "morning": ("Morning (before 12:00)", time(0, 0), time(12, 0)),
    "afternoon": ("Afternoon (12:00 to 17:00)", time(12, 0), time(17, 0)),
    "evening": ("Evening (after 17:00)", time(17, 0), time(23, 59)),
}
OFFERS_PER_FREED_TIME = 3  # a long freed stretch can fill more than one waiting session
CANDIDATES = 5  # matches tried in rank order when the best one cannot be held (raced, changed)


def hold_duration() -> timedelta:
    return timedelta(minutes=settings.WAITLIST_HOLD_MINUTES)


def claim_path(offer: Offer) -> str:
    from django.urls import reverse

    return reverse("bookings:offer", kwargs={"token": offer.token})


def claim_url(offer: Offer) -> str:
    return settings.SITE_URL + claim_path(offer)


def offer_message_key(offer: Offer) -> str:
    """The offer e-mail's outbox key: one e-mail per offer, and it names the offer it is about."""
    return f"{OutboxMessage.Kind.WAITLIST_OFFER}:{offer.series_id}:{offer.pk}"


def offer_of(message: OutboxMessage) -> Offer | None:
    """The offer an outbox row of kind WAITLIST_OFFER is about."""
    offer_id = message.key.rsplit(":", 1)[-1]
    return Offer.objects.filter(pk=int(offer_id)).first() if offer_id.isdigit() else None


# --- Joining and leaving -----------------------------------------------------------------------------


def _clean_preferences(weekdays, parts) -> tuple[list[int], list[list[str]]]:
    days = sorted({int(day) for day in weekdays if 0 <= int(day) <= 6})
    times = [[f"{lo:%H:%M}", f"{hi:%H:%M}"] for key, (_, lo, hi) in DAY_PARTS.items() if key in set(parts)]
    return days, times


def entry_join(
    *, series: Series, number: int, weekdays, parts, now: datetime | None = None
) -> WaitlistEntry:
    """A patient asks for session `number` sooner, on the days and at the times that suit them.

    Asking again changes the days and times and keeps the place in the queue (first come).
    """
    now = now or timezone.now()
    days, times = _clean_preferences(weekdays, parts)
    with transaction.atomic():
        # The series first (as every change to it): a cancel of this session racing the request
        # either comes before (and the session is refused here) or after (and the matcher skips it).
        series = series_lock(series.pk)
        appointment = selectors.live_sessions(series).get(number)
        if appointment is None or appointment.status != Appointment.Status.BOOKED:
            raise BookingError(f"Session {number} has no booked time to bring forward.", code=Code.NOT_CHANGEABLE)
        refusal = selectors.change_refusal(appointment=appointment, now=now)
        if refusal:
            raise BookingError(refusal)
        entry = WaitlistEntry.objects.filter(
            series=series, session_number=number, status__in=(WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)
        ).first()
        if entry is None:
            entry = WaitlistEntry(series=series, treatment=series.treatment, session_number=number, created_at=now)
        entry.weekdays, entry.times = days, times
        entry.save()
    return entry


def entry_join_new(
    *, treatment, name: str, email: str, phone: str, weekdays, parts, now: datetime | None = None
) -> WaitlistEntry:
    """A new patient waits for a first session (the calendar had nothing that suits them)."""
    now = now or timezone.now()
    days, times = _clean_preferences(weekdays, parts)
    return WaitlistEntry.objects.create(
        treatment=treatment,
        session_number=1,
        name=" ".join(name.split()),
        email=email.strip(),
        phone=phone.strip(),
        weekdays=days,
        times=times,
        created_at=now,
    )


def entry_withdraw(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """The patient no longer wants a sooner time: off the list, and any open offer released."""
    now = now or timezone.now()
    for offer in entry.offers.filter(status=Offer.Status.OPEN):
        offer_release(offer=offer, status=Offer.Status.RELEASED, now=now)
    WaitlistEntry.objects.filter(
        pk=entry.pk, status__in=(WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)
    ).update(status=WaitlistEntry.Status.WITHDRAWN, updated_at=now)
    entry.refresh_from_db()
    return entry


# --- Matching a freed time -------------------------------------------------------------------------


@dataclass(frozen=True)
class Freed:
    """A stretch of a practitioner's time that has just come free (and its room, if any)."""

    practitioner_id: int
    start: datetime
    end: datetime
    room_id: int | None = None

    def as_slot(self) -> Slot:
        tz = selectors.clinic_zone()
        return Slot(self.start.astimezone(tz), self.end.astimezone(tz), self.practitioner_id, self.room_id)


def _wish(entry: WaitlistEntry, current: dict[int, Slot]) -> Wish:
    return Wish(
        id=entry.pk,
        since=entry.created_at,
        number=entry.session_number,
        sessions=entry.treatment.sessions_in_series if entry.is_new_patient else entry.series.sessions_expected,
        current=current,
        weekdays=frozenset(entry.weekdays),
        windows=tuple((time.fromisoformat(lo), time.fromisoformat(hi)) for lo, hi in entry.times),
    )


def wishes_for(entries: list[WaitlistEntry], *, now: datetime, for_staff: bool, rules: ClinicRules) -> list[Wish]:
    """The matcher's view of these entries (one query for their series' live sessions).

    Left out: a session no longer booked (cancelled, or already held), or one a patient can no
    longer move online (inside the cancellation cutoff), since the claim would be refused.
    """
    series_ids = [entry.series_id for entry in entries if not entry.is_new_patient]
    tz = selectors.clinic_zone()
    # Plain values, not model rows: this runs for every waiting entry the freed time may suit.
    live: dict[int, dict[int, tuple[str, Slot]]] = {}
    rows = Appointment.objects.active().filter(series_id__in=series_ids).values_list(
        "series_id", "session_number", "status", "start", "end", "practitioner_id", "room_id"
    )
    for series_id, number, status, start, end, practitioner_id, room_id in rows:
        live.setdefault(series_id, {})[number] = (status, Slot(start.astimezone(tz), end.astimezone(tz),
                                                               practitioner_id, room_id))
    cutoff = timedelta(hours=rules.cancellation_cutoff_hours)
    wishes = []
    for entry in entries:
        sessions = {} if entry.is_new_patient else live.get(entry.series_id, {})
        if not entry.is_new_patient:
            status, current = sessions.get(entry.session_number, (None, None))
            if status != Appointment.Status.BOOKED:
                continue
            if not for_staff and current.start - now < cutoff:
                continue  # selectors.change_refusal's cutoff, without reading the rules per entry
        wishes.append(_wish(entry, {number: slot for number, (_, slot) in sessions.items()}))
    return wishes


def _schedule_for(treatment, freed: Slot, rules: ClinicRules) -> availability.Schedule:
    tz = selectors.clinic_zone()
    first_day = freed.start.astimezone(tz).date()
    last_day = first_day + timedelta(
        days=treatment.sessions_in_series * treatment.max_days_between + availability.OVERFLOW_DAYS
    )
    return selectors.load_schedule(treatment=treatment, first_day=first_day, last_day=last_day, rules=rules)


def _rooms_to_try(treatment, freed: Freed) -> list[int | None]:
    if not treatment.requires_room:
        return [None]
    rooms = list(treatment.rooms.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    return [freed.room_id] if freed.room_id in rooms else rooms


def time_freed(
    *, freed: Freed, now: datetime | None = None, exclude_entries: frozenset[int] = frozenset()
) -> list[Offer]:
    """Offer a freed time to the waiting sessions it fits best (first come, then closest fit).

    Runs after the change that freed the time has committed. Each offer is made in a transaction
    of its own (`_hold`); one that cannot be held any more (someone booked, the series changed)
    falls to the next candidate. Returns the offers made.
    """
    now = now or timezone.now()
    made: list[Offer] = []
    practitioner = Practitioner.objects.filter(pk=freed.practitioner_id, is_active=True).first()
    if practitioner is None:
        return made
    # Only entries the freed time can suit, narrowed in the query: a day they named (or any), and a
    # session now booked later than the freed time starts (the matcher offers only sooner times).
    weekday = freed.start.astimezone(selectors.clinic_zone()).weekday()
    later = Appointment.objects.filter(
        series_id=OuterRef("series_id"),
        session_number=OuterRef("session_number"),
        status=Appointment.Status.BOOKED,
        start__gt=freed.start,
    )
    waiting = (
        WaitlistEntry.objects.waiting()
        .exclude(pk__in=list(exclude_entries))
        .filter(treatment__in=practitioner.treatments.all())
        .filter(Q(weekdays=[]) | Q(weekdays__contains=[weekday]))
        .filter(~Q(email="") | Exists(later))
        .select_related("series__treatment", "treatment")
    )
    by_treatment: dict[int, list[WaitlistEntry]] = {}
    for entry in waiting:
        by_treatment.setdefault(entry.treatment_id, []).append(entry)
    rules = ClinicRules.load()
    for entries in by_treatment.values():
        treatment = entries[0].treatment
        for room_id in _rooms_to_try(treatment, freed):
            slot = Freed(freed.practitioner_id, freed.start, freed.end, room_id).as_slot()
            while len(made) < OFFERS_PER_FREED_TIME:
                offer = _offer_one(treatment, entries, slot, rules=rules, now=now, by=None)
                if offer is None:
                    break
                made.append(offer)
                entries = [entry for entry in entries if entry.pk != offer.entry_id]
                if freed.end - freed.start < 2 * timedelta(minutes=treatment.session_minutes):
                    break  # no room for a second session in it: the common case, one query round saved
    return made


def _offer_one(treatment, entries, freed: Slot, *, rules, now: datetime, by) -> Offer | None:
    for_staff = by is not None
    schedule = _schedule_for(treatment, freed, rules)
    tz = schedule.tz
    if for_staff:
        not_before, last_first_day = now, None
    else:
        # Patients need the notice at the latest moment they can claim: the offer's expiry.
        not_before = now + schedule.rules.min_notice + hold_duration()
        last_first_day = now.astimezone(tz).date() + timedelta(days=schedule.rules.horizon_days)
    wishes = wishes_for(entries, now=now, for_staff=for_staff, rules=rules)
    matches = match(
        schedule,
        freed=freed,
        wishes=wishes,
        spacing=selectors.spacing_of(treatment),
        not_before=not_before,
        last_first_day=last_first_day,
        limit=CANDIDATES,
    )
    by_id = {entry.pk: entry for entry in entries}
    for candidate in matches:
        offer = _hold(by_id[candidate.wish.id], candidate, now=now, by=by)
        if offer is not None:
            return offer
    return None


def offer_make(*, entry: WaitlistEntry, start: datetime, practitioner: Practitioner, by, now=None) -> Offer:
    """The front desk offers a time by hand: the same matcher and hold, for one entry, staff rules.

    Refused with a sentence when the time does not fit the session with the rest of its series.
    """
    now = now or timezone.now()
    entry = WaitlistEntry.objects.select_related("series__treatment", "treatment").get(pk=entry.pk)
    if entry.status != WaitlistEntry.Status.WAITING:
        raise BookingError("This patient is not waiting any more (offered a time, moved or withdrawn).",
                           code=Code.WRONG_STATUS)
    treatment = entry.treatment
    slot = Slot(start, start + timedelta(minutes=treatment.session_minutes), practitioner.pk, None)
    rules = ClinicRules.load()
    for room_id in _rooms_to_try(treatment, Freed(practitioner.pk, slot.start, slot.end)):
        freed = Slot(slot.start, slot.end, practitioner.pk, room_id)
        offer = _offer_one(treatment, [entry], freed, rules=rules, now=now, by=by)
        if offer is not None:
            return offer
    raise BookingError(
        "That time cannot be offered: it is not free, not in working hours, not sooner than the session, "
        "or it would leave a session of the series outside its spacing window.",
        code=Code.NO_FREE_TIME,
    )


# --- Holding -------------------------------------------------------------------------------------------


def _proposed(sessions) -> list[dict]:
    return [
        {
            "number": session.number,
            "start": session.slot.start.astimezone(UTC).isoformat(),
            "end": session.slot.end.astimezone(UTC).isoformat(),
            "practitioner_id": session.slot.practitioner_id,
            "room_id": session.slot.room_id,
        }
        for session in sessions
    ]


def _hold(entry: WaitlistEntry, candidate: Match, *, now: datetime, by) -> Offer | None:
    """Make the offer and its holds in one transaction; None when it can no longer be held."""
    expires_at = now + hold_duration()
    slots = [session.slot for session in candidate.sessions]
    try:
        with transaction.atomic():
            locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
            if locked.status != WaitlistEntry.Status.WAITING:
                return None
            if not entry.is_new_patient:
                # The series first (the order every service keeps); then check it is as matched.
                series = series_lock(entry.series_id)
                live = selectors.live_sessions(series)
                if {n: selectors.as_slot(a) for n, a in live.items()} != dict(candidate.wish.current):
                    return None  # the series changed since we read it: the next match sees it anew
                patient_id = series.patient_id
            else:
                series, patient_id = _new_patient_series(locked, by=by, now=now)
            # Serialise with bookings of these practitioners and rooms, then re-check under the locks
            # (the constraint knows nothing of the cleaning buffer).
            resources_lock(
                practitioner_ids=list({slot.practitioner_id for slot in slots}),
                room_ids=list({slot.room_id for slot in slots if slot.room_id is not None}),
            )
            tz = selectors.clinic_zone()
            days = [slot.start.astimezone(tz).date() for slot in slots]
            schedule = selectors.load_schedule(treatment=entry.treatment, first_day=min(days), last_day=max(days))
            if not all(schedule.is_free(slot) for slot in slots):
                return None
            offer = Offer.objects.create(
                entry=locked,
                series=series,
                proposed=_proposed(candidate.sessions),
                token=secrets.token_urlsafe(24),
                expires_at=expires_at,
                created_at=now,
                created_by=by,
            )
            holds = Appointment.objects.bulk_create(
                Appointment(
                    series=series,
                    patient_id=patient_id,
                    session_number=session.number,
                    practitioner_id=session.slot.practitioner_id,
                    room_id=session.slot.room_id,
                    start=session.slot.start,
                    end=session.slot.end,
                    status=Appointment.Status.HELD,
                    offer=offer,
                    held_until=expires_at,
                )
                for session in candidate.sessions
            )
            locked.status = WaitlistEntry.Status.OFFERED
            locked.save(update_fields=["status", "updated_at"])
            message = OutboxMessage.objects.create(
                key=offer_message_key(offer),
                kind=OutboxMessage.Kind.WAITLIST_OFFER,
                series=series,
                session_number=locked.session_number,
                anchor_at=now,
                appointment_ids=[hold.pk for hold in holds],
                due_at=now,
            )
            notifications.send_on_commit([message.pk])
    except IntegrityError as exc:
        if services.is_overlap_error(exc) or services.is_patient_overlap_error(exc):
            return None  # booked meanwhile (the constraint refused the hold): not this one
        raise
    except OperationalError as exc:
        if is_lock_timeout(exc):
            return None
        raise
    except BookingError as refusal:
        if refusal.code == Code.BUSY:
            return None  # someone is changing the series right now: their change frees or keeps the time
        raise
    return offer


def _new_patient_series(entry: WaitlistEntry, *, by, now: datetime) -> tuple[Series, int]:
    """A new patient's series, made when their first session is offered (its sessions held)."""
    if entry.series_id:  # offered before and not taken: the same (empty) series again
        series = series_lock(entry.series_id)
        Series.objects.filter(pk=series.pk).update(status=Series.Status.ACTIVE)
        return series, series.patient_id
    # The identity rule of online booking: the same name and e-mail is the same patient.
    patient, details_before, created = services._patient_for(
        services.PatientDetails(entry.name, entry.email, entry.phone)
    )
    series = Series.objects.create(patient=patient, treatment=entry.treatment, created_by=by)
    WaitlistEntry.objects.filter(pk=entry.pk).update(series=series)
    # Recorded as online booking records them: the patient added, or their phone number changed.
    trail = {"by": by, "default_actor": PATIENT_ONLINE, "at": now, "series": series}
    if created:
        audit_record(action=AuditEvent.Action.CREATED, changes=[(patient, {})], **trail)
    if details_before:
        audit_record(action=AuditEvent.Action.PATIENT_CHANGED, changes=[(patient, details_before)], **trail)
    return series, patient.pk


# --- Claiming, expiring, releasing -------------------------------------------------------------------

EXPIRED = (
    "Sorry, this offer has expired: we held the time until {until}, and it has gone to the next person "
    "waiting. Your sessions are unchanged, and you are still on the waitlist."
)
ALREADY_CLAIMED = "You have already taken this time: your sessions were moved. Your manage link shows them."
RELEASED = "This offer was withdrawn, so the time is no longer held for you. Your sessions are unchanged."


def offer_refusal(offer: Offer, *, now: datetime) -> BookingError | None:
    """Why this offer cannot be claimed now, as a sentence, or None."""
    if offer.status == Offer.Status.CLAIMED:
        return BookingError(ALREADY_CLAIMED, code=Code.NOT_CHANGEABLE)
    if offer.status == Offer.Status.RELEASED:
        return BookingError(RELEASED, code=Code.NOT_CHANGEABLE)
    if offer.status == Offer.Status.EXPIRED or offer.expires_at <= now:
        until = timezone.localtime(offer.expires_at, selectors.clinic_zone())
        return BookingError(EXPIRED.format(until=f"{until:%H:%M} on {until:%A %-d %B}"), code=Code.TOO_LATE)
    return None


@dataclass(frozen=True)
class NewPatientAnswers:
    """What a new patient gives when taking a first-session offer (as on the booking's step 3)."""

    answers: dict[str, bool]
    consent_treatment: bool
    consent_privacy: bool


def offer_claim(*, offer: Offer, now: datetime | None = None, new_patient: NewPatientAnswers | None = None) -> Offer:
    """The patient takes the offered time: the first valid claim wins, decided by the database.

    A claim after the expiry is refused with a sentence, and releases the offer there and then
    (the next waiting session gets the time) if the minute's expiry run has not yet done so.
    """
    now = now or timezone.now()
    try:
        return _offer_claim(offer=offer, now=now, new_patient=new_patient)
    except BookingError as refusal:
        if refusal.code == Code.TOO_LATE:
            offer_release(offer=offer, status=Offer.Status.EXPIRED, now=now)
        raise


def _offer_claim(*, offer: Offer, now: datetime, new_patient: NewPatientAnswers | None) -> Offer:
    if is_new_patient(offer) and not (new_patient and new_patient.consent_treatment and new_patient.consent_privacy):
        raise BookingError(
            "Please answer the safety questions and confirm both consents to book this time.", code=Code.CONSENT
        )
    try:
        with transaction.atomic():
            # The series lock first (as every change to it), then the decisive conditional UPDATE:
            # of any number of claims (and the expiry task), exactly one finds the offer open.
            series = series_lock(offer.series_id)
            won = Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN, expires_at__gt=now).update(
                status=Offer.Status.CLAIMED, closed_at=now
            )
            if not won:
                raise _claim_lost(offer.pk, now=now)
            offer = Offer.objects.select_related("entry").get(pk=offer.pk)
            holds = list(offer.holds.select_for_update(of=("self",)).order_by("session_number"))
            if is_new_patient(offer):
                _book_held_series(offer, series, holds, new_patient, now=now)
                return offer
            wanted = {hold.session_number: selectors.as_slot(hold) for hold in holds}
            # The holds give way to the sessions themselves, in this transaction: nobody else can
            # take the time in between (our deletions and updates are one commit).
            Appointment.objects.filter(pk__in=[hold.pk for hold in holds]).delete()
            live = selectors.live_sessions(series)
            if any(number not in live for number in wanted):
                raise BookingError(
                    "Your sessions changed since we offered this time, so it cannot be taken this way. "
                    f"Please call us on {settings.CLINIC_PHONE}.",
                    code=Code.CHANGED,
                )
            services.appointments_reschedule(
                moves=[(live[number], slot) for number, slot in wanted.items()],
                now=now,
                for_staff=offer.created_by_id is not None,  # a time the front desk chose: staff rules
            )
            WaitlistEntry.objects.filter(pk=offer.entry_id).update(
                status=WaitlistEntry.Status.FULFILLED, updated_at=now
            )
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise busy() from exc
        raise
    return offer


def is_new_patient(offer: Offer) -> bool:
    """Whether the offer is a new patient's first series (its entry was not a running series')."""
    return offer.entry.is_new_patient


def _book_held_series(offer: Offer, series: Series, holds: list[Appointment], new_patient: NewPatientAnswers,
                      *, now: datetime) -> None:
    """A new patient takes the offer: the held rows become the booked series, as series_book would
    have written it (questionnaire, audit, confirmation and planned e-mails). Under the series lock."""
    flagged = questionnaire.flagged_keys(new_patient.answers)
    Questionnaire.objects.create(
        series=series,
        answers=new_patient.answers,
        flagged=flagged,
        consent_treatment=new_patient.consent_treatment,
        consent_privacy=new_patient.consent_privacy,
        consent_text=series.treatment.consent_text,
        wording_version=questionnaire.WORDING_VERSION,
        submitted_at=now,
    )
    Appointment.objects.filter(pk__in=[hold.pk for hold in holds]).update(
        status=Appointment.Status.BOOKED, offer=None, held_until=None, updated_at=now
    )
    booked = list(Appointment.objects.filter(pk__in=[hold.pk for hold in holds]).order_by("session_number"))
    Series.objects.filter(pk=series.pk).update(needs_review=bool(flagged), status=Series.Status.ACTIVE)
    series.needs_review = bool(flagged)
    audit_record(
        action=AuditEvent.Action.BOOKED,
        changes=[(appointment, {}) for appointment in booked],
        by=None,
        default_actor=PATIENT_ONLINE,
        at=now,
        series=series,
    )
    notifications.series_booked(series=series, appointments=booked, rules=ClinicRules.load(), now=now)
    WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=WaitlistEntry.Status.FULFILLED, updated_at=now)


def _claim_lost(offer_id: int, *, now: datetime) -> BookingError:
    offer = Offer.objects.get(pk=offer_id)
    return offer_refusal(offer, now=now) or BookingError(RELEASED, code=Code.NOT_CHANGEABLE)


def offer_release(*, offer: Offer, status: str = Offer.Status.EXPIRED, now: datetime | None = None) -> bool:
    """Close an open offer (expired, or released by the patient or staff): holds go, the time is
    offered to the next waiting session once this commits. False when it was not open any more."""
    now = now or timezone.now()
    with transaction.atomic():
        series_lock(offer.series_id)  # the order claims keep: then exactly one of us finds it open
        won = Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN).update(status=status, closed_at=now)
        if not won:
            return False
        holds = list(Appointment.objects.filter(offer_id=offer.pk, status=Appointment.Status.HELD))
        Appointment.objects.filter(pk__in=[hold.pk for hold in holds]).delete()
        entry = WaitlistEntry.objects.select_related("series").get(pk=offer.entry_id)
        if entry.status == WaitlistEntry.Status.OFFERED:
            entry.status = WaitlistEntry.Status.WAITING  # still waiting: a later freed time may suit
            entry.save(update_fields=["status", "updated_at"])
        if entry.is_new_patient:
            # A new patient's series made for the offer: nothing was booked in it.
            Series.objects.filter(pk=entry.series_id).update(status=Series.Status.CANCELLED)
        # The next waiting session gets the time, after this commits (never this entry again now).
        notifications.time_freed_on_commit(
            [(hold.practitioner_id, hold.room_id, hold.start, hold.end) for hold in holds],
            exclude_entries=[entry.pk],
        )
    return True


def offers_expire(*, now: datetime | None = None) -> int:
    """Release every open offer whose time is up (beat, every minute); how many."""
    now = now or timezone.now()
    due = list(Offer.objects.filter(status=Offer.Status.OPEN, expires_at__lte=now).order_by("expires_at"))
    released = 0
    for offer in due:
        try:
            released += offer_release(offer=offer, status=Offer.Status.EXPIRED, now=now)
        except BookingError as refusal:
            if refusal.code != Code.BUSY:
                raise
            # Someone is changing (or claiming) this series: next minute's run sees the outcome.
    return released


# --- Reads for the pages -------------------------------------------------------------------------------


def proposed_slots(offer: Offer) -> list[tuple[int, datetime, datetime, int]]:
    """(session number, local start, local end, practitioner id) of each offered time."""
    tz = selectors.clinic_zone()
    return [
        (
            item["number"],
            datetime.fromisoformat(item["start"]).astimezone(tz),
            datetime.fromisoformat(item["end"]).astimezone(tz),
            item["practitioner_id"],
        )
        for item in offer.proposed
    ]


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def preferences_sentence(entry: WaitlistEntry) -> str:
    """What suits the patient, in words: "Tuesday, Thursday; morning" or "any day; any time"."""
    days = ", ".join(WEEKDAY_NAMES[day] for day in entry.weekdays) if entry.weekdays else "any day"
    labels = {f"{lo:%H:%M}": label.split(" (")[0].lower() for label, lo, _ in DAY_PARTS.values()}
    times = ", ".join(labels.get(lo, f"{lo}–{hi}") for lo, hi in entry.times) if entry.times else "any time"
    return f"{days}; {times}"


def live_entries(series: Series) -> dict[int, WaitlistEntry]:
    """The series' sessions on the waitlist (waiting or offered), by session number."""
    entries = series.waitlist_entries.filter(status__in=(WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED))
    return {entry.session_number: entry for entry in entries}


def open_offers(series: Series, *, now: datetime) -> dict[int, Offer]:
    """The series' open, unexpired offers, by the session they bring forward."""
    offers = Offer.objects.filter(series=series, status=Offer.Status.OPEN, expires_at__gt=now).select_related("entry")
    return {offer.entry.session_number: offer for offer in offers}


__all__ = [
    "DAY_PARTS",
    "Freed",
    "entry_join",
    "entry_join_new",
    "entry_withdraw",
    "offer_claim",
    "offer_make",
    "offer_refusal",
    "offer_release",
    "offers_expire",
    "time_freed",
]
