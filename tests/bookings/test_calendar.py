"""The month calendar of booking step 1: days, merged times, the series checked behind each time."""

from django.urls import reverse

from bookings import calendar
from tests.bookings.factories import (
    AppointmentFactory,
    PractitionerFactory,
    RoomFactory,
    TimeOffFactory,
    local,
)
from tests.bookings.patient_fixtures import (  # noqa: F401
    NOW,
    SLUG,
    frozen,
    key,
    practitioner,
    time_buttons,
    treatment,
)

START = reverse("bookings:book", kwargs={"slug": SLUG})


def test_a_month_view_checks_every_shown_time_in_at_most_eight_queries(
    client, treatment, practitioner, django_assert_max_num_queries
):
    # The costliest shape: a room to find for every time, two more practitioners, a busy diary, a
    # patient coming back with a session (one more query), and a practitioner filter to read.
    treatment.requires_room = True
    treatment.save()
    RoomFactory(treatments=[treatment])
    others = [PractitionerFactory(treatments=[treatment]) for _ in range(2)]
    for day in range(2, 30):
        AppointmentFactory(practitioner=others[day % 2], start=local(2027, 3, day, 11), end=local(2027, 3, day, 12))
    client.post(START, {"slot": key(local(2027, 3, 2, 10), practitioner)})  # a session exists now

    with django_assert_max_num_queries(8):
        response = client.get(START, {"month": "2027-03", "day": "2027-03-09", "practitioner": practitioner.pk})

    times = [time for period in response.context["cal"]["periods"] for time in period["times"]]
    assert len(times) == 15  # 09:00 to 16:00, each with its series planned behind it
    assert "Tuesday 9 March, 09:00 with Dr Ana Silva" in time_buttons(response.content.decode())


def test_times_are_grouped_by_part_of_the_day(client, practitioner):
    html = client.get(START, {"day": "2027-03-02"}).content.decode()

    morning, afternoon = html.split(">Morning</h3>")[1].split(">Afternoon</h3>")
    assert "11:30" in morning and "12:00" not in morning
    assert "12:00" in afternoon and "16:00" in afternoon
    assert ">Evening</h3>" not in html  # nobody works after 17:00


def test_times_whose_series_cannot_follow_are_left_out_with_a_sentence(client, practitioner):
    # Away for all of session 2's window after any first session on 2 March (30 March to 13 April).
    TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 29), end=local(2027, 4, 14))

    second = client.get(START, {"day": "2027-03-02"}).content.decode()
    third = client.get(START, {"day": "2027-03-03"}).content.decode()

    assert 'name="slot"' not in second
    assert "Not offered on this day: 09:00, 09:30" in second
    assert "the later sessions cannot all be placed 28 to 42 days apart" in second
    assert "Wednesday 3 March, 09:00 with Dr Ana Silva" in time_buttons(third)  # 14 April is free


def test_a_time_left_out_cannot_be_posted(client, practitioner):
    TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 29), end=local(2027, 4, 14))

    response = client.post(START, {"slot": key(local(2027, 3, 2, 10), practitioner)})

    assert response.status_code == 400
    assert "That time is no longer free" in response.content.decode()


def test_the_month_opens_on_the_next_one_when_this_one_has_no_free_day_left(client, practitioner, frozen):
    frozen.move_to(local(2027, 3, 31, 8))  # the last day of March is inside the minimum notice

    html = client.get(START).content.decode()

    assert ">April 2027</h2>" in html and "Thursday 1 April: free times" in html


def test_a_practitioner_filter_keeps_the_day_and_month_in_its_form(client, practitioner, treatment):
    PractitionerFactory(name="Dr Ben Okafor", treatments=[treatment])

    html = client.get(START, {"month": "2027-03", "day": "2027-03-09"}).content.decode()

    assert '<input type="hidden" name="month" value="2027-03">' in html
    assert '<input type="hidden" name="day" value="2027-03-09">' in html
    assert '<option value="">Any practitioner</option>' in html


def test_the_selector_checks_only_the_chosen_day(treatment, practitioner):
    month = calendar.first_session_calendar(treatment=treatment, day=local(2027, 3, 4).date(), now=NOW)

    assert month.day == local(2027, 3, 4).date()
    assert {slot.start.date() for slot in month.day_slots} == {month.day}
    assert all(choice.fits for choice in month.times) and not month.left_out
    assert len(month.free_days) == 22  # the weekdays of March from Tuesday 2 on
