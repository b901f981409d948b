"""
Reads shared by the booking pages, the API, staff screens and the services.

Each function loads ONE indexed range query per table (rules, working hours, rooms, time off,
appointments: at most 5 queries) into an `availability.Schedule` and lets the pure engine do the
interval arithmetic in memory, so the cost grows with the window asked for, not with how many
appointments the database holds. `for_staff=True` lifts minimum notice and the horizon, never
the double-booking rule nor the spacing between sessions.

Slot times come back as aware datetimes in the clinic's zone (settings.TIME_ZONE).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DateTimeField, F, IntegerField, Max, Q, TimeField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from bookings import availability
from bookings.availability import Course, Diary, Rules, SeriesPlan, Shift, Slot, Spacing
from bookings.errors import BookingError, Code, Problem
from bookings.models import (
    Appointment,
    AuditEvent,
    ClinicRules,
    Practitioner,
    Room,
    Series,
    TimeOff,
    WorkingHours,
)

# No appointment lasts longer than this (services refuse longer ones). It bounds the range query
# from below too (start > window start - MAX_APPOINTMENT), so the index scan reads only the window
# instead of every appointment that started before it.
MAX_APPOINTMENT = timedelta(hours=12)

NOT_CHANGEABLE = "This session can no longer be changed: it has been cancelled or has already taken place."
CLASHES_WITH_SERIES = "That time clashes with another session of this series."


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def engine_rules(rules: ClinicRules) -> Rules:
    return Rules(
        min_notice=timedelta(hours=rules.min_notice_hours),
        horizon_days=rules.horizon_days,
        buffer=timedelta(minutes=rules.buffer_minutes),
        granularity=timedelta(minutes=rules.slot_minutes),
    )


def spacing_of(treatment) -> Spacing:
    return Spacing(treatment.min_days_between, treatment.max_days_between)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


SHIFT, AWAY, BOOKED = "shift", "away", "booked"  # the kinds of row a diary is read from


def load_schedule(
    *,
    treatment,
    first_day: date,
    last_day: date,
    practitioner: Practitioner | None = None,
    exclude: Q | None = None,
    rules: ClinicRules | None = None,
) -> availability.Schedule:
    """Everything booked or blocked for `treatment` over local days [first_day, last_day].

    One query for the diaries: the performers' working hours, their time off and the
    appointments of the window (theirs, and the rooms'), each a range query on its own index,
    sent together (UNION ALL). Plus the rules unless given, and the rooms when the treatment
    needs one. `exclude` leaves some appointments out (those being moved), so they do not block
    themselves.
    """
    rules = engine_rules(rules or ClinicRules.load())
    performers = Practitioner.objects.performing(treatment)
    if practitioner is not None:
        performers = performers.filter(pk=practitioner.pk)
    rooms: list[int] | None = None
    if treatment.requires_room:
        rooms = list(Room.objects.filter(treatments=treatment, is_active=True).values_list("id", flat=True))
    schedule = availability.Schedule(
        tz=clinic_zone(),
        rules=rules,
        duration=timedelta(minutes=treatment.session_minutes),
        practitioners=[],
        rooms=[Diary(room_id) for room_id in rooms] if rooms is not None else None,
        first_day=first_day,
        last_day=last_day,
    )
    window_start, window_end = _window(schedule)
    # Typed NULLs: PostgreSQL types a UNION's columns pairwise, and a bare NULL would become text.
    kinds = (IntegerField(), TimeField(), DateTimeField())
    no_id, no_time, no_moment = (Cast(None, output_field) for output_field in kinds)
    columns = ("kind", "practitioner_id", "room_of", "day", "opens", "closes", "since", "until")
    shifts = WorkingHours.objects.filter(practitioner__in=performers).annotate(
        kind=Value(SHIFT), room_of=no_id, day=F("weekday"), opens=F("start"), closes=F("end"),
        since=no_moment, until=no_moment,
    )  # fmt: skip
    away = TimeOff.objects.filter(
        practitioner__in=performers, start__lt=window_end, end__gt=window_start
    ).annotate(
        kind=Value(AWAY), room_of=no_id, day=no_id, opens=no_time, closes=no_time,
        since=F("start"), until=F("end"),
    )  # fmt: skip
    booked = _booked(schedule, Q(practitioner__in=performers), exclude).annotate(
        kind=Value(BOOKED), room_of=F("room_id"), day=no_id, opens=no_time, closes=no_time,
        since=F("start"), until=F("end"),
    )  # fmt: skip
    rows = [query.order_by().values_list(*columns) for query in (shifts, away, booked)]
    return _filled(schedule, rows[0].union(rows[1], rows[2], all=True), diaries={})


def schedule_refreshed(
    schedule: availability.Schedule, *, first_day: date, last_day: date, exclude: Q | None = None
) -> availability.Schedule:
    """The schedule over [first_day, last_day] (inside its own days) with its appointments read
    again: one query, e.g. under a booking's locks.

    Hours, rooms and time off stay as the caller read them moments ago (the plan's): only a
    racing booking can have changed in between, and that is an appointment.
    """
    schedule = replace(schedule, first_day=first_day, last_day=last_day)
    diaries = {diary.id: Diary(diary.id, diary.shifts, diary.time_off) for diary in schedule.practitioners}
    booked = _booked(schedule, Q(practitioner_id__in=list(diaries)), exclude)
    rows = booked.order_by().values_list("practitioner_id", "room_id", "start", "end")
    return _filled(
        schedule, [(BOOKED, p, room, None, None, None, start, end) for p, room, start, end in rows], diaries
    )


def _window(schedule: availability.Schedule) -> tuple[datetime, datetime]:
    """The instants the schedule's days span, widened by the buffer on both sides."""
    buffer = schedule.rules.buffer
    return (
        local_midnight(schedule.first_day, schedule.tz) - buffer,
        local_midnight(schedule.last_day + timedelta(days=1), schedule.tz) + buffer,
    )


def _booked(schedule: availability.Schedule, practitioners: Q, exclude: Q | None):
    """The active appointments (and waitlist holds) of the schedule's window for these practitioners
    or its rooms: a held time is not free, for anyone."""
    window_start, window_end = _window(schedule)
    rooms = [diary.id for diary in schedule.rooms or ()]
    appointments = (
        Appointment.objects.blocking()
        .overlapping(window_start, window_end)
        .filter(start__gt=window_start - MAX_APPOINTMENT)
        .filter(practitioners | Q(room_id__in=rooms))
    )
    return appointments.exclude(exclude) if exclude is not None else appointments


def _filled(schedule: availability.Schedule, rows, diaries: dict[int, Diary]) -> availability.Schedule:
    """`schedule` with its diaries built from `rows` (kind, practitioner, room, day, opens, closes,
    since, until). Shifts come first: a performer without working hours has no diary."""
    rooms = {diary.id: Diary(diary.id) for diary in schedule.rooms} if schedule.rooms is not None else None
    shifts_first = sorted(rows, key=lambda row: row[0] != SHIFT)
    for kind, practitioner_id, room_id, day, opens, closes, since, until in shifts_first:
        if kind == SHIFT:
            diary = diaries.setdefault(practitioner_id, Diary(practitioner_id))
            diary.shifts.append(Shift(day, opens, closes))
        elif kind == AWAY and practitioner_id in diaries:
            diaries[practitioner_id].time_off.append((since, until))
        elif kind == BOOKED:
            if practitioner_id in diaries:
                diaries[practitioner_id].appointments.append((since, until))
            if rooms is not None and room_id in rooms:
                rooms[room_id].appointments.append((since, until))
    return replace(
        schedule,
        practitioners=list(diaries.values()),
        rooms=list(rooms.values()) if rooms is not None else None,
    )


def free_between(
    schedule: availability.Schedule,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    for_staff: bool,
    first_session: bool,
    practitioner_id: int | None = None,
) -> list[Slot]:
    """Free slots on local days [first_day, last_day] under the notice and horizon that apply."""
    not_before, horizon_day = availability.booking_bounds(
        schedule.rules, now=now, tz=schedule.tz, for_staff=for_staff, first_session=first_session
    )
    return availability.free_slots(
        schedule,
        first_day=first_day,
        days=(last_day - first_day).days + 1,
        not_before=not_before,
        last_day=horizon_day,
        practitioner_id=practitioner_id,
    )


def available_slots(
    *,
    treatment,
    start_date: date,
    days: int,
    practitioner: Practitioner | None = None,
    now: datetime | None = None,
    for_staff: bool = False,
) -> list[Slot]:
    """Free first-session slots for a treatment on `days` local days from `start_date`."""
    now = now or timezone.now()
    last_date = start_date + timedelta(days=max(days, 1) - 1)
    schedule = load_schedule(
        treatment=treatment, first_day=start_date, last_day=last_date, practitioner=practitioner
    )
    not_before, last_day = availability.booking_bounds(
        schedule.rules, now=now, tz=schedule.tz, for_staff=for_staff, first_session=True
    )
    return availability.free_slots(
        schedule, first_day=start_date, days=days, not_before=not_before, last_day=last_day
    )


def series_days(treatment, first_day: date) -> tuple[date, date]:
    """The local days a series planned from `first_day` may use: every later session's window, and
    a little beyond for alternatives."""
    span = (treatment.sessions_in_series - 1) * treatment.max_days_between + availability.OVERFLOW_DAYS
    return first_day, first_day + timedelta(days=span)


def series_schedule(*, treatment, first_day: date, rules: ClinicRules | None = None) -> availability.Schedule:
    """The diaries of series_days: read once per request, passed to the plan and the booking."""
    first_day, last_day = series_days(treatment, first_day)
    return load_schedule(treatment=treatment, first_day=first_day, last_day=last_day, rules=rules)


def series_plan(
    *,
    treatment,
    first: Slot,
    now: datetime | None = None,
    for_staff: bool = False,
    schedule: availability.Schedule | None = None,
) -> SeriesPlan:
    """Sessions 2..N placed after a chosen first slot; session 1 carries a problem if unusable.

    `schedule`: the series' diaries (series_schedule) when the caller has read them already.
    """
    return series_review(
        treatment=treatment, first=first, wanted={}, now=now, for_staff=for_staff, schedule=schedule
    ).plan


@dataclass
class PlanChange:
    """A session whose wanted time could not be kept: taken by someone, or out of its window."""

    number: int
    old: Slot
    new: Slot | None
    taken: bool  # True: no longer free; False: no longer inside the spacing after the session before


@dataclass
class ReviewedPlan:
    plan: SeriesPlan
    changes: list[PlanChange] = field(default_factory=list)
    unknown: set[int] = field(default_factory=set)  # wanted times that are no clinic time at all


def series_review(
    *,
    treatment,
    first: Slot,
    wanted: dict[int, tuple[datetime, int]],
    now: datetime | None = None,
    for_staff: bool = False,
    schedule: availability.Schedule | None = None,
) -> ReviewedPlan:
    """The series planned from `first`, keeping each wanted (start, practitioner id) that still fits.

    One schedule load for the whole span (or the caller's `schedule`); the pure engine re-places every
    later session that a wanted time pushes out of its window (availability.settle_series). `changes`
    names the wanted times not kept and why; `unknown` the ones that are not a time of this clinic's
    grid and hours.
    """
    now = now or timezone.now()
    spacing = spacing_of(treatment)
    first_day = first.start.astimezone(clinic_zone()).date()
    if schedule is None or not schedule.covers(*series_days(treatment, first_day)):
        schedule = series_schedule(treatment=treatment, first_day=first_day)
    not_before, last_day = availability.booking_bounds(
        schedule.rules, now=now, tz=schedule.tz, for_staff=for_staff, first_session=True
    )
    problem = first_slot_problem(schedule, first, not_before=not_before, last_day=last_day)
    if problem:
        nearby = availability.free_slots(
            schedule,
            first_day=first_day,
            days=availability.OVERFLOW_DAYS,
            not_before=not_before,
            last_day=last_day,
        )
        sessions = [availability.PlannedSession(1, None, nearby[: availability.ALTERNATIVES], problem)]
        sessions += [
            availability.PlannedSession(
                n,
                None,
                problem=Problem(Code.NO_FREE_TIME, f"Session {n} can be planned once session 1 has a time."),
            )
            for n in range(2, treatment.sessions_in_series + 1)
        ]
        return ReviewedPlan(SeriesPlan(sessions))
    slots = {number: availability.slot_at(schedule, start, practitioner_id) for number, (start, practitioner_id) in wanted.items()}
    unknown = {
        number
        for number, slot in slots.items()
        if not (2 <= number <= treatment.sessions_in_series)
        or not schedule.within_hours(slot)
        or not availability.on_grid(slot.start, schedule.rules.granularity, schedule.tz)
    }
    plan = availability.settle_series(
        schedule,
        first=first,
        wanted={number: slot for number, slot in slots.items() if number not in unknown},
        sessions=treatment.sessions_in_series,
        spacing=spacing,
        not_before=not_before,
    )
    changes = [
        PlanChange(number, slot, plan.sessions[number - 1].slot, taken=not schedule.is_free(slot))
        for number, slot in sorted(slots.items())
        if number not in unknown and plan.sessions[number - 1].slot != slot
    ]
    return ReviewedPlan(plan, changes, unknown)


def first_slot_problem(
    schedule: availability.Schedule, slot: Slot, *, not_before: datetime, last_day: date | None
) -> Problem | None:
    """Why a slot cannot be booked (rules or taken), or None."""
    return availability.slot_problem(schedule, slot, not_before=not_before, last_day=last_day) or (
        None if schedule.is_free(slot) else availability.TAKEN
    )


def live_sessions(series) -> dict[int, Appointment]:
    """The series' active appointments by session number."""
    return {appointment.session_number: appointment for appointment in series.appointments.active()}


def patient_courses(*, patient_id: int, treatment, exclude_series_id: int | None = None) -> list[Course]:
    """The patient's series of this treatment, as availability.running_course weighs them (one query)."""
    held, upcoming = Appointment.ACTIVE_STATUSES, (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)
    rows = (
        Series.objects.filter(patient_id=patient_id, treatment=treatment)
        .exclude(pk=exclude_series_id)
        .annotate(
            upcoming=Count("appointments", filter=Q(appointments__status__in=upcoming)),
            last_held=Max("appointments__start", filter=Q(appointments__status__in=held)),
        )
        .order_by("-upcoming", "-last_held")
        .values_list("pk", "upcoming", "last_held")
    )
    return [Course(pk, bool(open_), last_held) for pk, open_, last_held in rows]


def details_note(series) -> str:
    """What the patient is told when booking this series changed their details on record (else "").

    Read from the trail; a series just returned by services.series_book carries the change itself
    (`patient_change`), which saves the read.
    """
    before = getattr(series, "patient_change", None)
    if before is not None:
        after = {"phone": series.patient.phone}
    else:
        changes = AuditEvent.objects.filter(series=series, action=AuditEvent.Action.PATIENT_CHANGED)
        event = changes.order_by("pk").last()
        before, after = (event.before, event.after) if event is not None else ({}, {})
    if "phone" not in before:
        return ""
    old = "".join(character for character in before["phone"] if character.isdigit())
    return (
        f"We now have {after['phone']} as your phone number (it replaces the one ending {old[-3:]}). "
        f"If that is not right, call us on {settings.CLINIC_PHONE}."
    )


@dataclass(frozen=True)
class SeriesGap:
    """A live session too far from the one before it (one between was cancelled), in words."""

    previous_number: int
    number: int
    days: int
    window: tuple[date, date]
    appointment: Appointment  # the later session, the one to move
    sentence: str
    rebookable: bool  # the cancelled session between may be booked again online (rebook_refusal)

    @property
    def missing(self) -> int:
        """The first session between them (cancelled): booking it again closes the gap too."""
        return self.previous_number + 1


def series_gaps(series) -> list[SeriesGap]:
    """Each upcoming session that now follows the previous live one by more than the treatment allows."""
    tz = clinic_zone()
    sessions = live_sessions(series)
    treatment = series.treatment
    gaps = []
    for gap in availability.stretched_gaps(
        {number: appointment.start for number, appointment in sessions.items()}, spacing_of(treatment), tz
    ):
        later = sessions[gap.number]
        if later.status != Appointment.Status.BOOKED:
            continue
        first, last = gap.window
        missing = gap.previous_number + 1
        rebookable = rebook_refusal(series=series, number=missing, sessions=sessions) is None
        sentence = (
            f"Session {gap.number} ({later.start.astimezone(tz):%A %-d %B}) is now {gap.days} days after "
            f"session {gap.previous_number}: longer than the {treatment.max_days_between} days that keep a "
            f"series working. {f'Book session {missing} again between them, or move' if rebookable else 'Move'} "
            f"session {gap.number} to a day between {first:%A %-d %B} and {last:%A %-d %B %Y}."
        )
        gaps.append(
            SeriesGap(gap.previous_number, gap.number, gap.days, gap.window, later, sentence, rebookable)
        )
    return gaps


def as_slot(appointment: Appointment) -> Slot:
    tz = clinic_zone()
    return Slot(
        appointment.start.astimezone(tz),
        appointment.end.astimezone(tz),
        appointment.practitioner_id,
        appointment.room_id,
    )


def change_refusal(
    *, appointment: Appointment, now: datetime | None = None, for_staff: bool = False
) -> Problem | None:
    """Why this appointment cannot be moved or cancelled by this person now, or None."""
    now = now or timezone.now()
    if not appointment.is_active or appointment.status != Appointment.Status.BOOKED:
        return Problem(Code.NOT_CHANGEABLE, NOT_CHANGEABLE)
    if for_staff:
        return None
    cutoff = timedelta(hours=ClinicRules.load().cancellation_cutoff_hours)
    if appointment.start - now < cutoff:
        hours = int(cutoff.total_seconds() // 3600)
        return Problem(
            Code.TOO_LATE,
            f"This session is less than {hours} hours away, so it can no longer be changed online: "
            f"please call the clinic on {settings.CLINIC_PHONE}.",
        )
    return None


def session_options(
    *, appointment: Appointment, now: datetime | None = None, for_staff: bool = False
) -> list[Slot]:
    """Slots this session may move to while keeping the spacing with BOTH neighbouring sessions."""
    return window_slots(series=appointment.series, number=appointment.session_number, now=now, for_staff=for_staff)


def session_window(
    *, series, number: int, sessions: dict[int, Appointment], now: datetime, rules: ClinicRules
) -> tuple[date, date]:
    """Local days [first, last] session `number` may take beside its live neighbours (may be empty)."""
    tz = clinic_zone()
    # The live sessions either side: after a cancel, the next one follows the one before the gap.
    previous_number, following_number = availability.live_neighbours(sessions, number)
    previous, following = sessions.get(previous_number), sessions.get(following_number)
    window = availability.spacing_window(
        previous.start if previous else None,
        following.start if following else None,
        spacing_of(series.treatment),
        tz,
    )
    if window is None:  # a one-session series: any day up to the horizon
        today = now.astimezone(tz).date()
        window = (today, today + timedelta(days=rules.horizon_days))
    return window


def window_slots(*, series, number: int, now: datetime | None = None, for_staff: bool = False) -> list[Slot]:
    """Free slots for session `number` (booked or not) that keep the spacing with BOTH neighbours."""
    now = now or timezone.now()
    sessions = live_sessions(series)
    rules = ClinicRules.load()
    first_day, last_day = session_window(series=series, number=number, sessions=sessions, now=now, rules=rules)
    if first_day > last_day:
        return []
    schedule = load_schedule(
        treatment=series.treatment, first_day=first_day, last_day=last_day, exclude=Q(series=series), rules=rules
    )
    others = [as_slot(other) for other_number, other in sessions.items() if other_number != number]
    slots = free_between(
        schedule,
        first_day=first_day,
        last_day=last_day,
        now=now,
        for_staff=for_staff,
        first_session=number - 1 not in sessions,
    )
    return [
        slot for slot in slots if not any(slot.overlaps(other, schedule.rules.buffer) for other in others)
    ]


def rebook_refusal(*, series, number: int, sessions: dict[int, Appointment] | None = None) -> Problem | None:
    """Why session `number` of the series cannot be booked (again) online, or None."""
    if series.status != Series.Status.ACTIVE:
        return Problem(
            Code.NOT_CHANGEABLE,
            "This series is closed, so its sessions cannot be booked online: "
            f"please call the clinic on {settings.CLINIC_PHONE}.",
        )
    if not 1 <= number <= series.treatment.sessions_in_series:
        return Problem(Code.INVALID, f"This series has no session {number}.")
    sessions = live_sessions(series) if sessions is None else sessions
    if number in sessions:
        return Problem(Code.NOT_CHANGEABLE, f"Session {number} is already booked: you can move it instead.")
    if number > 1 and number - 1 not in sessions:
        return Problem(
            Code.OUTSIDE_RULES,
            f"Please book session {number - 1} first: the time of session {number} depends on it.",
        )
    return None


def reschedule_plan(
    *, appointment: Appointment, new: Slot, now: datetime | None = None, for_staff: bool = False
) -> list[tuple[Appointment, Slot]]:
    """[(appointment, new)] plus later sessions re-placed when the move pushes them out of window.

    Raises BookingError with a sentence when the move breaks the rules or no valid plan exists.
    """
    now = now or timezone.now()
    refusal = change_refusal(appointment=appointment, now=now, for_staff=for_staff)
    if refusal:
        raise BookingError(refusal)
    series = appointment.series
    treatment = series.treatment
    spacing = spacing_of(treatment)
    tz = clinic_zone()
    sessions = live_sessions(series)
    live = sessions.get(appointment.session_number)
    if live is None or live.pk != appointment.pk:  # cancelled meanwhile (this object is older)
        raise BookingError(NOT_CHANGEABLE, code=Code.NOT_CHANGEABLE)
    first_day = min(new.start, appointment.start).astimezone(tz).date()
    later_sessions = max(sessions) - appointment.session_number + 1
    last_day = new.start.astimezone(tz).date() + timedelta(
        days=later_sessions * spacing.max_days + availability.OVERFLOW_DAYS
    )
    schedule = load_schedule(
        treatment=treatment, first_day=first_day, last_day=last_day, exclude=Q(series=series)
    )
    not_before, horizon_day = availability.booking_bounds(
        schedule.rules, now=now, tz=tz, for_staff=for_staff, first_session=appointment.session_number == 1
    )
    current = {number: as_slot(session) for number, session in sessions.items()}
    others = [slot for number, slot in current.items() if number != appointment.session_number]
    problem = first_slot_problem(schedule, new, not_before=not_before, last_day=horizon_day)
    if problem is None and any(new.overlaps(other, schedule.rules.buffer) for other in others):
        problem = Problem(Code.OUTSIDE_RULES, CLASHES_WITH_SERIES)
    previous_number, _ = availability.live_neighbours(current, appointment.session_number)
    if problem is None and previous_number is not None:
        problem = availability.spacing_problem(
            current[previous_number], new, appointment.session_number, spacing, tz,
            allow_longer=for_staff, previous_number=previous_number,
        )  # fmt: skip
    if problem:
        raise BookingError(problem)
    changed = availability.replan_after_move(
        schedule,
        current=current,
        number=appointment.session_number,
        new=new,
        spacing=spacing,
        not_before=not_before,
    )
    unplaced = next((session for session in changed if session.slot is None), None)
    if unplaced is not None:
        raise BookingError(
            f"Moving this session would leave session {unplaced.number} without a suitable time. "
            f"{unplaced.problem}",
            code=Code.NO_FREE_TIME,
        )
    return [(sessions[session.number], session.slot) for session in changed]


@dataclass(frozen=True)
class LaterSession:
    """A later session of the series as a planned move leaves it (for the confirmation page)."""

    number: int
    now: Slot  # where it is booked today
    new: Slot | None  # the engine's proposal when it has to move too; None: it stays
    fits: bool  # its current time still keeps the spacing after the session before it (as planned)
    previous_number: int
    window: tuple[date, date]  # local days [first, last] the spacing allows after that session


def later_sessions(*, appointment: Appointment, moves: list[tuple[Appointment, Slot]]) -> list[LaterSession]:
    """Every live session after `appointment` under the plan `moves` (selectors.reschedule_plan's):
    whether its current time still fits its spacing window, and what the engine proposes if not."""
    tz = clinic_zone()
    spacing = spacing_of(appointment.series.treatment)
    sessions = live_sessions(appointment.series)
    planned = {moving.session_number: slot for moving, slot in moves}
    final = {number: planned.get(number) or as_slot(session) for number, session in sessions.items()}
    rows = []
    for number in sorted(n for n in sessions if n > appointment.session_number):
        previous_number, _ = availability.live_neighbours(final, number)
        previous_day = final[previous_number].start.astimezone(tz).date()
        now = as_slot(sessions[number])
        rows.append(
            LaterSession(
                number=number,
                now=now,
                new=planned.get(number),
                fits=spacing.allows(final[previous_number].start, now.start, tz),
                previous_number=previous_number,
                window=(
                    previous_day + timedelta(days=spacing.min_days),
                    previous_day + timedelta(days=spacing.max_days),
                ),
            )
        )
    return rows


def answers_open_from(appointment: Appointment, rules: ClinicRules | None = None) -> datetime:
    """When the patient may re-confirm their safety answers for this session: local midnight,
    ClinicRules.answers_open_days before the session's day (answers given months ahead say little)."""
    rules = rules or ClinicRules.load()
    tz = clinic_zone()
    day = appointment.start.astimezone(tz).date() - timedelta(days=rules.answers_open_days)
    return local_midnight(day, tz)


def answers_not_open_yet(appointment: Appointment, *, now: datetime, rules: ClinicRules | None = None) -> str | None:
    """The sentence saying when re-confirming opens, while it has not; else None."""
    opens = answers_open_from(appointment, rules).astimezone(clinic_zone())
    if now >= opens:
        return None
    return (
        f"You can confirm your answers for session {appointment.session_number} from "
        f"{opens:%A} {opens.day} {opens:%B}: answers given closer to the session tell the practitioner more."
    )


# --- Hours that no longer cover bookings -----------------------------------------------------------------

STRANDED_LOOK_AHEAD = timedelta(days=365)


def stranded_appointments(*, practitioner: Practitioner, now: datetime) -> list[Appointment]:
    """Booked sessions ahead that the practitioner's hours no longer cover, or that fall in time off.

    Changing hours never moves a booking: these are for the front desk to move or confirm.
    """
    tz = clinic_zone()
    shifts: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in practitioner.working_hours.values_list("weekday", "start", "end"):
        shifts.setdefault(weekday, []).append((start, end))
    off = list(
        practitioner.time_off.filter(end__gt=now, start__lt=now + STRANDED_LOOK_AHEAD).values_list("start", "end")
    )
    ahead = (
        practitioner.appointments.filter(
            status=Appointment.Status.BOOKED, start__gte=now, start__lt=now + STRANDED_LOOK_AHEAD
        )
        .select_related("series__patient")
        .order_by("start")
    )
    stranded = []
    for appointment in ahead:
        start, end = appointment.start.astimezone(tz), appointment.end.astimezone(tz)
        covered = start.date() == end.date() and any(
            begin <= start.time() and end.time() <= finish
            for begin, finish in shifts.get(start.weekday(), [])
        )
        if not covered or any(
            appointment.start < off_end and off_start < appointment.end for off_start, off_end in off
        ):
            stranded.append(appointment)
    return stranded
