"""The staff diary: the day (every practitioner) and the week (one practitioner), at a fixed query cost."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import Appointment
from tests.bookings.factories import (
    AppointmentFactory,
    PractitionerFactory,
    SeriesFactory,
    TimeOffFactory,
    TreatmentFactory,
)
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for, local

DAY = reverse("staff:day")
WEEK = reverse("staff:week")


def test_day_view_shows_each_practitioner_and_each_appointment_block(
    client, front_desk, series, colleague_series
):
    client.force_login(front_desk)

    response = client.get(DAY, {"date": "2027-03-09"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Tuesday 9 March 2027" in page
    assert "Dr Ana Silva" in page and "Dr Ben Okafor" in page
    assert "Jo Bloggs" in page and "Sam Other" in page
    assert "10:00–11:00" in page and "11:00–12:00" in page
    assert "Microneedling · session 1 of 3" in page
    assert "Review needed" not in page


def test_day_view_places_blocks_on_the_local_clock_after_the_spring_change(client, front_desk, series):
    client.force_login(front_desk)  # session 2: Tuesday 6 April 2027, 10:00 BST (09:00 UTC)

    page = client.get(DAY, {"date": "2027-04-06"}).content.decode()

    assert "10:00–11:00" in page
    assert 'style="--from: 60; --span: 60"' in page  # an hour below the 09:00 top of the grid


def test_day_view_flags_sessions_waiting_for_a_review(client, front_desk, treatment, colleague):
    client.force_login(front_desk)
    book_for(treatment, local(2027, 3, 9, 14), colleague, flagged=["pregnant"])

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert "Review needed" in page
    assert "needs-review" in page
    assert "Booked: <strong>1</strong> · Review needed: <strong>1</strong>" in page


def test_day_view_defaults_to_today_and_moves_day_by_day(client, front_desk, series):
    client.force_login(front_desk)

    page = client.get(DAY).content.decode()

    assert "Monday 1 March 2027" in page and "Today" in page
    assert 'href="?date=2027-02-28"' in page and 'href="?date=2027-03-02"' in page


@pytest.mark.parametrize("bad", ["yesterday", "2027-02-30", "9999-99-99", "", "9999-12-31", "0001-01-01"])
def test_day_view_falls_back_to_today_on_a_bad_date(client, front_desk, frozen, bad):
    client.force_login(front_desk)

    response = client.get(DAY, {"date": bad})

    assert response.status_code == 200
    assert "Monday 1 March 2027" in response.content.decode()


def test_day_view_lists_cancelled_sessions_below_the_grid_not_in_it(client, front_desk, series):
    client.force_login(front_desk)
    first = series.appointments.get(session_number=1)
    client.post(reverse("staff:cancel", args=[first.pk]), {"reason": "Patient has flu"})

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert "Cancelled and no-shows" in page
    assert "Patient has flu" in page
    assert "diary-block status-booked" not in page


def test_day_view_shows_time_off(client, front_desk, practitioner):
    client.force_login(front_desk)
    TimeOffFactory(
        practitioner=practitioner, start=local(2027, 3, 9, 13), end=local(2027, 3, 9, 15), reason="Training"
    )

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert "Time off: Training" in page
    assert 'style="--from: 240; --span: 120"' in page


def test_day_view_shows_new_working_hours_at_once(client, manager, practitioner):
    client.force_login(manager)
    practitioner.working_hours.filter(weekday=1).update(start="07:00")

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert 'style="--from: 0; --span: 600"' in page  # 07:00 to 17:00
    assert ">07:00<" in page


def test_practitioner_sees_only_their_own_column(client, ana, series, colleague_series):
    client.force_login(ana)

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert "Jo Bloggs" in page
    assert "Sam Other" not in page and "Dr Ben Okafor" not in page


def test_week_view_shows_one_practitioners_week(client, front_desk, series, colleague):
    client.force_login(front_desk)

    response = client.get(
        WEEK, {"practitioner": series.appointments.first().practitioner_id, "date": "2027-03-10"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Dr Ana Silva: 8 Mar – 14 Mar 2027" in page
    assert "Tue 9 Mar" in page and "Sun 14 Mar" in page
    assert "Jo Bloggs" in page


@pytest.mark.parametrize("bad", ["9999-12-31", "0001-01-01", "nonsense"])
def test_week_view_falls_back_to_this_week_on_a_bad_date(client, front_desk, practitioner, bad):
    client.force_login(front_desk)

    response = client.get(WEEK, {"date": bad, "practitioner": "x"})

    assert response.status_code == 200
    assert "1 Mar – 7 Mar 2027" in response.content.decode()


def test_week_view_ignores_a_practitioner_the_user_may_not_see(client, ana, colleague_series, colleague):
    client.force_login(ana)

    page = client.get(WEEK, {"practitioner": colleague.pk, "date": "2027-03-09"}).content.decode()

    assert "Dr Ana Silva" in page
    assert "Sam Other" not in page


def test_staff_pages_link_a_print_stylesheet_and_ask_not_to_be_indexed(client, front_desk, frozen):
    client.force_login(front_desk)

    page = client.get(DAY).content.decode()

    assert "css/staff.css" in page
    assert 'name="robots" content="noindex, nofollow"' in page


def test_day_view_with_five_practitioners_and_200_appointments_costs_at_most_8_queries(
    client, front_desk, frozen, django_assert_max_num_queries
):
    treatment = TreatmentFactory(sessions_in_series=40)
    day_start = local(2027, 3, 9, 9)
    for _ in range(5):
        practitioner = PractitionerFactory(treatments=[treatment], hours=[(1, "09:00", "19:00")])
        series = SeriesFactory(treatment=treatment)
        for n in range(40):  # 15-minute sessions back to back: 40 per column
            start = day_start + timedelta(minutes=15 * n)
            AppointmentFactory(
                series=series,
                practitioner=practitioner,
                session_number=n + 1,
                start=start,
                end=start + timedelta(minutes=15),
            )
    assert Appointment.objects.count() == 200
    client.force_login(front_desk)

    with django_assert_max_num_queries(8):
        response = client.get(DAY, {"date": "2027-03-09"})

    assert response.content.decode().count("diary-block status-booked") == 200
