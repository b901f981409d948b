"""Property tests: free slots against a brute-force oracle around both DST changes; plan invariants."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.availability import (
    Diary,
    Rules,
    Schedule,
    Shift,
    Slot,
    Spacing,
    days_between,
    free_slots,
    plan_series,
)

LONDON = ZoneInfo("Europe/London")
# Saturday to Monday around each change, so the change day (a Sunday) sits in the middle.
FIRST_DAYS = [date(2027, 3, 27), date(2027, 10, 30)]
DAYS = 3


def oracle(shifts, appointments, time_off, buffer, grid, minutes, first_day) -> set[datetime]:
    """Every wall-clock grid minute of every day, checked one by one in UTC."""
    found = set()
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        for minute in range(0, 24 * 60, grid):
            naive = datetime.combine(day, time(minute // 60, minute % 60))
            start = naive.replace(tzinfo=LONDON).astimezone(UTC)
            if start.astimezone(LONDON).replace(tzinfo=None) != naive:
                continue  # skipped by the spring change
            end = start + timedelta(minutes=minutes)
            # Offered start times are the shift's own wall-clock times; the end is absolute.
            inside = any(
                shift.weekday == day.weekday()
                and shift.start <= naive.time() < shift.end
                and datetime.combine(day, shift.start, tzinfo=LONDON) <= start
                and end <= datetime.combine(day, shift.end, tzinfo=LONDON)
                for shift in shifts
            )
            clear = all(not (start < e + buffer and s - buffer < end) for s, e in appointments)
            away = any(start < e and s < end for s, e in time_off)
            if inside and clear and not away:
                found.add(start)
    return found


intervals = st.lists(
    st.tuples(st.integers(0, DAYS * 24 * 4 - 1), st.integers(1, 16)).map(
        lambda t: (timedelta(minutes=15 * t[0]), timedelta(minutes=15 * t[1]))
    ),
    max_size=8,
)
LAST_QUARTER = 24 * 4 - 1  # 23:45


def quarter(index: int) -> time:
    return time(index // 4, 15 * (index % 4))


shift_blocks = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, LAST_QUARTER - 1), st.integers(1, 40)).map(
        lambda t: Shift(t[0], quarter(t[1]), quarter(min(t[1] + t[2], LAST_QUARTER)))
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    first_day=st.sampled_from(FIRST_DAYS),
    shifts=shift_blocks,
    appointments=intervals,
    time_off=intervals,
    buffer=st.sampled_from([0, 10, 15]),
    grid=st.sampled_from([15, 30, 60]),
    minutes=st.sampled_from([30, 45, 60, 90]),
)
def test_free_slots_match_a_brute_force_oracle(
    first_day, shifts, appointments, time_off, buffer, grid, minutes
):
    origin = datetime.combine(first_day, time(0), tzinfo=LONDON).astimezone(UTC)
    busy = [(origin + start, origin + start + length) for start, length in appointments]
    away = [(origin + start, origin + start + length) for start, length in time_off]
    rules = Rules(buffer=timedelta(minutes=buffer), granularity=timedelta(minutes=grid))
    schedule = Schedule(LONDON, rules, timedelta(minutes=minutes), [Diary(1, shifts, away, busy)])

    slots = free_slots(schedule, first_day=first_day, days=DAYS, not_before=origin - timedelta(days=1))

    assert {slot.start.astimezone(UTC) for slot in slots} == oracle(
        shifts, busy, away, timedelta(minutes=buffer), grid, minutes, first_day
    )
    assert all(slot.duration == timedelta(minutes=minutes) for slot in slots)
    assert all(slot.start.tzinfo is LONDON for slot in slots)


@settings(max_examples=60, deadline=None)
@given(
    busy_days=st.lists(st.integers(0, 200), max_size=60),
    min_days=st.integers(7, 28),
    extra_days=st.integers(0, 14),
    sessions=st.integers(2, 6),
)
def test_series_plans_keep_spacing_and_never_double_book(busy_days, min_days, extra_days, sessions):
    """Whatever is booked, placed sessions keep the window, are free, and the gaps are explained."""
    first_day = date(2027, 3, 1)
    start = datetime.combine(first_day, time(10), tzinfo=LONDON)
    first = Slot(start, start + timedelta(hours=1), 1)
    # Practitioner 1 is fully booked on the given days; practitioner 2 works Mondays only.
    full_days = [
        (
            datetime.combine(first_day + timedelta(days=d), time(0), tzinfo=LONDON),
            datetime.combine(first_day + timedelta(days=d + 1), time(0), tzinfo=LONDON),
        )
        for d in busy_days
        if d
    ]
    weekdays = [Shift(day, time(9), time(17)) for day in range(5)]
    schedule = Schedule(
        LONDON,
        Rules(),
        timedelta(hours=1),
        [Diary(1, weekdays, appointments=full_days), Diary(2, [Shift(0, time(9), time(12))])],
    )
    spacing = Spacing(min_days, min_days + extra_days)

    plan = plan_series(schedule, first=first, sessions=sessions, spacing=spacing, not_before=start)

    placed = [session.slot for session in plan.sessions if session.slot]
    for previous, following in itertools.pairwise(placed):
        assert spacing.min_days <= days_between(previous.start, following.start, LONDON) <= spacing.max_days
    assert all(schedule.is_free(slot) and schedule.within_hours(slot) for slot in placed)
    for session in plan.sessions:
        assert (session.slot is None) == (session.problem is not None)
        if session.slot is None:
            assert f"session {session.number}" in session.problem.lower()
