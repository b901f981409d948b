"""The waitlist at the front desk: the worklist lists who waits and the open offers; staff offer by hand."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services, waitlist_services
from bookings.models import Offer
from tests.bookings.factories import local
from tests.bookings.staff_fixtures import front_desk, staff_user  # noqa: F401
from tests.bookings.waitlist_fixtures import (  # noqa: F401
    FREED_AT,
    frozen,
    jo,
    jo_waiting,
    practitioner,
    sam,
    treatment,
)

URL = reverse("staff:worklist")


def test_the_worklist_lists_the_waitlist_and_an_open_offer(client, front_desk, jo_waiting, sam,
                                                           django_capture_on_commit_callbacks):
    client.force_login(front_desk)
    html = client.get(URL).content.decode()
    assert "Waitlist: patients waiting for a sooner time (1)" in html
    assert "Jo Bloggs" in html and "now Tue 20 Apr, 10:00" in html and "any day; morning" in html
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment=sam.appointments.get(session_number=1))
    html = client.get(URL).content.decode()
    assert "Waitlist offers open (1)" in html
    assert "session 2 Tue 6 Apr, 10:00" in html and "Mon 1 Mar, 10:00" in html
    assert "Nobody is waiting for a sooner time." in html


def test_the_front_desk_offers_a_time_by_hand_and_can_withdraw_it(client, front_desk, jo_waiting, practitioner,
                                                                  mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(front_desk)
    url = reverse("staff:waitlist_offer", args=[jo_waiting.pk])
    page = client.get(url)
    assert page.status_code == 200 and "now booked for Tuesday 20 April 2027, 10:00" in page.content.decode()
    refused = client.post(url, {"day": "2027-03-30", "start": "10:00", "practitioner": practitioner.pk})
    assert refused.status_code == 409 and "spacing window" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"day": "2027-04-13", "start": "10:00", "practitioner": practitioner.pk})
    assert response.status_code == 302
    offer = Offer.objects.get(entry=jo_waiting)
    assert offer.created_by == front_desk and offer.holds.get(session_number=2).start == local(2027, 4, 13, 10)
    assert any("sooner time" in mail.subject for mail in mailoutbox)
    client.post(reverse("staff:waitlist_release", args=[offer.pk]))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.RELEASED and not offer.holds.exists()


def test_bad_input_is_a_sentence_not_a_500(client, front_desk, jo_waiting, practitioner):
    client.force_login(front_desk)
    url = reverse("staff:waitlist_offer", args=[jo_waiting.pk])
    response = client.post(url, {"day": "not a day", "start": "25:99", "practitioner": "x"})
    assert response.status_code == 400


def test_a_practitioner_without_the_role_cannot_offer(client, jo_waiting, practitioner):
    user = staff_user("pia", "Practitioner")
    client.force_login(user)
    assert client.get(reverse("staff:waitlist_offer", args=[jo_waiting.pk])).status_code == 403


@pytest.mark.parametrize("waiting", [0, 8])
def test_the_worklist_waitlist_costs_a_fixed_number_of_queries(
    client, front_desk, treatment, practitioner, django_assert_max_num_queries, waiting
):
    from tests.bookings.waitlist_fixtures import book_at

    for index in range(waiting):
        start = local(2027, 3, 8 + index % 5, 9 + index)
        starts = [start, start + timedelta(days=42), start + timedelta(days=84)]
        series = book_at(treatment, practitioner, starts, name=f"P{index}", email=f"p{index}@example.com")
        waitlist_services.entry_join(series=series, number=2, weekdays=[], parts=[])
    client.force_login(front_desk)
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.content.decode().count("Offer a time</a>") == waiting


def test_the_diary_lists_a_hold_as_held_not_as_a_session(client, front_desk, jo_waiting, sam,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment=sam.appointments.get(session_number=1))
    client.force_login(front_desk)
    html = client.get(reverse("staff:day"), {"date": "2027-04-06"}).content.decode()
    assert "Held for waitlist offers" in html
    assert "10:00–11:00" in html and "held for Jo Bloggs (session 2) until 10:00" in html
