"""The reminder planner (bookings/reminders.py): pure, no database; local clock times across DST."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings import reminders
from bookings.reminders import SeriesState, Session, Timings

LONDON = ZoneInfo("Europe/London")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def session(number, start, status="booked", minutes=60) -> Session:
    return Session(number, 100 + number, start, start + timedelta(minutes=minutes), status)


def state(*sessions, of=4, active=True) -> SeriesState:
    return SeriesState(7, active, of, 28, 42, tuple(sessions))


def planned(series: SeriesState, timings: Timings | None = None) -> list[tuple[str, int, datetime]]:
    plan = reminders.plan(series, timings or Timings(), LONDON)
    return [(m.kind, m.session_number, m.due_at.astimezone(LONDON)) for m in plan]


def test_a_session_gets_reminders_and_aftercare_at_local_times():
    plan = planned(state(session(1, local(2027, 3, 2, 10)), of=1))

    assert plan == [
        ("reminder", 1, local(2027, 2, 27, 10)),  # 2 days before is the 48-hour cutoff: a day earlier
        ("reminder_morning", 1, local(2027, 3, 2, 8)),
        ("aftercare", 1, local(2027, 3, 2, 19)),
        ("aftercare_followup", 1, local(2027, 3, 5, 10)),
    ]


def test_times_keep_the_local_clock_across_the_spring_change():
    # Session on Tuesday 30 March 2027 (BST); BST began on Sunday 28 March. A 24-hour cutoff
    # keeps the reminder 2 days before, on the day of the change.
    plan = {
        (kind, number): due
        for kind, number, due in planned(
            state(
                session(1, local(2027, 3, 2, 10)),
                session(2, local(2027, 3, 30, 10)),
            ),
            Timings(cancellation_cutoff_hours=24),
        )
    }

    assert plan["reminder", 2] == local(2027, 3, 28, 10)  # the day of the change itself
    assert plan["reminder", 2].utcoffset() == timedelta(hours=1)
    assert plan["next_session", 2] == local(2027, 3, 23, 10)
    assert plan["next_session", 2].utcoffset() == timedelta(0)
    assert plan["reminder_morning", 2] == local(2027, 3, 30, 8)


def test_times_keep_the_local_clock_across_the_autumn_change():
    # BST ends on Sunday 31 October 2027.
    timings = Timings(cancellation_cutoff_hours=24)
    plan = {(kind, number): due for kind, number, due in planned(state(session(1, local(2027, 11, 2, 10))), timings)}

    assert plan["reminder", 1] == local(2027, 10, 31, 10)
    assert plan["reminder", 1].astimezone(ZoneInfo("UTC")).hour == 10  # GMT again


def test_a_wall_time_skipped_by_the_change_goes_at_the_first_real_minute():
    timings = Timings(reminder_morning_time=time(1, 30))
    plan = {
        (kind, number): due
        for kind, number, due in planned(state(session(1, local(2027, 3, 28, 10))), timings)
    }

    assert plan["reminder_morning", 1] == datetime(2027, 3, 28, 1, 30, tzinfo=ZoneInfo("UTC")).astimezone(
        LONDON
    )
    assert plan["reminder_morning", 1].strftime("%H:%M %Z") == "02:30 BST"


def test_the_morning_reminder_goes_an_hour_before_an_early_session():
    plan = {(kind, number): due for kind, number, due in planned(state(session(1, local(2027, 3, 2, 8, 30))))}

    assert plan["reminder_morning", 1] == local(2027, 3, 2, 7, 30)


def test_aftercare_waits_an_hour_after_a_late_session():
    plan = {
        (kind, number): due for kind, number, due in planned(state(session(1, local(2027, 3, 2, 18, 30))))
    }

    assert plan["aftercare", 1] == local(2027, 3, 2, 20, 30)


def test_next_session_reminder_is_only_for_later_sessions_and_only_between_sessions():
    close = planned(state(session(1, local(2027, 3, 2, 10)), session(2, local(2027, 3, 5, 10))))
    spaced = planned(state(session(1, local(2027, 3, 2, 10)), session(2, local(2027, 3, 30, 10))))

    assert [p for p in close if p[0] == "next_session"] == []  # 7 days before would be before session 1
    assert [p[:2] for p in spaced if p[0] == "next_session"] == [("next_session", 2)]


def test_a_missing_next_session_plans_a_nudge_when_its_window_opens_and_a_front_desk_alert():
    plan = [
        p
        for p in planned(state(session(1, local(2027, 3, 2, 10)), session(3, local(2027, 5, 4, 10))))
        if p[0] in ("nudge", "front_desk_alert")
    ]

    # Window for session 2: 28 to 42 days after 2 March; the alert goes 7 days before it closes.
    assert plan == [("nudge", 2, local(2027, 3, 30, 10)), ("front_desk_alert", 2, local(2027, 4, 6, 10))]


def test_no_nudge_for_a_cancelled_series_or_a_complete_one():
    cancelled = state(session(1, local(2027, 3, 2, 10), status="completed"), active=False)
    complete = state(*(session(n, local(2027, 3, 2, 10) + timedelta(days=28 * (n - 1))) for n in range(1, 5)))

    assert not [p for p in planned(cancelled) + planned(complete) if p[0] in ("nudge", "front_desk_alert")]


def test_only_aftercare_for_a_session_that_took_place():
    plan = planned(state(session(1, local(2027, 3, 2, 10), status="completed"), of=1))

    assert [p[0] for p in plan] == ["aftercare", "aftercare_followup"]


def test_timings_set_to_zero_or_empty_plan_nothing():
    timings = Timings(
        reminder_days_before=0,
        reminder_morning_time=None,
        aftercare_evening_time=None,
        aftercare_followup_days=0,
        next_session_days_before=0,
    )

    assert planned(state(session(1, local(2027, 3, 2, 10)), of=1), timings) == []


def test_a_moved_session_plans_new_keys_and_an_unmoved_one_the_same_keys():
    before = {m.key for m in reminders.plan(state(session(1, local(2027, 3, 2, 10))), Timings(), LONDON)}
    again = {m.key for m in reminders.plan(state(session(1, local(2027, 3, 2, 10))), Timings(), LONDON)}
    moved = {m.key for m in reminders.plan(state(session(1, local(2027, 3, 3, 10))), Timings(), LONDON)}

    assert before == again
    assert before.isdisjoint(moved)


def test_the_reminder_arrives_before_the_cancellation_cutoff_with_a_margin():
    # 2 days before a 10:00 session is exactly the 48-hour cutoff: its "move or cancel" link would
    # already be closed. It goes a day earlier, at the session's time of day.
    at_48 = {k: d for k, n, d in planned(state(session(1, local(2027, 3, 2, 10))), Timings(cancellation_cutoff_hours=48))}
    at_24 = {k: d for k, n, d in planned(state(session(1, local(2027, 3, 2, 10))), Timings(cancellation_cutoff_hours=24))}

    assert at_48["reminder"] == local(2027, 2, 27, 10)
    assert local(2027, 3, 2, 10) - at_48["reminder"] >= timedelta(hours=48) + reminders.REMINDER_CUTOFF_MARGIN
    assert at_24["reminder"] == local(2027, 2, 28, 10)  # 2 days before leaves a day before a 24-hour cutoff


def test_the_reminder_counts_real_hours_to_the_cutoff_across_the_spring_change():
    # Monday 29 March 2027 10:00 BST; 3 local days earlier is only 71 real hours (the clocks went forward).
    timings = Timings(reminder_days_before=2, cancellation_cutoff_hours=60)
    plan = {k: d for k, n, d in planned(state(session(1, local(2027, 3, 29, 10))), timings)}

    assert plan["reminder"] == local(2027, 3, 25, 10)
    assert local(2027, 3, 29, 10) - plan["reminder"] >= timedelta(hours=72)
