"""
The month calendar shared by booking step 1, the manage link's move page and the staff move page.

One month of days with free times, and the chosen day's times merged across practitioners (one
time, one choice). Every time offered has been checked with the pure engine: for a first session,
that the whole series can be planned behind it (availability.plan_series); for a move, that the
later sessions it pushes out of their window can be re-placed (availability.replan_after_move).
Times that fail are returned apart, so the page can say why they are not offered.

Cost: ONE `selectors.load_schedule` (one range query per table) covers the month and every
later session the checks may place, then everything runs in memory. No cache.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from bookings import availability, selectors
from bookings.availability import PlannedSession, Slot
from bookings.models import Appointment, ClinicRules


@dataclass
class TimeChoice:
    """One start time of the chosen day, with the slot (practitioner, room) that books it."""

    slot: Slot
    fits: bool
    problem: str = ""  # why the series (or the later sessions) cannot be placed behind it
    pushes: list[PlannedSession] = field(default_factory=list)  # moves: later sessions moved too


@dataclass
class MonthCalendar:
    month: date  # the first of the month shown
    first_day: date  # the first and last days times may be offered on
    last_day: date
    free_days: set[date]
    day: date | None  # the day whose times are shown
    times: list[TimeChoice]  # offered: each one checked
    left_out: list[TimeChoice]  # free, but the series (or its later sessions) cannot follow
    day_slots: list[Slot]  # every free slot of that day (for matching a posted choice)
    # A treatment that starts with a consultation: the first day a new patient's first session can be.
    consultation_from: date | None = None

    @property
    def previous_month(self) -> date | None:
        previous = (self.month - timedelta(days=1)).replace(day=1)
        return previous if previous >= self.first_day.replace(day=1) else None

    @property
    def next_month(self) -> date | None:
        following = month_end(self.month) + timedelta(days=1)
        return following if following <= self.last_day else None

    @property
    def weeks(self) -> list[list[date]]:
        """The month's Monday-first weeks, padded with the neighbouring months' days."""
        return stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(self.month.year, self.month.month)


def month_end(month: date) -> date:
    return month.replace(day=stdlib_calendar.monthrange(month.year, month.month)[1])


def _month_and_day(
    first_day: date, last_day: date, month: date | None, day: date | None
) -> tuple[date, date | None]:
    """The month to show (kept between the first and last bookable months) and a wanted day in it."""
    if day is not None and first_day <= day <= last_day and (month is None or month == day.replace(day=1)):
        return day.replace(day=1), day
    wanted = month or first_day.replace(day=1)
    return min(max(wanted, first_day.replace(day=1)), last_day.replace(day=1)), None


def _by_day(slots: list[Slot], tz) -> dict[date, list[Slot]]:
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return days


def _by_time(slots: list[Slot], preferred: int | None) -> list[list[Slot]]:
    """The day's slots grouped by start time, the preferred practitioner first within each."""
    times: dict[datetime, list[Slot]] = {}
    for slot in slots:
        times.setdefault(slot.start, []).append(slot)
    return [
        sorted(candidates, key=lambda slot: (slot.practitioner_id != preferred, slot.practitioner_id))
        for _, candidates in sorted(times.items())
    ]


def _choose(candidates: list[Slot], check) -> TimeChoice:
    """The first candidate whose check passes, else the first one with the reason it fails."""
    failed = None
    for slot in candidates:
        choice = check(slot)
        if choice.fits:
            return choice
        failed = failed or choice
    return failed


def _assemble(
    *, month: date, first_day: date, last_day: date, day: date | None, free: list[Slot], tz,
    practitioner_id: int | None, preferred: int | None, check,
) -> MonthCalendar:
    if practitioner_id is not None:
        free = [slot for slot in free if slot.practitioner_id == practitioner_id]
    days = _by_day(free, tz)
    if day is None:
        day = min(days, default=None)
    day_slots = days.get(day, [])
    choices = [_choose(candidates, check) for candidates in _by_time(day_slots, preferred)]
    return MonthCalendar(
        month=month,
        first_day=first_day,
        last_day=last_day,
        free_days=set(days),
        day=day,
        times=[choice for choice in choices if choice.fits],
        left_out=[choice for choice in choices if not choice.fits],
        day_slots=day_slots,
    )


def first_session_calendar(
    *,
    treatment,
    month: date | None = None,
    day: date | None = None,
    practitioner_id: int | None = None,
    now: datetime | None = None,
    earliest: date | None = None,
) -> MonthCalendar:
    """Step 1: a month of free first sessions; the day's times each checked for the whole series.

    `earliest`: the first local day the patient's safety answers allow (eligibility): nothing before it.
    """
    now = now or timezone.now()
    tz = selectors.clinic_zone()
    rules = ClinicRules.load()
    today = now.astimezone(tz).date()
    first_day, last_day = today, today + timedelta(days=rules.horizon_days)
    consultation_from = None
    if treatment.prerequisite_id is not None:
        # A new patient's consultation comes first (the earliest it can be: the notice from now), then
        # the days the treatment asks between them. A returning patient with a valid consultation
        # loses those first days online (the front desk can book them): better than every new
        # patient's earliest choice failing at the last step.
        soonest = (now + timedelta(hours=rules.min_notice_hours)).astimezone(tz).date()
        consultation_from = soonest + timedelta(days=treatment.prerequisite_days_before)
        earliest = max(earliest, consultation_from) if earliest is not None else consultation_from
    if earliest is not None:
        first_day = min(max(first_day, earliest), last_day)
    month, day = _month_and_day(first_day, last_day, month, day)
    shown_first, shown_last = max(month, first_day), min(month_end(month), last_day)
    spacing = selectors.spacing_of(treatment)
    span = (treatment.sessions_in_series - 1) * spacing.max_days + availability.OVERFLOW_DAYS
    schedule = selectors.load_schedule(
        treatment=treatment, first_day=shown_first, last_day=shown_last + timedelta(days=span), rules=rules
    )
    not_before, _ = availability.booking_bounds(schedule.rules, now=now, tz=tz, first_session=True)
    free = selectors.free_between(
        schedule, first_day=shown_first, last_day=shown_last, now=now, for_staff=False, first_session=True
    )
    if earliest is not None:  # beyond the horizon too: then nothing at all
        free = [slot for slot in free if slot.start.astimezone(tz).date() >= earliest]

    def check(slot: Slot) -> TimeChoice:
        plan = availability.plan_series(
            schedule, first=slot, sessions=treatment.sessions_in_series, spacing=spacing, not_before=not_before
        )
        problem = next((session.problem for session in plan.sessions if session.problem), "")
        return TimeChoice(slot, plan.is_complete, problem)

    calendar = _assemble(
        month=month, first_day=first_day, last_day=last_day, day=day, free=free, tz=tz,
        practitioner_id=practitioner_id, preferred=None, check=check,
    )
    calendar.consultation_from = consultation_from
    return calendar


def move_window(appointment: Appointment, sessions: dict[int, Appointment], *, today: date, horizon_days: int):
    """Local days [first, last] a session may move to: inside its spacing after the session before
    (the later sessions follow it when it leaves their window), or before the one after it."""
    treatment = appointment.series.treatment
    tz = selectors.clinic_zone()
    # The live neighbours: a cancelled session between is skipped, as the services do.
    previous_number, following_number = availability.live_neighbours(sessions, appointment.session_number)
    previous, following = sessions.get(previous_number), sessions.get(following_number)
    low, high = treatment.min_days_between, treatment.max_days_between
    if previous is not None:
        day = previous.start.astimezone(tz).date()
        first_day, last_day = day + timedelta(days=low), day + timedelta(days=high)
    elif following is not None:
        # Before the next session's window, or up to a window's width past it (pushing it on).
        day = following.start.astimezone(tz).date()
        first_day, last_day = day - timedelta(days=high), day + timedelta(days=high - 2 * low + 1)
    else:
        first_day, last_day = today, today + timedelta(days=horizon_days)
    return max(first_day, today), last_day


def move_calendar(
    *,
    appointment: Appointment,
    month: date | None = None,
    day: date | None = None,
    practitioner_id: int | None = None,
    now: datetime | None = None,
    for_staff: bool = False,
    earliest: date | None = None,
) -> MonthCalendar:
    """Moving one session: its window's free times, each checked for the later sessions it moves.

    `earliest`: the first local day the patient's new safety answers allow (an eligibility flag).
    """
    now = now or timezone.now()
    tz = selectors.clinic_zone()
    rules = ClinicRules.load()
    series = appointment.series
    treatment = series.treatment
    spacing = selectors.spacing_of(treatment)
    sessions = selectors.live_sessions(series)
    number = appointment.session_number
    first_day, last_day = move_window(
        appointment, sessions, today=now.astimezone(tz).date(), horizon_days=rules.horizon_days
    )
    if last_day < first_day:
        first_day = last_day = now.astimezone(tz).date()
    if earliest is not None:
        first_day = min(max(first_day, earliest), last_day)
    month, day = _month_and_day(first_day, last_day, month, day)
    shown_first, shown_last = max(month, first_day), min(month_end(month), last_day)
    later_sessions = max(sessions) - number
    schedule = selectors.load_schedule(
        treatment=treatment,
        first_day=shown_first,
        last_day=shown_last + timedelta(days=later_sessions * spacing.max_days + availability.OVERFLOW_DAYS),
        exclude=Q(series=series),  # the series' own sessions do not block their own moves
        rules=rules,
    )
    first_session = availability.live_neighbours(sessions, number)[0] is None
    not_before, _ = availability.booking_bounds(
        schedule.rules, now=now, tz=tz, for_staff=for_staff, first_session=first_session
    )
    current = {n: selectors.as_slot(session) for n, session in sessions.items()}
    others = [slot for n, slot in current.items() if n != number]
    free = [
        slot
        for slot in selectors.free_between(
            schedule, first_day=shown_first, last_day=shown_last, now=now, for_staff=for_staff,
            first_session=first_session,
        )
        if slot != current[number] and not any(slot.overlaps(other, schedule.rules.buffer) for other in others)
        and (earliest is None or slot.start.astimezone(tz).date() >= earliest)
    ]

    def check(slot: Slot) -> TimeChoice:
        changed = availability.replan_after_move(
            schedule, current=current, number=number, new=slot, spacing=spacing, not_before=not_before
        )
        unplaced = next((session for session in changed if session.slot is None), None)
        if unplaced is not None:
            return TimeChoice(slot, False, unplaced.problem or "")
        return TimeChoice(slot, True, pushes=changed[1:])

    return _assemble(
        month=month, first_day=first_day, last_day=last_day, day=day, free=free, tz=tz,
        practitioner_id=practitioner_id, preferred=appointment.practitioner_id, check=check,
    )


def month_with_free_times(build, *, month: date | None, day: date | None) -> MonthCalendar:
    """`build(month=, day=)`; when nothing was asked for and that month has no free day left (late in
    the month), the following month instead."""
    shown = build(month=month, day=day)
    if month is None and day is None and not shown.free_days and shown.next_month:
        shown = build(month=shown.next_month, day=None)
    return shown


def rebook_calendar(
    *,
    series,
    number: int,
    month: date | None = None,
    day: date | None = None,
    practitioner_id: int | None = None,
    now: datetime | None = None,
) -> MonthCalendar:
    """Booking a cancelled session again: the free times keeping the spacing with both neighbours
    (selectors.window_slots), so every time offered fits without moving another session."""
    now = now or timezone.now()
    tz = selectors.clinic_zone()
    today = now.astimezone(tz).date()
    first_day, last_day = selectors.session_window(
        series=series, number=number, sessions=selectors.live_sessions(series), now=now, rules=ClinicRules.load()
    )
    first_day = max(first_day, today)
    if last_day < first_day:
        first_day = last_day = today
    month, day = _month_and_day(first_day, last_day, month, day)
    free = [
        slot
        for slot in selectors.window_slots(series=series, number=number, now=now)
        if slot.start.astimezone(tz).date().replace(day=1) == month
    ]
    return _assemble(
        month=month, first_day=first_day, last_day=last_day, day=day, free=free, tz=tz,
        practitioner_id=practitioner_id, preferred=None, check=lambda slot: TimeChoice(slot, True),
    )
