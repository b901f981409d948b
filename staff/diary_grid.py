"""
The diary grid: practitioners' (or rooms') columns of bookings, hours, time off and free places.

The diary costs a fixed number of queries whatever the number of appointments: practitioners,
their hours, their time off, and the appointments of the window (with patient and treatment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bookings.models import Appointment, Practitioner, Room, TimeOff, WorkingHours
from bookings.selectors import clinic_zone, local_midnight

DEFAULT_OPENING = (time(9, 0), time(17, 0))
FREE_STEP = 30  # minutes: the free places a diary offers to book, on the clinic's usual start grid
COMPACT_MINUTES = 45  # a block shorter than this shows one line: time, name, one button
# Treatment colours (CSS classes treatment-colour-0..N-1 in static/css/staff.css): a strong edge
# (3:1 against white) and a pale fill under dark text (AA); the treatment id picks one, stably.
TREATMENT_COLOURS = 8


# --- The diary grid ---------------------------------------------------------------------------------


@dataclass
class Band:
    """A stretch of a column, in minutes from the top of the grid (working hours, time off)."""

    top: int
    length: int
    label: str = ""


@dataclass
class Block:
    appointment: Appointment
    top: int
    length: int

    @property
    def needs_review(self) -> bool:
        return self.appointment.needs_review or self.appointment.series.needs_review

    @property
    def compact(self) -> bool:
        return self.length < COMPACT_MINUTES

    @property
    def colour(self) -> int:
        return self.appointment.series.treatment_id % TREATMENT_COLOURS


@dataclass
class Column:
    key: str
    heading: str
    practitioner: Practitioner | None  # None in a room's column
    day: date
    shifts: list[Band] = field(default_factory=list)
    off: list[Band] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    free: list[Band] = field(default_factory=list)  # whole FREE_STEP places inside shifts, nothing booked

    @property
    def works(self) -> bool:
        return bool(self.shifts or self.blocks)


@dataclass
class Diary:
    start_minute: int  # local minutes after midnight at the top of the grid
    end_minute: int
    columns: list[Column]
    others: list[Appointment]  # cancelled, no-show and waitlist holds: listed below the grid, not in it
    now_top: int | None = None  # minutes from the top of the grid to "now", when now is on it
    roomless: int = 0  # by room: active sessions that need no room (not in the grid)

    @property
    def length(self) -> int:
        return self.end_minute - self.start_minute

    @property
    def gone(self) -> list[Appointment]:
        """Cancelled and no-show appointments."""
        return [a for a in self.others if a.status != Appointment.Status.HELD]

    @property
    def held(self) -> list[Appointment]:
        """Times held for a waitlist offer (bookings/waitlist_services.py): not sessions yet."""
        return [a for a in self.others if a.status == Appointment.Status.HELD]

    @property
    def summary(self) -> list[tuple[str, int]]:
        """(status, how many) for the appointments shown, in status order, then how many need a review."""
        appointments = [block.appointment for column in self.columns for block in column.blocks] + self.others
        counts = [
            (label, sum(appointment.status == value for appointment in appointments))
            for value, label in Appointment.Status.choices
        ]
        reviews = sum(block.needs_review for column in self.columns for block in column.blocks)
        return [(label, count) for label, count in counts if count] + (
            [("Review needed", reviews)] if reviews else []
        )

    @property
    def span_label(self) -> str:
        return f"{_hhmm(self.start_minute)}–{_hhmm(self.end_minute)}"

    @property
    def hours(self) -> list[Band]:
        return [
            Band(minute - self.start_minute, 60, f"{minute // 60:02d}:00")
            for minute in range(self.start_minute, self.end_minute, 60)
        ]


def _minute(moment: datetime, day: date) -> int:
    """Local wall-clock minutes from `day`'s midnight (negative before it, over 1440 after it)."""
    local = moment.astimezone(clinic_zone())
    return (local.date() - day).days * 1440 + local.hour * 60 + local.minute


def _clock(value: time) -> int:
    return value.hour * 60 + value.minute


def diary(
    *, practitioners: list[Practitioner], days: list[date], now: datetime | None = None, working_only=False
) -> Diary:
    """Columns for each (practitioner, day) pair: one practitioner's week, or everyone's day.

    `working_only` leaves out the columns of practitioners with neither hours nor bookings (the day).
    """
    tz = clinic_zone()
    window_start, window_end = local_midnight(days[0], tz), local_midnight(days[-1] + timedelta(days=1), tz)
    ids = [practitioner.pk for practitioner in practitioners]
    weekdays = {day.weekday() for day in days}
    hours = WorkingHours.objects.filter(practitioner_id__in=ids, weekday__in=weekdays).values_list(
        "practitioner_id", "weekday", "start", "end"
    )
    time_off = TimeOff.objects.filter(practitioner_id__in=ids, start__lt=window_end, end__gt=window_start)
    appointments = (
        Appointment.objects.filter(practitioner_id__in=ids)
        .overlapping(window_start, window_end)
        .select_related("series__patient", "series__treatment", "practitioner", "room")
        .order_by("start", "pk")
    )
    single_day = len(days) == 1
    columns = {
        (practitioner.pk, day): Column(
            key=f"{practitioner.pk}-{day:%Y%m%d}",
            heading=practitioner.name if single_day else f"{day:%a} {day.day} {day:%b}",
            practitioner=practitioner,
            day=day,
        )
        for practitioner in practitioners
        for day in days
    }
    days_by_weekday = {day.weekday(): day for day in days}
    for practitioner_id, weekday, start, end in hours:
        column = columns[practitioner_id, days_by_weekday[weekday]]
        column.shifts.append(Band(_clock(start), _clock(end) - _clock(start)))
    for block in time_off:
        for day in days:
            top, bottom = max(_minute(block.start, day), 0), min(_minute(block.end, day), 1440)
            if top < bottom:
                columns[block.practitioner_id, day].off.append(Band(top, bottom - top, block.reason))
    others = []
    for appointment in appointments:
        day = appointment.start.astimezone(tz).date()
        if not appointment.is_active:
            others.append(appointment)
            continue
        top = _minute(appointment.start, day)
        length = int((appointment.end - appointment.start).total_seconds() // 60)
        if (appointment.practitioner_id, day) in columns:
            columns[appointment.practitioner_id, day].blocks.append(Block(appointment, top, length))
    shown = [column for column in columns.values() if column.works or not working_only]
    for column in shown:
        # A place already started is not offered (a day gone by has none left).
        column.free = _free_places(column, not_before=None if now is None else _minute(now, column.day))
    framed = _framed(shown, others)
    if now is not None and len(days) == 1:
        minute = _minute(now, days[0]) - framed.start_minute
        if 0 <= minute <= framed.length:
            framed.now_top = minute
    return framed


def room_diary(*, practitioners: list[Practitioner], day: date, now: datetime | None = None) -> Diary:
    """The day by room: a column per active room (or inactive one still booked).

    The same grid as the practitioners' day (one query more, for the rooms), its blocks regrouped.
    Sessions that need no room are left out and counted (`roomless`): they are in the practitioners' day.
    """
    grid = diary(practitioners=practitioners, days=[day], now=now)
    columns = {
        room.pk: Column(key=f"room-{room.pk}", heading=room.name, practitioner=None, day=day)
        for room in Room.objects.filter(is_active=True)
    }
    blocks = sorted(
        (block for column in grid.columns for block in column.blocks),
        key=lambda block: (block.top, block.appointment.pk),
    )
    for block in blocks:
        room = block.appointment.room
        if room is not None:
            column = columns.setdefault(
                room.pk, Column(key=f"room-{room.pk}", heading=room.name, practitioner=None, day=day)
            )
            column.blocks.append(block)
    grid.columns = list(columns.values())
    grid.roomless = sum(block.appointment.room_id is None for block in blocks)
    return grid


@dataclass
class WeekCell:
    """One practitioner's day in the week at a glance: hours, bookings, and how many."""

    day: date
    hours: str  # "09:00–17:00", or "" on a day off
    shifts: list[Band]
    off: list[Band]
    blocks: list[Block]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def week_overview(*, practitioners: list[Practitioner], days: list[date]) -> tuple[Diary, list[tuple]]:
    """Every practitioner's week on one screen: (the framed grid, [(practitioner, [WeekCell × 7])])."""
    grid = diary(practitioners=practitioners, days=days)
    cells: dict[int, list[WeekCell]] = {practitioner.pk: [] for practitioner in practitioners}
    for column in grid.columns:
        hours = ", ".join(
            f"{_hhmm(grid.start_minute + band.top)}–{_hhmm(grid.start_minute + band.top + band.length)}"
            for band in column.shifts
        )
        cells[column.practitioner.pk].append(WeekCell(column.day, hours, column.shifts, column.off, column.blocks))
    return grid, [(practitioner, cells[practitioner.pk]) for practitioner in practitioners]


def _free_places(column: Column, *, not_before: int | None = None) -> list[Band]:
    """FREE_STEP places inside the shifts that no booking or time off touches (before framing), none
    starting before minute `not_before` of the column's day (the clock, on today's diary)."""
    taken = [(band.top, band.top + band.length) for band in [*column.off, *column.blocks]]
    places = []
    for shift in column.shifts:
        for top in range(-(-shift.top // FREE_STEP) * FREE_STEP, shift.top + shift.length - FREE_STEP + 1, FREE_STEP):
            if not_before is not None and top < not_before:
                continue
            if not any(start < top + FREE_STEP and top < end for start, end in taken):
                places.append(Band(top, FREE_STEP, _hhmm(top)))
    return places


def _framed(columns: list[Column], others: list[Appointment]) -> Diary:
    """Grid bounds: whole hours around every shift and appointment (09:00–17:00 when empty)."""
    edges = [(band.top, band.top + band.length) for column in columns for band in column.shifts]
    edges += [(block.top, block.top + block.length) for column in columns for block in column.blocks]
    first = min((top for top, _ in edges), default=_clock(DEFAULT_OPENING[0]))
    last = max((bottom for _, bottom in edges), default=_clock(DEFAULT_OPENING[1]))
    start, end = max(first // 60 * 60, 0), min(-(-last // 60) * 60, 1440)
    for column in columns:
        for band in [*column.shifts, *column.blocks, *column.free]:
            band.top -= start
        clipped = [
            (max(band.top, start), min(band.top + band.length, end), band.label) for band in column.off
        ]
        column.off = [
            Band(top - start, bottom - top, label) for top, bottom, label in clipped if top < bottom
        ]
    return Diary(start_minute=start, end_minute=end, columns=columns, others=others)
