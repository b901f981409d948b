"""Repairing a series: book a cancelled or missed session again inside its window, from staff pages."""

import re

from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.models import Appointment
from tests.bookings.staff_fixtures import *


def cancelled_second(series):
    services.appointment_cancel(appointment=series.appointments.get(session_number=2), for_staff=True)
    return reverse("staff:rebook", args=[series.pk, 2])


def test_the_front_desk_books_a_cancelled_session_again_inside_its_window(client, front_desk, series):
    url = cancelled_second(series)
    client.force_login(front_desk)

    page = client.get(url).content.decode()
    keys = re.findall(r'name="slot" value="([^"]+)"', page)
    assert keys and "Tuesday 6 April" in page  # the one day beside sessions 1 (9 March) and 3 (4 May)
    response = client.post(url, {"slot": keys[0]})

    assert response.url == reverse("staff:patient", args=[series.patient.pk])
    again = series.appointments.get(session_number=2, status=Appointment.Status.BOOKED)
    assert again.audit_events.get().actor == front_desk


def test_bad_or_stale_choices_say_what_was_wrong(client, front_desk, series):
    url = cancelled_second(series)
    client.force_login(front_desk)

    response = client.post(url, {"slot": "20270101T0900-1"})
    assert response.status_code == 400 and "no longer free" in response.content.decode()

    booked = client.get(reverse("staff:rebook", args=[series.pk, 1]))
    assert booked.status_code == 200 and "Session 1 is already booked" in booked.content.decode()

    missing = client.get(reverse("staff:rebook", args=[series.pk, 9]))
    assert missing.status_code == 404 and "This series has no session 9." in missing.content.decode()


def test_who_may_book_again(client, front_desk, manager, ana, colleague, colleague_series):
    url = cancelled_second(colleague_series)
    assert client.get(url).url.startswith(reverse("staff:login"))
    for user, status in ((front_desk, 200), (manager, 200), (ana, 403)):
        client.force_login(user)
        assert client.get(url).status_code == status


def test_booking_again_needs_csrf(front_desk, series):
    url = cancelled_second(series)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(front_desk)

    assert strict.post(url, {"slot": "x"}).status_code == 403
