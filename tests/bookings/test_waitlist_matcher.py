"""The pure waitlist matcher: a freed time goes to the first waiting session whose whole series still fits."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.availability import Diary, Rules, Schedule, Shift, Slot, Spacing, days_between
from bookings.waitlist import Wish, match

LONDON = ZoneInfo("Europe/London")
SPACING = Spacing(28, 42)
NOW = datetime(2027, 1, 4, 8, tzinfo=LONDON)


def at(month, day, hour=10, minute=0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=LONDON)


def slot(month, day, hour=10, practitioner=1) -> Slot:
    start = at(month, day, hour)
    return Slot(start, start + timedelta(hours=1), practitioner)


def schedule(busy=(), practitioners=(1, 2)) -> Schedule:
    shifts = [Shift(day, time(9), time(17)) for day in range(5)]
    busy = list(busy)
    diaries = [
        Diary(pid, shifts, appointments=[(s.start, s.end) for s in busy if s.practitioner_id == pid])
        for pid in practitioners
    ]
    rules = Rules(min_notice=timedelta(hours=24), horizon_days=90, buffer=timedelta(0), granularity=timedelta(minutes=30))
    return Schedule(LONDON, rules, timedelta(hours=1), diaries, None)


def wish(id_, since_minutes, current, number, sessions=4, **kwargs) -> Wish:
    return Wish(id=id_, since=NOW + timedelta(minutes=since_minutes), number=number, sessions=sessions,
                current=current, **kwargs)


# A series: session 1 on Mon 4 Jan... session 2 on 15 Feb (42 days, late); it waits for sooner.
SERIES = {1: slot(1, 4), 2: slot(2, 15), 3: slot(3, 15), 4: slot(4, 12)}
FREED = slot(2, 1)  # Mon 1 Feb 10:00, 28 days after session 1


def test_a_freed_time_goes_to_the_first_who_asked_when_it_fits():
    early = wish(1, 0, SERIES, 2)
    later = wish(2, 5, SERIES, 2)
    offers = match(schedule(SERIES.values()), freed=FREED, wishes=[later, early], spacing=SPACING, not_before=NOW)
    assert [offer.wish.id for offer in offers] == [1]
    assert offers[0].slot == FREED
    # Session 3 (15 Mar) is 42 days after 1 Feb: still inside 28–42, so nothing else moves.
    assert offers[0].moved_later == 0


def test_later_sessions_move_with_it_when_they_would_leave_their_window():
    series = {1: slot(1, 4), 2: slot(2, 15), 3: slot(3, 22), 4: slot(4, 19)}
    offers = match(schedule(series.values()), freed=FREED, wishes=[wish(1, 0, series, 2)], spacing=SPACING, not_before=NOW)
    assert len(offers) == 1
    moved = {session.number: session.slot for session in offers[0].sessions}
    assert 3 in moved  # 22 Mar is 49 days after 1 Feb: re-placed inside the window
    assert 28 <= days_between(FREED.start, moved[3].start, LONDON) <= 42


def test_no_offer_when_a_later_session_cannot_follow():
    series = {1: slot(1, 4), 2: slot(2, 15), 3: slot(3, 22)}
    # Both practitioners are booked solid for the whole window of session 3 after 1 Feb.
    blocked = [
        Slot(at(2, 1) + timedelta(days=d, hours=h - 10), at(2, 1) + timedelta(days=d, hours=h - 9), p)
        for d in range(28, 43) for h in range(9, 17) for p in (1, 2)
    ]
    offers = match(schedule([*series.values(), *blocked]), freed=FREED, wishes=[wish(1, 0, series, 2, sessions=3)],
                   spacing=SPACING, not_before=NOW)
    assert offers == []


def test_too_close_to_the_previous_session_is_never_offered():
    series = {1: slot(1, 11), 2: slot(2, 22), 3: slot(3, 22)}  # 1 Feb is only 21 days after 11 Jan
    offers = match(schedule(series.values()), freed=FREED, wishes=[wish(1, 0, series, 2)], spacing=SPACING, not_before=NOW)
    assert offers == []


def test_not_offered_when_it_is_not_sooner_or_does_not_suit():
    sooner_already = {1: slot(1, 4), 2: slot(2, 1, 9), 3: slot(3, 1)}
    not_monday = wish(2, 0, SERIES, 2, weekdays=frozenset({1, 2}))
    mornings_only = wish(3, 0, SERIES, 2, windows=((time(8), time(10)),))
    other_practitioner = wish(4, 0, SERIES, 2, practitioner_id=2)
    not_yet_eligible = wish(5, 0, SERIES, 2, earliest=date(2027, 2, 2))
    offers = match(schedule(SERIES.values()), freed=FREED,
                   wishes=[wish(1, 0, sooner_already, 2), not_monday, mornings_only, other_practitioner, not_yet_eligible],
                   spacing=SPACING, not_before=NOW)
    assert offers == []


def test_a_new_patient_gets_a_first_session_only_when_the_whole_series_plans():
    new = wish(1, 0, {}, 1, sessions=4)
    offers = match(schedule(), freed=slot(1, 18), wishes=[new], spacing=SPACING, not_before=NOW)
    assert len(offers) == 1
    assert [session.number for session in offers[0].sessions] == [1, 2, 3, 4]
    assert all(session.slot for session in offers[0].sessions)


def test_a_longer_freed_time_offers_the_best_fitting_start():
    freed = Slot(at(2, 1, 9), at(2, 1, 12), 1)
    offers = match(schedule(SERIES.values()), freed=freed, wishes=[wish(1, 0, SERIES, 2)], spacing=SPACING, not_before=NOW)
    assert offers[0].slot.start == at(2, 1, 9)


# --- Property: every offer keeps the whole series inside its windows -------------------------------

@settings(max_examples=120, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=28, max_value=42), min_size=2, max_size=5),
    first_day=st.integers(min_value=0, max_value=20),
    freed_day=st.integers(min_value=20, max_value=50),
    freed_hour=st.integers(min_value=9, max_value=16),
    number=st.integers(min_value=2, max_value=4),
)
def test_every_offer_keeps_the_series_inside_its_windows(gaps, first_day, freed_day, freed_hour, number):
    start = at(1, 11) + timedelta(days=first_day)
    current, day = {1: Slot(start, start + timedelta(hours=1), 1)}, start
    for n, gap in enumerate(gaps, start=2):
        day = day + timedelta(days=gap)
        current[n] = Slot(day, day + timedelta(hours=1), 1)
    number = min(number, len(current))
    # Around the wished session's window (after the session before it), where offers are possible.
    freed_start = (current[number - 1].start + timedelta(days=freed_day)).replace(hour=freed_hour)
    freed = Slot(freed_start, freed_start + timedelta(hours=1), 2)
    sched = schedule(current.values())
    offers = match(sched, freed=freed, wishes=[wish(1, 0, current, number, sessions=len(current))],
                   spacing=SPACING, not_before=NOW)
    for offer in offers:
        final = dict(current)
        final.update({session.number: session.slot for session in offer.sessions})
        assert final[number].start < current[number].start
        numbers = sorted(final)
        for previous, following in zip(numbers, numbers[1:]):
            assert SPACING.allows(final[previous].start, final[following].start, LONDON)
        assert all(sched.within_hours(session.slot) for session in offer.sessions)  # what moves is bookable
