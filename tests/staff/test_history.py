"""The clinic-wide history: managers see every change, practitioners their own patients', filters, names."""

from django.urls import reverse

from bookings import services
from tests.bookings.factories import RoomFactory, local, series_slots
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for

URL = "/staff/history/"


def rows(page: str) -> int:
    return page.split("<tbody>")[1].count("<tr>") if "<tbody>" in page else 0


def test_roles_reach_the_history(client, front_desk, manager, ana, series):
    assert client.get(URL).url.startswith(reverse("staff:login"))
    for user, status in ((manager, 200), (ana, 200), (front_desk, 403)):
        client.force_login(user)
        assert client.get(URL).status_code == status, user


def test_a_practitioner_sees_only_their_own_patients_history(client, ana, colleague_series, series):
    client.force_login(ana)

    page = client.get(URL).content.decode()

    assert "Jo Bloggs" in page and "Sam Other" not in page


def test_managers_filter_by_person_patient_date_and_kind(
    client, manager, front_desk, series, colleague_series
):
    services.appointment_cancel(
        appointment=series.appointments.get(session_number=3),
        by=front_desk,
        reason="moving away",
        for_staff=True,
    )
    client.force_login(manager)

    everything = client.get(URL).content.decode()
    assert rows(everything) == 9  # two patients added, their two series of three booked, one cancelled
    assert rows(client.get(URL, {"person": front_desk.pk}).content.decode()) == 1
    assert rows(client.get(URL, {"patient": "sam"}).content.decode()) == 4
    assert rows(client.get(URL, {"kind": "cancelled"}).content.decode()) == 1
    assert rows(client.get(URL, {"since": "2027-03-02"}).content.decode()) == 0
    assert rows(client.get(URL, {"since": "2027-03-01", "until": "2027-03-01"}).content.decode()) == 9
    page = client.get(URL, {"kind": "cancelled"}).content.decode()
    assert "Fran" in page and "moving away" in page


def booked_in_a_room(treatment, practitioner):
    room = RoomFactory(name="Blue room", treatments=[treatment])
    treatment.requires_room = True
    treatment.save()
    series = services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name="Rhea Room", email="rhea@example.com", phone="07700 900111"),
        slots=series_slots(practitioner, local(2027, 3, 9, 10), room=room),
        answers={},
        consent_treatment=True,
        consent_privacy=True,
    )
    return series, room


def test_the_appointment_page_names_the_room(client, front_desk, treatment, practitioner):
    series, room = booked_in_a_room(treatment, practitioner)
    client.force_login(front_desk)

    page = client.get(reverse("staff:appointment", args=[series.appointments.first().pk])).content.decode()

    assert "Room: Blue room" in page and f"Room: {room.pk}<" not in page


def test_rooms_and_practitioners_are_named_not_numbered(client, manager, treatment, practitioner):
    _, room = booked_in_a_room(treatment, practitioner)
    client.force_login(manager)

    page = client.get(URL).content.decode()

    assert "Room: Blue room" in page and "Practitioner: Dr Ana Silva" in page
    assert f"Room: {room.pk}" not in page


def test_bad_filters_say_what_was_wrong_and_still_show_the_page(client, manager, series):
    client.force_login(manager)

    for query, sentence in (
        ({"since": "2026-02-30"}, "Enter the first day as a date like 2027-03-01."),
        ({"until": "soon"}, "Enter the last day as a date like 2027-03-31."),
        ({"since": "2027-03-05", "until": "2027-03-01"}, "The last day must not be before the first day."),
        ({"kind": "exploded"}, "Choose a kind of change from the list."),
        ({"person": "abc"}, "That person is not in the list."),
        ({"since": "9999-01-01"}, "Choose a first day within ten years of today."),
        ({"page": "banana"}, None),
        ({"page": "99999"}, None),
    ):
        response = client.get(URL, query)
        page = response.content.decode()
        if sentence:
            assert response.status_code == 400, query
            assert sentence in page, query
        else:
            assert response.status_code == 200 and rows(page) == 4, query  # patient added, 3 booked


def test_the_history_is_paginated_with_a_query_ceiling(
    client, manager, treatment, practitioner, django_assert_max_num_queries
):
    starts = [local(2027, 3, day, hour) for day in (2, 3, 4, 5, 8, 9) for hour in (9, 11, 14)]
    for n, start in enumerate(starts):  # 18 patients added, 18 series of 3 booked: 72 events
        book_for(treatment, start, practitioner, name=f"P {n}", email=f"p{n}@example.com")
    client.force_login(manager)

    with django_assert_max_num_queries(10):
        first = client.get(URL).content.decode()

    assert rows(first) == 50 and "page 1 of 2" in first
    second = client.get(URL, {"page": 2}).content.decode()
    assert rows(second) == 22
