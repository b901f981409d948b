"""The manage link: timeline, moving one session (with or without a cascade), cancelling, refusals."""

import re

import pytest
from icalendar import Calendar

from bookings.models import Appointment
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import (  # noqa: F401
    frozen,
    key,
    manage_url,
    practitioner,
    series,
    time_buttons,
    treatment,
)


def starts(series):
    return [a.start for a in series.appointments.active().order_by("session_number")]


def move(client, manage_url, number, start, practitioner, **extra):
    return client.post(f"{manage_url}sessions/{number}/move/", {"slot": key(start, practitioner), **extra})


def confirm(client, manage_url, number, start, practitioner):
    page = move(client, manage_url, number, start, practitioner).content.decode()
    fingerprint = re.search(r'name="confirm" value="([^"]+)"', page).group(1)
    return move(client, manage_url, number, start, practitioner, confirm=fingerprint)


def test_manage_page_shows_the_series_as_a_timeline(client, manage_url):
    html = client.get(manage_url).content.decode()

    assert "Tuesday 9 March 2027, 10:00" in html
    assert "Tuesday 6 April 2027, 10:00" in html  # summer time, still 10:00 local
    assert "Move session 2" in html and "Cancel session 3" in html
    assert "calendar.ics" in html
    assert 'name="robots" content="noindex"' in html


@pytest.mark.parametrize("token", ["nonsense", "0" * 32, "0" * 32 + ":forged-signature"])
def test_a_tampered_link_shows_a_friendly_page_with_the_phone(client, series, manage_url, token):
    tampered = manage_url.replace(manage_url.split("/")[3], token)

    response = client.get(tampered)

    assert response.status_code == 404
    assert "This booking link does not work" in response.content.decode()
    assert "+44 20 7946 0321" in response.content.decode()


def test_a_link_signed_for_another_purpose_is_refused(client, series):
    from django.core import signing

    other = signing.Signer(salt="something-else").sign(series.public_id.hex)

    assert client.get(f"/bookings/manage/{other}/").status_code == 404


def test_calendar_download_has_one_event_per_session(client, series, manage_url):
    response = client.get(f"{manage_url}calendar.ics")

    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    assert [event.decoded("dtstart") for event in events] == starts(series)


def test_move_page_offers_the_window_day_by_day_and_names_the_sessions_a_time_moves(client, manage_url):
    page = f"{manage_url}sessions/2/move/"

    first_day = client.get(page).content.decode()  # session 1 is on 9 March: the window opens on 6 April
    pushing = client.get(page, {"month": "2027-04", "day": "2027-04-13"}).content.decode()
    too_soon = client.get(page, {"month": "2027-04", "day": "2027-04-05"}).content.decode()

    assert "Move to Tuesday 6 April, 14:00 with Dr Ana Silva" in time_buttons(first_day)
    assert "Tuesday 20 April: free times" in first_day and "Wednesday 21 April: free times" not in first_day
    assert "Move to Tuesday 13 April, 10:00 with Dr Ana Silva" in time_buttons(pushing)
    button = pushing.split("Tuesday 13 April, </span>10:00")[1][:600]
    assert '<span class="visually-hidden">session 3 moves to Tuesday 11 May, 10:00 with Dr Ana Silva' in button
    assert "Session 3 moves too at every time on this day." in pushing
    assert "Monday 5 April: free times" not in too_soon and "Move to Monday 5 April" not in too_soon


def test_moving_one_session_asks_to_check_then_moves_it(client, series, manage_url, practitioner,
                                                         django_capture_on_commit_callbacks, mailoutbox):
    check = move(client, manage_url, 2, local(2027, 4, 6, 14), practitioner)
    assert "Check the change" in check.content.decode()
    assert starts(series)[1] == local(2027, 4, 6, 10)  # nothing moved yet

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, manage_url, 2, local(2027, 4, 6, 14), practitioner)

    assert response.url == manage_url
    assert starts(series) == [local(2027, 3, 9, 10), local(2027, 4, 6, 14), local(2027, 5, 4, 10)]
    assert len(mailoutbox) == 1 and "moved" in mailoutbox[0].subject
    assert "we moved session 2" in client.get(manage_url).content.decode()


def test_moving_past_the_next_window_proposes_and_moves_later_sessions_together(client, series, manage_url,
                                                                              practitioner):
    check = move(client, manage_url, 2, local(2027, 4, 13, 10), practitioner).content.decode()
    assert "Move these 2 sessions" in check
    assert "Tuesday 11 May, 10:00 with Dr Ana Silva" in check

    confirm(client, manage_url, 2, local(2027, 4, 13, 10), practitioner)

    assert starts(series) == [local(2027, 3, 9, 10), local(2027, 4, 13, 10), local(2027, 5, 11, 10)]


def test_a_plan_that_changed_before_confirming_is_shown_again_and_nothing_moves(client, series, manage_url,
                                                                             practitioner):
    response = move(client, manage_url, 2, local(2027, 4, 13, 10), practitioner, confirm="2:stale")

    assert response.status_code == 409
    assert "changed while you were deciding" in response.content.decode()
    assert starts(series)[1] == local(2027, 4, 6, 10)


def test_moving_to_a_time_not_offered_is_refused(client, series, manage_url, practitioner):
    response = move(client, manage_url, 2, local(2027, 3, 20, 10), practitioner)

    assert response.status_code == 400
    assert "That time is no longer free" in response.content.decode()
    assert starts(series)[1] == local(2027, 4, 6, 10)


def test_cancelling_one_session(client, series, manage_url, django_capture_on_commit_callbacks, mailoutbox):
    assert "Cancel session 2?" in client.get(f"{manage_url}sessions/2/cancel/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{manage_url}sessions/2/cancel/")

    assert response.url == manage_url
    assert series.appointments.get(session_number=2).status == Appointment.Status.CANCELLED
    assert starts(series) == [local(2027, 3, 9, 10), local(2027, 5, 4, 10)]
    assert len(mailoutbox) == 1 and "cancelled" in mailoutbox[0].subject


def test_cancelling_the_rest_of_the_series(client, series, manage_url):
    client.post(f"{manage_url}sessions/2/cancel-rest/")

    assert starts(series) == [local(2027, 3, 9, 10)]
    html = client.get(manage_url).content.decode()
    assert html.count("Cancelled</span>") == 2


def test_inside_the_cutoff_the_patient_is_told_to_call(client, series, manage_url, frozen):
    frozen.move_to(local(2027, 3, 8, 12))  # 22 hours before session 1

    page = client.get(manage_url).content.decode()
    move_page = client.get(f"{manage_url}sessions/1/move/")
    cancel = client.post(f"{manage_url}sessions/1/cancel/")

    assert "please call the clinic" in page and "Move session 1" not in page
    assert move_page.status_code == 409 and "+44 20 7946 0321" in move_page.content.decode()
    assert cancel.status_code == 409
    assert series.appointments.get(session_number=1).status == Appointment.Status.BOOKED


def test_an_unknown_session_number_goes_back_to_the_series(client, series, manage_url):
    response = client.get(f"{manage_url}sessions/9/move/")

    assert response.url == manage_url


def test_move_page_does_not_offer_the_current_time(client, manage_url):
    names = time_buttons(client.get(f"{manage_url}sessions/2/move/").content.decode())

    assert "Move to Tuesday 6 April, 10:00 with Dr Ana Silva" not in names
    assert "Move to Tuesday 6 April, 10:30 with Dr Ana Silva" in names


def test_a_time_taken_before_confirming_shows_fresh_times_and_moves_nothing(client, series, manage_url,
                                                                          practitioner):
    from tests.bookings.factories import AppointmentFactory

    move(client, manage_url, 2, local(2027, 4, 6, 14), practitioner)
    AppointmentFactory(practitioner=practitioner, session_number=1,
                       start=local(2027, 4, 6, 14), end=local(2027, 4, 6, 15))

    response = move(client, manage_url, 2, local(2027, 4, 6, 14), practitioner, confirm="2:whatever")

    html = response.content.decode()
    names = time_buttons(html)
    assert response.status_code == 400
    assert "That time is no longer free" in html
    assert "Move to Tuesday 6 April, 14:00 with Dr Ana Silva" not in names
    assert "Move to Tuesday 6 April, 15:00 with Dr Ana Silva" in names
    assert starts(series)[1] == local(2027, 4, 6, 10)
