"""Reads: free slots, series plans, session options and reschedule plans from the database."""

from datetime import date, timedelta

import pytest

from bookings import selectors
from bookings.errors import BookingError
from bookings.models import Appointment
from tests.bookings.factories import (
    AppointmentFactory,
    TimeOffFactory,
    local,
    microneedling_clinic,
    series_slots,
    slot,
)

pytestmark = pytest.mark.django_db

NOW = local(2027, 2, 22, 9)  # a Monday
MONDAY = date(2027, 3, 1)


def starts_on(slots, day: date) -> list[str]:
    return [f"{s.start:%H:%M}" for s in slots if s.start.date() == day]


def test_available_slots_use_at_most_five_queries(django_assert_max_num_queries):
    treatment, staff, rooms = microneedling_clinic(practitioners=5, rooms=2)
    for practitioner in staff:
        AppointmentFactory(
            practitioner=practitioner, room=rooms[0], start=local(2027, 3, 2, 10 + staff.index(practitioner))
        )
        TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 5, 9), end=local(2027, 3, 6, 9))

    with django_assert_max_num_queries(5):
        slots = selectors.available_slots(treatment=treatment, start_date=MONDAY, days=14, now=NOW)

    assert len({s.practitioner_id for s in slots}) == 5
    assert all(s.room_id in {rooms[0].pk, rooms[1].pk} for s in slots)


def test_booked_time_is_not_offered():
    treatment, (practitioner,), _ = microneedling_clinic()
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 1, 10))

    slots = selectors.available_slots(treatment=treatment, start_date=MONDAY, days=1, now=NOW)

    assert "09:30" not in starts_on(slots, MONDAY) and "10:30" not in starts_on(slots, MONDAY)
    assert "09:00" in starts_on(slots, MONDAY) and "11:00" in starts_on(slots, MONDAY)


@pytest.mark.parametrize("status", [Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED])
def test_no_show_and_cancelled_appointments_free_their_time(status):
    treatment, (practitioner,), _ = microneedling_clinic()
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 1, 10), status=status)

    slots = selectors.available_slots(treatment=treatment, start_date=MONDAY, days=1, now=NOW)

    assert "10:00" in starts_on(slots, MONDAY)


def test_appointments_of_another_practitioner_do_not_block():
    treatment, (mine, other), _ = microneedling_clinic(practitioners=2)
    AppointmentFactory(practitioner=other, start=local(2027, 3, 1, 10))

    slots = selectors.available_slots(
        treatment=treatment, start_date=MONDAY, days=1, practitioner=mine, now=NOW
    )

    assert {s.practitioner_id for s in slots} == {mine.pk}
    assert "10:00" in starts_on(slots, MONDAY)


def test_a_busy_room_blocks_every_practitioner_needing_it():
    treatment, staff, (room,) = microneedling_clinic(practitioners=2, rooms=1)
    AppointmentFactory(practitioner=staff[0], room=room, start=local(2027, 3, 1, 10))

    slots = selectors.available_slots(treatment=treatment, start_date=MONDAY, days=1, now=NOW)

    assert [s for s in slots if s.start == local(2027, 3, 1, 10)] == []


def test_patients_need_notice_but_staff_may_book_today():
    treatment, _, _ = microneedling_clinic()
    today = NOW.date()

    patient = selectors.available_slots(treatment=treatment, start_date=today, days=1, now=NOW)
    staff = selectors.available_slots(treatment=treatment, start_date=today, days=1, now=NOW, for_staff=True)

    assert patient == []
    assert starts_on(staff, today)[0] == "09:00"


def test_practitioner_not_performing_the_treatment_is_never_offered():
    treatment, _, _ = microneedling_clinic()
    _other_treatment, (outsider,), _ = microneedling_clinic()

    slots = selectors.available_slots(treatment=treatment, start_date=MONDAY, days=1, now=NOW)

    assert outsider.pk not in {s.practitioner_id for s in slots}


def test_series_plan_places_every_session():
    treatment, (practitioner,), _ = microneedling_clinic(sessions=4)
    first = slot(local(2027, 3, 1, 10), practitioner)

    plan = selectors.series_plan(treatment=treatment, first=first, now=NOW)

    assert plan.is_complete
    assert [s.slot.start for s in plan.sessions] == [
        s.start for s in series_slots(practitioner, first.start, 4)
    ]


def test_series_plan_explains_a_first_slot_that_was_taken():
    treatment, (practitioner,), _ = microneedling_clinic()
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 1, 10))

    plan = selectors.series_plan(
        treatment=treatment, first=slot(local(2027, 3, 1, 10), practitioner), now=NOW
    )

    assert not plan.is_complete
    assert plan.sessions[0].problem.startswith("That time was just taken")
    assert plan.sessions[0].alternatives


def test_session_options_keep_the_spacing_with_both_neighbours():
    treatment, (practitioner,), _ = microneedling_clinic()
    _first, second, _third = _book(treatment, practitioner, local(2027, 3, 1, 10), gaps=(28, 30))

    options = selectors.session_options(appointment=second, now=NOW)

    # 28–42 days after 1 March, and 28–42 days before 28 April: 29 to 31 March.
    assert sorted({s.start.date() for s in options}) == [
        date(2027, 3, 29),
        date(2027, 3, 30),
        date(2027, 3, 31),
    ]
    # Its own current time is an option (it does not block itself).
    assert local(2027, 3, 29, 10) in {s.start for s in options}


def test_reschedule_plan_pushes_a_later_session_that_falls_out_of_its_window():
    treatment, (practitioner,), _ = microneedling_clinic()
    _first, second, _third = _book(treatment, practitioner, local(2027, 3, 1, 10), gaps=(28, 28))

    plan = selectors.reschedule_plan(
        appointment=second, new=slot(local(2027, 4, 12, 10), practitioner), now=NOW
    )

    assert [(appointment.session_number, new.start) for appointment, new in plan] == [
        (2, local(2027, 4, 12, 10)),
        (3, local(2027, 5, 10, 10)),
    ]


def test_reschedule_plan_refuses_a_move_too_close_to_the_previous_session():
    treatment, (practitioner,), _ = microneedling_clinic()
    _first, second, _third = _book(treatment, practitioner, local(2027, 3, 1, 10), gaps=(28, 28))

    with pytest.raises(BookingError, match="Session 2 must be 28 to 42 days after session 1"):
        selectors.reschedule_plan(appointment=second, new=slot(local(2027, 3, 22, 10), practitioner), now=NOW)


def test_reschedule_plan_refuses_inside_the_cancellation_cutoff_for_patients():
    treatment, (practitioner,), _ = microneedling_clinic()
    first, *_ = _book(treatment, practitioner, local(2027, 3, 1, 10), gaps=(28, 28))

    with pytest.raises(BookingError, match="call the clinic"):
        selectors.reschedule_plan(
            appointment=first, new=slot(local(2027, 3, 2, 10), practitioner), now=local(2027, 2, 28, 12)
        )


def _book(treatment, practitioner, start, gaps):
    from tests.bookings.factories import SeriesFactory

    series = SeriesFactory(treatment=treatment)
    starts = [start, start + timedelta(days=gaps[0]), start + timedelta(days=gaps[0] + gaps[1])]
    return [
        AppointmentFactory(series=series, session_number=n, practitioner=practitioner, start=when)
        for n, when in enumerate(starts, start=1)
    ]
