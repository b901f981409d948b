"""The pure engine's re-planning of step 2: wanted times kept while they fit, the rest re-placed."""

from datetime import timedelta

from bookings.availability import Diary, Slot, Spacing, settle_series
from tests.bookings.test_availability import HOUR, at, schedule, weekdays

SPACING = Spacing(28, 42)
NOT_BEFORE = at(2027, 3, 1, 8)


def slot(start, practitioner=1) -> Slot:
    return Slot(start, start + HOUR, practitioner)


def settle(sched, wanted):
    return settle_series(
        sched, first=slot(at(2027, 3, 2, 10)), wanted=wanted, sessions=3, spacing=SPACING, not_before=NOT_BEFORE
    )


def test_a_wanted_time_that_fits_is_kept_and_the_suggestion_still_named():
    sched = schedule(Diary(1, weekdays()))

    plan = settle(sched, {2: slot(at(2027, 4, 6, 15))})

    second = plan.sessions[1]
    assert second.slot == slot(at(2027, 4, 6, 15))
    assert second.suggested == slot(at(2027, 3, 30, 10)) and second.suggestion == second.suggested
    assert second.suggested in second.alternatives


def test_a_later_session_pushed_out_of_its_window_moves_to_the_nearest_day_and_time():
    sched = schedule(Diary(1, weekdays()))

    # Session 2 chosen 42 days after session 1: session 3 wanted 14 days after it no longer fits.
    plan = settle(sched, {2: slot(at(2027, 4, 13, 10)), 3: slot(at(2027, 4, 27, 11))})

    assert plan.is_complete
    assert plan.sessions[2].slot == slot(at(2027, 5, 11, 11))  # the first day of its window, same time


def test_a_wanted_time_someone_took_is_replaced_by_the_smallest_change():
    busy = Diary(1, weekdays(), appointments=[(at(2027, 3, 30, 10), at(2027, 3, 30, 11))])

    plan = settle(schedule(busy), {2: slot(at(2027, 3, 30, 10)), 3: slot(at(2027, 4, 27, 10))})

    assert plan.sessions[1].slot == slot(at(2027, 3, 30, 9))  # same day, nearest time (earlier on a tie)
    assert plan.sessions[2].slot == slot(at(2027, 4, 27, 10))  # still in its window: kept


def test_a_wanted_time_outside_working_hours_is_not_kept():
    plan = settle(schedule(Diary(1, weekdays())), {2: slot(at(2027, 4, 3, 10))})  # a Saturday

    assert plan.sessions[1].slot.start.weekday() < 5


def test_an_unplaceable_session_lists_the_nearest_later_times():
    away = Diary(1, weekdays(), time_off=[(at(2027, 3, 29), at(2027, 4, 14))])

    plan = settle(schedule(away), {})

    assert plan.sessions[1].slot is None and "could not find a free time for session 2" in plan.sessions[1].problem
    assert plan.sessions[1].alternatives[0] == slot(at(2027, 4, 14, 9))
    assert plan.sessions[2].slot is None


def test_each_practitioner_day_is_computed_once_per_schedule():
    sched = schedule(Diary(1, weekdays()))
    for minutes in range(0, 8 * 60, 30):
        settle(sched, {})
        first = at(2027, 3, 2, 9) + timedelta(minutes=minutes)
        settle_series(sched, first=slot(first), wanted={}, sessions=3, spacing=SPACING, not_before=NOT_BEFORE)

    # 17 first times planned, each over two spacing windows: the same few dozen days, kept once.
    assert len(sched._day_slots) <= 2 * 43
