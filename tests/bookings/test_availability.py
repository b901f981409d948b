"""The pure engine: free slots and series plans over plain intervals (no database)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings.availability import (
    Diary,
    Rules,
    Schedule,
    Shift,
    Slot,
    Spacing,
    Timeline,
    booking_bounds,
    free_slots,
    plan_series,
    replan_after_move,
    slot_problem,
    spacing_window,
)

LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def weekdays(start="09:00", end="17:00", days=range(5)) -> list[Shift]:
    return [Shift(day, time.fromisoformat(start), time.fromisoformat(end)) for day in days]


def schedule(*diaries, rooms=None, minutes=60, buffer=0, grid=30, horizon=90) -> Schedule:
    rules = Rules(
        min_notice=timedelta(hours=24),
        horizon_days=horizon,
        buffer=timedelta(minutes=buffer),
        granularity=timedelta(minutes=grid),
    )
    return Schedule(LONDON, rules, timedelta(minutes=minutes), list(diaries), rooms)


def starts(slots) -> list[str]:
    return [f"{slot.start:%a %H:%M}" for slot in slots]


def day_slots(sched, day: date, **kwargs) -> list[Slot]:
    kwargs.setdefault("not_before", at(2000, 1, 1))
    return free_slots(sched, first_day=day, days=1, **kwargs)


MONDAY = date(2027, 3, 1)


def test_slot_ending_exactly_at_closing_is_offered():
    sched = schedule(Diary(1, weekdays("09:00", "12:00")), minutes=60)

    assert starts(day_slots(sched, MONDAY)) == [
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:00",
        "Mon 10:30",
        "Mon 11:00",
    ]


def test_slot_that_would_overrun_closing_is_not_offered():
    sched = schedule(Diary(1, weekdays("09:00", "11:45")), minutes=60)

    assert starts(day_slots(sched, MONDAY))[-1] == "Mon 10:30"


def test_grid_counts_from_local_midnight_not_from_opening():
    sched = schedule(Diary(1, weekdays("09:10", "11:00")), minutes=30, grid=30)

    assert starts(day_slots(sched, MONDAY)) == ["Mon 09:30", "Mon 10:00", "Mon 10:30"]


def test_granularity_sets_the_start_times():
    sched = schedule(Diary(1, weekdays("09:00", "10:30")), minutes=60, grid=15)

    assert starts(day_slots(sched, MONDAY)) == ["Mon 09:00", "Mon 09:15", "Mon 09:30"]


def test_buffer_is_kept_after_and_before_an_appointment():
    busy = Diary(1, weekdays("08:30", "13:00"), appointments=[(at(2027, 3, 1, 10), at(2027, 3, 1, 11))])
    sched = schedule(busy, minutes=60, buffer=15, grid=15)

    assert starts(day_slots(sched, MONDAY)) == [
        "Mon 08:30",
        "Mon 08:45",
        "Mon 11:15",
        "Mon 11:30",
        "Mon 11:45",
        "Mon 12:00",
    ]


def test_back_to_back_is_allowed_without_a_buffer():
    busy = Diary(1, weekdays("09:00", "12:00"), appointments=[(at(2027, 3, 1, 10), at(2027, 3, 1, 11))])

    assert starts(day_slots(schedule(busy), MONDAY)) == ["Mon 09:00", "Mon 11:00"]


def test_time_off_spanning_days_blocks_every_day_it_covers():
    away = Diary(1, weekdays("09:00", "17:00"), time_off=[(at(2027, 3, 2, 14), at(2027, 3, 4, 12))])
    slots = free_slots(
        schedule(away, minutes=60, grid=60), first_day=MONDAY, days=5, not_before=at(2000, 1, 1)
    )

    by_day = {
        day: [f"{s.start:%H:%M}" for s in slots if s.start.date() == day]
        for day in (date(2027, 3, d) for d in (2, 3, 4))
    }
    assert by_day[date(2027, 3, 2)] == ["09:00", "10:00", "11:00", "12:00", "13:00"]
    assert by_day[date(2027, 3, 3)] == []
    assert by_day[date(2027, 3, 4)] == ["12:00", "13:00", "14:00", "15:00", "16:00"]


def test_minimum_notice_hides_slots_too_soon():
    sched = schedule(Diary(1, weekdays("09:00", "12:00")), minutes=60, grid=60)
    now = at(2027, 3, 1, 10, 5)
    not_before, _ = booking_bounds(sched.rules, now=now, tz=LONDON)

    slots = free_slots(sched, first_day=MONDAY, days=3, not_before=not_before)

    assert starts(slots) == ["Tue 11:00", "Wed 09:00", "Wed 10:00", "Wed 11:00"]


def test_staff_may_book_without_notice_but_not_in_the_past():
    sched = schedule(Diary(1, weekdays("09:00", "12:00")), minutes=60, grid=60)
    not_before, last_day = booking_bounds(sched.rules, now=at(2027, 3, 1, 10, 5), tz=LONDON, for_staff=True)

    assert starts(free_slots(sched, first_day=MONDAY, days=1, not_before=not_before)) == ["Mon 11:00"]
    assert last_day is None


def test_horizon_includes_its_last_day_and_stops_after_it():
    sched = schedule(Diary(1, weekdays("09:00", "10:00", days=range(7))), minutes=60, horizon=10)
    not_before, last_day = booking_bounds(sched.rules, now=at(2027, 3, 1, 8), tz=LONDON)

    slots = free_slots(sched, first_day=MONDAY, days=30, not_before=not_before, last_day=last_day)

    assert last_day == date(2027, 3, 11)
    assert slots[-1].start == at(2027, 3, 11, 9)


def test_later_sessions_are_not_limited_by_the_horizon():
    _, last_day = booking_bounds(Rules(), now=at(2027, 3, 1, 8), tz=LONDON, first_session=False)

    assert last_day is None


def test_spring_forward_keeps_ten_oclock_local_and_sessions_last_real_minutes():
    # Europe/London moves from GMT to BST at 01:00 on Sunday 28 March 2027.
    sched = schedule(Diary(1, weekdays("10:00", "11:00", days=range(7))), minutes=60)
    slots = free_slots(sched, first_day=date(2027, 3, 27), days=2, not_before=at(2000, 1, 1))

    assert [s.start.astimezone(UTC).hour for s in slots] == [10, 9]
    assert [f"{s.start:%H:%M}" for s in slots] == ["10:00", "10:00"]
    assert all(s.duration == HOUR for s in slots)


def test_spring_forward_never_offers_the_skipped_hour():
    night = Diary(1, [Shift(6, time(0, 0), time(4, 0))])
    slots = day_slots(schedule(night, minutes=30, grid=30), date(2027, 3, 28))

    assert [f"{s.start:%H:%M}" for s in slots] == ["00:00", "00:30", "02:00", "02:30", "03:00", "03:30"]
    # 00:30 GMT plus 30 real minutes is 02:00 BST.
    assert slots[1].end == at(2027, 3, 28, 2)


def test_fall_back_keeps_ten_oclock_local():
    # Europe/London moves from BST to GMT at 02:00 on Sunday 31 October 2027.
    sched = schedule(Diary(1, weekdays("10:00", "11:00", days=range(7))), minutes=60)
    slots = free_slots(sched, first_day=date(2027, 10, 30), days=2, not_before=at(2000, 1, 1))

    assert [s.start.astimezone(UTC).hour for s in slots] == [9, 10]
    assert [f"{s.start:%H:%M}" for s in slots] == ["10:00", "10:00"]


def test_fall_back_offers_the_repeated_hour_once_with_true_durations():
    night = Diary(1, [Shift(6, time(0, 0), time(3, 0))])
    slots = day_slots(schedule(night, minutes=60, grid=60), date(2027, 10, 31))

    assert [f"{s.start:%H:%M}" for s in slots] == ["00:00", "01:00", "02:00"]
    # 01:00 BST + 60 real minutes is 01:00 GMT; the shift (four real hours) fits all three.
    assert slots[1].end.astimezone(UTC) == datetime(2027, 10, 31, 1, tzinfo=UTC)


def test_room_needing_treatment_gets_a_free_suitable_room():
    morning = (at(2027, 3, 1, 9), at(2027, 3, 1, 10))
    sched = schedule(
        Diary(1, weekdays("09:00", "11:00")), rooms=[Diary(7, appointments=[morning]), Diary(8)], grid=60
    )

    assert [(f"{s.start:%H:%M}", s.room_id) for s in day_slots(sched, MONDAY)] == [("09:00", 8), ("10:00", 7)]


def test_no_slot_when_every_room_is_taken():
    morning = (at(2027, 3, 1, 9), at(2027, 3, 1, 10))
    sched = schedule(Diary(1, weekdays("09:00", "10:00")), rooms=[Diary(7, appointments=[morning])])

    assert day_slots(sched, MONDAY) == []


def test_any_practitioner_lists_each_practitioners_slots():
    sched = schedule(Diary(1, weekdays("09:00", "10:00")), Diary(2, weekdays("09:00", "10:00")))

    assert [s.practitioner_id for s in day_slots(sched, MONDAY)] == [1, 2]
    assert [s.practitioner_id for s in day_slots(sched, MONDAY, practitioner_id=2)] == [2]


def test_timeline_merges_touching_intervals():
    timeline = Timeline([(at(2027, 3, 1, 9), at(2027, 3, 1, 10)), (at(2027, 3, 1, 10), at(2027, 3, 1, 11))])

    assert not timeline.is_free(at(2027, 3, 1, 9, 30), at(2027, 3, 1, 10, 30))
    assert timeline.is_free(at(2027, 3, 1, 11), at(2027, 3, 1, 12))
    assert timeline.is_free(at(2027, 3, 1, 8), at(2027, 3, 1, 9))


def test_slot_problem_names_the_rule_broken():
    sched = schedule(Diary(1, weekdays("09:00", "12:00"), time_off=[(at(2027, 3, 2), at(2027, 3, 3))]))
    ok = {"not_before": at(2027, 2, 1), "last_day": None}

    assert slot_problem(sched, Slot(at(2027, 3, 1, 9), at(2027, 3, 1, 10), 1), **ok) is None
    assert "60 minutes" in slot_problem(sched, Slot(at(2027, 3, 1, 9), at(2027, 3, 1, 11), 1), **ok)
    assert "working hours" in slot_problem(sched, Slot(at(2027, 3, 1, 12), at(2027, 3, 1, 13), 1), **ok)
    assert "away" in slot_problem(sched, Slot(at(2027, 3, 2, 9), at(2027, 3, 2, 10), 1), **ok)
    assert "times the clinic lists" in slot_problem(
        sched, Slot(at(2027, 3, 1, 9, 10), at(2027, 3, 1, 10, 10), 1), **ok
    )
    assert "too soon" in slot_problem(
        sched, Slot(at(2027, 3, 1, 9), at(2027, 3, 1, 10), 1), not_before=at(2027, 3, 1, 10), last_day=None
    )


# --- Series plans --------------------------------------------------------------------------------

SPACING = Spacing(28, 42)


def first_slot(practitioner=1, day=MONDAY, hour=10) -> Slot:
    start = datetime.combine(day, time(hour), tzinfo=LONDON)
    return Slot(start, start + HOUR, practitioner)


def test_series_keeps_practitioner_weekday_and_time():
    sched = schedule(Diary(1, weekdays()), Diary(2, weekdays()))

    plan = plan_series(sched, first=first_slot(), sessions=6, spacing=SPACING, not_before=at(2027, 2, 1))

    assert plan.is_complete
    assert [s.slot.start.date() for s in plan.sessions] == [MONDAY + timedelta(days=28 * n) for n in range(6)]
    assert {(s.slot.practitioner_id, f"{s.slot.start:%a %H:%M}") for s in plan.sessions} == {(1, "Mon 10:00")}


def test_series_crossing_daylight_saving_keeps_ten_oclock_local():
    sched = schedule(Diary(1, weekdays()))

    plan = plan_series(
        sched, first=first_slot(day=date(2027, 2, 15)), sessions=3, spacing=SPACING, not_before=at(2027, 2, 1)
    )

    assert [f"{s.slot.start:%H:%M}" for s in plan.sessions] == ["10:00"] * 3
    assert [s.slot.start.astimezone(UTC).hour for s in plan.sessions] == [10, 10, 9]


def test_series_prefers_another_day_with_the_same_practitioner_over_another_practitioner():
    mondays = [MONDAY + timedelta(days=days) for days in (28, 35, 42)]
    away = [
        (datetime.combine(day, time(0), tzinfo=LONDON), datetime.combine(day, time(23), tzinfo=LONDON))
        for day in mondays
    ]
    sched = schedule(Diary(1, weekdays(), time_off=away), Diary(2, weekdays()))

    plan = plan_series(sched, first=first_slot(), sessions=2, spacing=SPACING, not_before=at(2027, 2, 1))

    second = plan.sessions[1].slot
    assert (second.practitioner_id, f"{second.start:%a %H:%M}") == (1, "Tue 10:00")
    assert len(plan.sessions[1].alternatives) == 3


def test_series_goes_beyond_the_horizon_for_later_sessions():
    sched = schedule(Diary(1, weekdays()), horizon=30)

    plan = plan_series(sched, first=first_slot(), sessions=4, spacing=SPACING, not_before=at(2027, 2, 1))

    assert plan.is_complete
    assert plan.sessions[-1].slot.start.date() == MONDAY + timedelta(days=84)


def test_unplaceable_session_says_which_and_offers_the_nearest_later_times():
    window_start = MONDAY + timedelta(days=56)
    holiday = (
        datetime.combine(window_start, time(0), tzinfo=LONDON),
        datetime.combine(window_start + timedelta(days=15), time(0), tzinfo=LONDON),
    )
    sched = schedule(Diary(1, weekdays(), time_off=[holiday]))

    plan = plan_series(sched, first=first_slot(), sessions=4, spacing=SPACING, not_before=at(2027, 2, 1))

    third, fourth = plan.sessions[2], plan.sessions[3]
    assert not plan.is_complete
    assert plan.sessions[1].slot is not None
    assert third.slot is None
    assert third.problem.startswith(
        "We could not find a free time for session 3 between Monday 26 April 2027"
    )
    assert "Monday 10 May 2027" in third.problem
    assert [f"{s.start:%d %b %H:%M}" for s in third.alternatives] == [
        "11 May 09:00",
        "11 May 09:30",
        "11 May 10:00",
    ]
    assert fourth.slot is None and "session 3" in fourth.problem


def test_plan_never_double_books_itself_with_no_minimum_gap():
    sched = schedule(Diary(1, weekdays("09:00", "12:00")), buffer=15)

    plan = plan_series(
        sched, first=first_slot(hour=9), sessions=2, spacing=Spacing(0, 0), not_before=at(2027, 2, 1)
    )

    assert f"{plan.sessions[1].slot.start:%H:%M}" == "10:30"


def test_moving_a_session_later_re_places_the_next_one_outside_its_window():
    sched = schedule(Diary(1, weekdays()))
    current = {
        1: first_slot(),
        2: first_slot(day=MONDAY + timedelta(days=28)),
        3: first_slot(day=MONDAY + timedelta(days=56)),
    }
    new = first_slot(day=MONDAY + timedelta(days=42))

    changed = replan_after_move(
        sched, current=current, number=2, new=new, spacing=SPACING, not_before=at(2027, 2, 1)
    )

    assert [(s.number, s.slot.start.date()) for s in changed] == [
        (2, new.start.date()),
        (3, new.start.date() + timedelta(days=28)),
    ]


def test_moving_a_session_within_the_window_leaves_the_others():
    sched = schedule(Diary(1, weekdays()))
    current = {
        1: first_slot(),
        2: first_slot(day=MONDAY + timedelta(days=28)),
        3: first_slot(day=MONDAY + timedelta(days=63)),
    }
    new = first_slot(day=MONDAY + timedelta(days=30))

    changed = replan_after_move(
        sched, current=current, number=2, new=new, spacing=SPACING, not_before=at(2027, 2, 1)
    )

    assert [s.number for s in changed] == [2]


def test_spacing_window_respects_both_neighbours():
    window = spacing_window(at(2027, 3, 1, 10), at(2027, 4, 26, 10), SPACING, LONDON)

    assert window == (date(2027, 3, 29), date(2027, 3, 29))
    assert spacing_window(None, None, SPACING, LONDON) is None
