"""Property tests: free slots against a brute-force oracle, around both daylight-saving changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.availability import Diary, Rules, Schedule, Shift, free_slots

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
