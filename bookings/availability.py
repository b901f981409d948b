"""
The booking engine: free slots and series plans as pure interval arithmetic.

Nothing here touches the ORM, settings or the clock. `selectors.py` loads ONE indexed range query
per table into a `Schedule` and calls these functions; `services.py` re-checks a chosen slot with
the same functions before writing. Times:

- Arithmetic is done on absolute instants (UTC), so a 60-minute session lasts 60 real minutes even
  across a daylight-saving change.
- Working hours, the slot grid and "days between sessions" are wall-clock notions in the clinic's
  zone: 10:00 stays 10:00 local on both sides of a change. A wall time that does not exist (the
  skipped hour in spring) is never offered; in the repeated autumn hour only the first is offered.
- Slots come back as aware datetimes in the clinic's zone (`Slot.start.tzinfo is schedule.tz`).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]  # [start, end), aware


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    practitioner_id: int
    room_id: int | None = None

    @property
    def duration(self) -> timedelta:
        # In UTC: subtracting two datetimes of one zone gives wall-clock time, wrong across DST.
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    def overlaps(self, other: Slot, margin: timedelta = timedelta(0)) -> bool:
        """Shares the practitioner or the room with `other` and the times (plus margin) meet."""
        shares = self.practitioner_id == other.practitioner_id or (
            self.room_id is not None and self.room_id == other.room_id
        )
        start, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        return (
            shares
            and start < other.end.astimezone(UTC) + margin
            and other.start.astimezone(UTC) < end + margin
        )


@dataclass
class PlannedSession:
    number: int
    slot: Slot | None
    alternatives: list[Slot] = field(default_factory=list)
    problem: str | None = None  # a sentence for people, set when no slot could be placed


@dataclass
class SeriesPlan:
    sessions: list[PlannedSession]

    @property
    def is_complete(self) -> bool:
        return all(session.slot is not None for session in self.sessions)

    @property
    def slots(self) -> list[Slot]:
        return [session.slot for session in self.sessions if session.slot is not None]


@dataclass(frozen=True)
class Rules:
    """The clinic's booking rules (models.ClinicRules) as plain values."""

    min_notice: timedelta = timedelta(hours=24)
    horizon_days: int = 90
    buffer: timedelta = timedelta(minutes=15)
    granularity: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Shift:
    """One block of a practitioner's regular week, in local wall-clock time (models.WorkingHours)."""

    weekday: int  # Monday = 0
    start: time
    end: time


@dataclass
class Diary:
    """What is known about one practitioner (shifts, time off, appointments) or one room."""

    id: int
    shifts: list[Shift] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)
    appointments: list[Interval] = field(default_factory=list)


class Timeline:
    """Sorted, merged busy intervals with an O(log n) "is this interval free?" question."""

    def __init__(self, intervals: Iterable[Interval]):
        merged: list[list[datetime]] = []
        # In UTC, so comparisons are absolute whatever zone the intervals came in.
        for start, end in sorted((start.astimezone(UTC), end.astimezone(UTC)) for start, end in intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def is_free(self, start: datetime, end: datetime) -> bool:
        # The first busy interval that ends after `start` is the only one that can overlap.
        index = bisect.bisect_right(self._ends, start)
        return index == len(self._starts) or self._starts[index] >= end


@dataclass
class Schedule:
    """Everything the engine needs to answer for one treatment over one stretch of time."""

    tz: ZoneInfo
    rules: Rules
    duration: timedelta
    practitioners: list[Diary]
    rooms: list[Diary] | None = None  # None: the treatment needs no room

    def __post_init__(self):
        buffer = self.rules.buffer
        # The buffer is kept free after every appointment, and a new appointment needs its own
        # buffer before the next one: widening existing appointments on both sides covers both.
        self._practitioner_busy = {
            diary.id: Timeline(_widen(diary.appointments, buffer)) for diary in self.practitioners
        }
        self._time_off = {diary.id: Timeline(diary.time_off) for diary in self.practitioners}
        self._room_busy = {
            diary.id: Timeline(_widen(diary.appointments, buffer)) for diary in self.rooms or ()
        }
        self._shifts = {diary.id: diary.shifts for diary in self.practitioners}

    @property
    def needs_room(self) -> bool:
        return self.rooms is not None

    def within_hours(self, slot: Slot) -> bool:
        """The slot lies inside one of its practitioner's shifts on that day (time off aside)."""
        start_local = slot.start.astimezone(self.tz)
        for shift in self._shifts.get(slot.practitioner_id, ()):
            if shift.weekday == start_local.weekday():
                opens, closes = shift_bounds(start_local.date(), shift, self.tz)
                if opens <= slot.start and slot.end <= closes:
                    return True
        return False

    def on_time_off(self, slot: Slot) -> bool:
        off = self._time_off.get(slot.practitioner_id)
        return off is not None and not off.is_free(slot.start, slot.end)

    def practitioner_free(self, practitioner_id: int, start: datetime, end: datetime) -> bool:
        """No appointment (buffers included) and no time off meets [start, end)."""
        busy = self._practitioner_busy.get(practitioner_id)
        off = self._time_off.get(practitioner_id)
        return busy is not None and busy.is_free(start, end) and off.is_free(start, end)

    def room_suitable(self, room_id: int | None) -> bool:
        return room_id in self._room_busy if self.needs_room else room_id is None

    def is_free(self, slot: Slot) -> bool:
        """Neither the practitioner (appointments, time off) nor the room is busy, buffers kept."""
        if not self.practitioner_free(slot.practitioner_id, slot.start, slot.end):
            return False
        if not self.needs_room:
            return slot.room_id is None
        room = self._room_busy.get(slot.room_id)
        return room is not None and room.is_free(slot.start, slot.end)

    def free_room(self, start: datetime, end: datetime) -> int | None:
        """The first suitable room free for [start, end), or None."""
        return next((room_id for room_id, busy in self._room_busy.items() if busy.is_free(start, end)), None)


def _widen(intervals: Iterable[Interval], margin: timedelta) -> Iterator[Interval]:
    """Intervals grown by `margin` on both sides, in UTC (absolute minutes)."""
    for start, end in intervals:
        yield start.astimezone(UTC) - margin, end.astimezone(UTC) + margin


# --- Wall-clock helpers ------------------------------------------------------------------------


def local_datetime(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """`day` at `wall` in `tz`, or None when that wall time is skipped by a daylight-saving change."""
    candidate = datetime.combine(day, wall, tzinfo=tz)
    round_trip = candidate.astimezone(UTC).astimezone(tz)
    return candidate if round_trip.replace(tzinfo=None) == candidate.replace(tzinfo=None) else None


def shift_bounds(day: date, shift: Shift, tz: ZoneInfo) -> Interval:
    """The absolute [opens, closes) of a shift on `day` (a skipped edge moves to the next hour)."""
    opens = datetime.combine(day, shift.start, tzinfo=tz).astimezone(UTC)
    closes = datetime.combine(day, shift.end, tzinfo=tz).astimezone(UTC)
    return opens, closes


def later(moment: datetime, duration: timedelta, tz: ZoneInfo) -> datetime:
    """`moment` + `duration` in absolute time (aware arithmetic in one zone is wall-clock)."""
    return (moment.astimezone(UTC) + duration).astimezone(tz)


def days_between(earlier: datetime, later_: datetime, tz: ZoneInfo) -> int:
    """Calendar days between two moments, counted on the clinic's wall clock."""
    return (later_.astimezone(tz).date() - earlier.astimezone(tz).date()).days


def on_grid(moment: datetime, granularity: timedelta, tz: ZoneInfo) -> bool:
    """True when `moment` is a grid start time: whole minutes from local midnight, in steps."""
    wall = moment.astimezone(tz)
    step = max(1, int(granularity.total_seconds() // 60))
    return wall.second == 0 and wall.microsecond == 0 and (wall.hour * 60 + wall.minute) % step == 0


def _grid_times(shift: Shift, granularity: timedelta) -> Iterator[time]:
    """Wall-clock start times on the grid (counted from local midnight) inside a shift."""
    step = max(1, int(granularity.total_seconds() // 60))
    first = (
        shift.start.hour * 60
        + shift.start.minute
        + (1 if shift.start.second or shift.start.microsecond else 0)
    )
    minute = math.ceil(first / step) * step
    last = shift.end.hour * 60 + shift.end.minute
    while minute < last:
        yield time(minute // 60, minute % 60)
        minute += step


# --- Free slots ----------------------------------------------------------------------------------


def booking_bounds(
    rules: Rules, *, now: datetime, tz: ZoneInfo, for_staff: bool = False, first_session: bool = True
) -> tuple[datetime, date | None]:
    """(earliest start, last bookable local day or None) for patients or staff.

    Patients need the minimum notice for every session and the horizon for the first one only;
    staff may book anything from now on. Nobody books in the past.
    """
    if for_staff:
        return now, None
    last_day = (now.astimezone(tz).date() + timedelta(days=rules.horizon_days)) if first_session else None
    return now + rules.min_notice, last_day


def free_slots(
    schedule: Schedule,
    *,
    first_day: date,
    days: int,
    not_before: datetime,
    last_day: date | None = None,
    practitioner_id: int | None = None,
) -> list[Slot]:
    """Bookable slots starting on local days [first_day, first_day + days), sorted by time.

    Working hours minus time off minus appointments (widened by the buffer), on the clinic's
    slot grid, starting no earlier than `not_before` and on or before `last_day` (the horizon).
    A room-needing treatment gets the first free suitable room in `Slot.room_id`.
    """
    tz = schedule.tz
    end_day = first_day + timedelta(days=days)
    if last_day is not None:
        end_day = min(end_day, last_day + timedelta(days=1))
    slots = []
    for diary in schedule.practitioners:
        if practitioner_id is not None and diary.id != practitioner_id:
            continue
        day = max(first_day, not_before.astimezone(tz).date())
        while day < end_day:
            slots.extend(_day_slots(schedule, diary, day, not_before))
            day += timedelta(days=1)
    return sorted(slots)


def _day_slots(schedule: Schedule, diary: Diary, day: date, not_before: datetime) -> Iterator[Slot]:
    tz, duration = schedule.tz, schedule.duration
    for shift in diary.shifts:
        if shift.weekday != day.weekday():
            continue
        opens, closes = shift_bounds(day, shift, tz)
        for start in _shift_starts(day, shift, schedule.rules.granularity, tz, opens, closes):
            if start < not_before or start < opens:  # opens: moved by a skipped wall time
                continue
            end = start + duration  # UTC: absolute minutes
            if end > closes:
                break
            if not schedule.practitioner_free(diary.id, start, end):
                continue
            room_id = schedule.free_room(start, end) if schedule.needs_room else None
            if schedule.needs_room and room_id is None:
                continue
            yield Slot(start.astimezone(tz), end.astimezone(tz), diary.id, room_id)


def _shift_starts(
    day: date, shift: Shift, granularity: timedelta, tz: ZoneInfo, opens: datetime, closes: datetime
) -> Iterator[datetime]:
    """The shift's grid start times as UTC instants, leaving out wall times a DST change skips."""
    opens_local, closes_local = opens.astimezone(tz), closes.astimezone(tz)
    offset = opens_local.utcoffset()
    same_walls = opens_local.time() == shift.start and closes_local.time() == shift.end
    if same_walls and offset == closes_local.utcoffset():
        # No change inside the shift (the usual case): wall time minus one offset, no zone lookups.
        midnight = datetime.combine(day, time(0), tzinfo=UTC) - offset
        for wall in _grid_times(shift, granularity):
            yield midnight + timedelta(hours=wall.hour, minutes=wall.minute)
        return
    for wall in _grid_times(shift, granularity):
        start = local_datetime(day, wall, tz)
        if start is not None:
            yield start.astimezone(UTC)


TAKEN = "That time was just taken. Please choose another time."


def slot_problem(
    schedule: Schedule, slot: Slot, *, not_before: datetime, last_day: date | None
) -> str | None:
    """Why `slot` breaks the clinic's rules (length, notice, horizon, hours, room), or None.

    Whether someone else holds the time is a separate question (`Schedule.is_free`), so services
    can tell "not allowed" from "just taken" and the database constraint can be tested alone.
    """
    tz = schedule.tz
    if slot.duration != schedule.duration:
        return f"A session lasts {int(schedule.duration.total_seconds() // 60)} minutes; please choose a listed time."
    if not on_grid(slot.start, schedule.rules.granularity, tz):
        return "Sessions start at the times the clinic lists; please choose one of them."
    if slot.start < not_before:
        return "That time is too soon to book. Please choose a later time or call the clinic."
    if last_day is not None and slot.start.astimezone(tz).date() > last_day:
        return (
            f"The first session can be booked up to {schedule.rules.horizon_days} days ahead. "
            "Please choose an earlier time or call the clinic."
        )
    if not schedule.within_hours(slot):
        return "That time is outside the practitioner's working hours for this treatment."
    if schedule.on_time_off(slot):
        return "The practitioner is away at that time. Please choose another time."
    if not schedule.room_suitable(slot.room_id):
        return "That room cannot be used for this treatment. Please choose a listed time."
    return None


# --- Series planning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spacing:
    """The treatment's window between consecutive sessions, in local calendar days."""

    min_days: int
    max_days: int

    def allows(self, previous: datetime, following: datetime, tz: ZoneInfo) -> bool:
        return self.min_days <= days_between(previous, following, tz) <= self.max_days


def spacing_problem(
    previous: Slot,
    following: Slot,
    number: int,
    spacing: Spacing,
    tz: ZoneInfo,
    *,
    allow_longer: bool = False,
    previous_number: int | None = None,
) -> str | None:
    """Why session `number` is too close to (or too far from) the session before it, or None.

    Too close is a safety matter and always refused; `allow_longer` lets staff accept a longer
    gap than recommended (the series only loses some momentum).
    """
    gap = days_between(previous.start, following.start, tz)
    if gap < spacing.min_days or (gap > spacing.max_days and not allow_longer):
        return (
            f"Session {number} must be {spacing.min_days} to {spacing.max_days} days after session "
            f"{previous_number or number - 1} "
            f"(it is {gap} days)."
        )
    return None


def _wall_minutes(moment: datetime, tz: ZoneInfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


def _preference(candidate: Slot, reference: Slot, tz: ZoneInfo) -> tuple:
    """Sort key: same practitioner, then same weekday, then nearest time of day, then earliest."""
    return (
        candidate.practitioner_id != reference.practitioner_id,
        candidate.start.astimezone(tz).weekday() != reference.start.astimezone(tz).weekday(),
        abs(_wall_minutes(candidate.start, tz) - _wall_minutes(reference.start, tz)),
        candidate.start,
    )


def _format_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


ALTERNATIVES = 3
# How far past the end of a spacing window to look for "nearest" times when the window is full.
OVERFLOW_DAYS = 14


def place_session(
    schedule: Schedule,
    *,
    number: int,
    previous: Slot,
    reference: Slot,
    spacing: Spacing,
    not_before: datetime,
    taken: Iterable[Slot] = (),
) -> PlannedSession:
    """Place session `number` inside the spacing window after `previous`, closest to `reference`.

    `taken` are the series' other sessions, so a plan never double-books itself. When nothing
    fits, the session has no slot, a sentence saying so, and the nearest later times instead.
    """
    tz = schedule.tz
    taken = list(taken)
    window_start = previous.start.astimezone(tz).date() + timedelta(days=spacing.min_days)
    window_days = spacing.max_days - spacing.min_days + 1

    def candidates(first_day: date, days: int, practitioner_id: int | None = None) -> list[Slot]:
        found = free_slots(
            schedule, first_day=first_day, days=days, not_before=not_before, practitioner_id=practitioner_id
        )
        return [
            slot for slot in found if not any(slot.overlaps(other, schedule.rules.buffer) for other in taken)
        ]

    # The same practitioner ranks first: when they alone fill the choice and its alternatives,
    # nobody else's diary needs computing (five times less work for a typical clinic).
    pool = candidates(window_start, window_days, reference.practitioner_id)
    if len(pool) <= ALTERNATIVES:
        pool = candidates(window_start, window_days)
    ranked = sorted(pool, key=lambda slot: _preference(slot, reference, tz))
    if ranked:
        return PlannedSession(number, ranked[0], ranked[1 : 1 + ALTERNATIVES])
    window_end = window_start + timedelta(days=window_days - 1)
    nearest = candidates(window_end + timedelta(days=1), OVERFLOW_DAYS)[:ALTERNATIVES]
    problem = (
        f"We could not find a free time for session {number} between {_format_day(window_start)} and "
        f"{_format_day(window_end)} ({spacing.min_days}–{spacing.max_days} days after session {number - 1})."
    )
    if nearest:
        problem += (
            " The nearest free times are a little later than the recommended gap; please call the clinic."
        )
    else:
        problem += " Please choose another first session or call the clinic."
    return PlannedSession(number, None, nearest, problem)


def plan_series(
    schedule: Schedule, *, first: Slot, sessions: int, spacing: Spacing, not_before: datetime
) -> SeriesPlan:
    """Sessions 1..N from a chosen first slot, each within the spacing window after the previous.

    Later sessions prefer the first session's practitioner, weekday and wall-clock time. The
    horizon does not apply to them (only to the first session, which the caller checked).
    """
    plan = [PlannedSession(1, first)]
    for number in range(2, sessions + 1):
        previous = plan[-1].slot
        if previous is None:
            plan.append(
                PlannedSession(
                    number,
                    None,
                    problem=f"Session {number} can be planned once session {number - 1} has a time.",
                )
            )
            continue
        plan.append(
            place_session(
                schedule,
                number=number,
                previous=previous,
                reference=first,
                spacing=spacing,
                not_before=not_before,
                taken=[session.slot for session in plan if session.slot],
            )
        )
    return SeriesPlan(plan)


def replan_after_move(
    schedule: Schedule,
    *,
    current: dict[int, Slot],
    number: int,
    new: Slot,
    spacing: Spacing,
    not_before: datetime,
) -> list[PlannedSession]:
    """Move session `number` to `new` and re-place later sessions that fall out of their window.

    `current` maps session numbers to the series' live slots; `schedule` must not count them as
    busy (the caller leaves the series' own appointments out). Returns the sessions that change,
    the moved one first; a session that cannot be re-placed carries a problem sentence.
    """
    tz = schedule.tz
    final = dict(current)
    final[number] = new
    changed = [PlannedSession(number, new)]
    numbers = sorted(final)
    for previous_number, following_number in itertools.pairwise(numbers):
        if previous_number < number:
            continue
        previous, following = final[previous_number], final[following_number]
        others = [slot for n, slot in final.items() if n != following_number]
        clash = any(following.overlaps(other, schedule.rules.buffer) for other in others)
        if spacing.allows(previous.start, following.start, tz) and not clash:
            continue
        placed = place_session(
            schedule,
            number=following_number,
            previous=previous,
            reference=current[following_number],
            spacing=spacing,
            not_before=not_before,
            taken=others,
        )
        changed.append(placed)
        if placed.slot is None:
            break
        final[following_number] = placed.slot
    return changed


def spacing_window(
    previous: datetime | None, following: datetime | None, spacing: Spacing, tz: ZoneInfo
) -> tuple[date, date] | None:
    """Local days [first, last] a session may take so BOTH neighbours keep their spacing.

    None when the session has no neighbours; an empty window (first > last) when they are too
    far apart for any day to satisfy both.
    """
    lows, highs = [], []
    if previous is not None:
        day = previous.astimezone(tz).date()
        lows.append(day + timedelta(days=spacing.min_days))
        highs.append(day + timedelta(days=spacing.max_days))
    if following is not None:
        day = following.astimezone(tz).date()
        lows.append(day - timedelta(days=spacing.max_days))
        highs.append(day - timedelta(days=spacing.min_days))
    if not lows:
        return None
    return max(lows), min(highs)


@dataclass(frozen=True)
class Gap:
    """Two consecutive live sessions further apart than the spacing allows (one between was cancelled)."""

    previous_number: int
    number: int
    days: int
    window: tuple[date, date]  # the local days `number` may move to, counted from the previous session


def stretched_gaps(sessions: dict[int, datetime], spacing: Spacing, tz: ZoneInfo) -> list[Gap]:
    """Each live session (by number) that follows the live one before it by more than `spacing.max_days`."""
    gaps = []
    numbers = sorted(sessions)
    for previous_number, number in itertools.pairwise(numbers):
        days = days_between(sessions[previous_number], sessions[number], tz)
        if days > spacing.max_days:
            window = spacing_window(sessions[previous_number], None, spacing, tz)
            gaps.append(Gap(previous_number, number, days, window))
    return gaps


def live_neighbours(numbers: Iterable[int], number: int) -> tuple[int | None, int | None]:
    """The live session numbers just before and just after `number` (a cancelled one between is skipped)."""
    earlier = [n for n in numbers if n < number]
    later_ = [n for n in numbers if n > number]
    return (max(earlier) if earlier else None), (min(later_) if later_ else None)


# --- One course of a treatment at a time -----------------------------------------------------------


@dataclass(frozen=True)
class Course:
    """Another series of the same treatment for the same patient, as the rule needs it."""

    series_id: int
    open: bool  # a session is still booked or checked in
    last_held: datetime | None  # the start of its latest booked, checked-in or completed session


def running_course(
    courses: Iterable[Course], first: datetime, spacing: Spacing, tz: ZoneInfo
) -> Course | None:
    """The course a new series starting at `first` would run alongside, or None.

    A course is running while any of its sessions is booked or checked in; and a finished one
    still is until the treatment's minimum gap after its last held session has passed: skin
    treated then is still healing, whichever series the next session belongs to. Cancelled
    and no-show sessions hold nothing.
    """
    for course in courses:
        if course.open:
            return course
        if course.last_held is not None and days_between(course.last_held, first, tz) < spacing.min_days:
            return course
    return None


# --- When staff may record what happened to a session ------------------------------------------------


@dataclass(frozen=True)
class StatusClock:
    """How the statuses of a session are timed (settings CHECK_IN_OPENS_MINUTES, NO_SHOW_GRACE_MINUTES)."""

    check_in_opens: timedelta = timedelta(hours=2)
    no_show_grace: timedelta = timedelta(minutes=15)


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def _moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def status_window_problem(
    status: str, *, start: datetime, now: datetime, clock: StatusClock, tz: ZoneInfo
) -> tuple[str, str] | None:
    """(code, sentence) when `status` may not be recorded at `now` for a session starting at `start`.

    Checked in: from `check_in_opens` before the start to the end of the session's local day.
    Completed: once the session has started. No-show: `no_show_grace` after the start.
    """
    if status == "checked_in":
        opens = start - clock.check_in_opens
        day = start.astimezone(tz).date()
        closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        if now < opens:
            ahead = _duration(clock.check_in_opens)
            return "too_early", f"Check-in opens at {_moment(opens, tz)}, {ahead} before the session."
        if now >= closes:
            return "too_late", (
                "Check-in closed at the end of the session's day: mark the session completed or a no-show "
                "instead."
            )
    elif status == "completed" and now < start:
        return "too_early", (
            f"A session can be marked completed once it has started (at {_moment(start, tz)})."
        )
    elif status == "no_show" and now < start + clock.no_show_grace:
        return "too_early", (
            "A session can be marked as a no-show only once its start time has passed: from "
            f"{_moment(start + clock.no_show_grace, tz)}, {_duration(clock.no_show_grace)} after it began."
        )
    return None


def undo_problem(marked_at: datetime | None, *, now: datetime, tz: ZoneInfo) -> tuple[str, str] | None:
    """(code, sentence) unless the status was recorded on the same local day as `now`."""
    if marked_at is None or marked_at.astimezone(tz).date() != now.astimezone(tz).date():
        when = f" (it was recorded on {_format_day(marked_at.astimezone(tz).date())})" if marked_at else ""
        return "undo_closed", f"Only a change recorded today can be undone{when}."
    return None
