"""The JSON API: availability and booking a series in one request."""

import json

import pytest

from bookings.models import Appointment, Patient, Series, TimeOff
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import AppointmentFactory, PractitionerFactory, local
from tests.bookings.patient_fixtures import SLUG, frozen, practitioner, treatment  # noqa: F401

FIRST = "2027-03-02T10:00:00+00:00"  # 10:00 in London in winter


def body(**changes):
    data = {
        "treatment": SLUG,
        "first_start": FIRST,
        "patient": {"name": "Jo Bloggs", "email": "jo@example.com", "phone": "07700 900123"},
        "answers": {question.key: False for question in QUESTIONS},
        "consent": True,
    }
    data.update(changes)
    return data


def post(client, data, **kwargs):
    payload = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post("/api/series/", payload, content_type="application/json", **kwargs)


def nothing_written():
    return not (Series.objects.exists() or Patient.objects.exists() or Appointment.objects.exists())


def test_availability_lists_slots_with_offsets(client, practitioner):
    response = client.get("/api/availability/", {"treatment": SLUG, "start": "2027-03-02", "days": 1})

    data = response.json()
    assert response.status_code == 200
    assert data["timezone"] == "Europe/London"
    assert data["slots"][0] == {"start": "2027-03-02T09:00:00+00:00", "end": "2027-03-02T10:00:00+00:00",
                                "practitioner": practitioner.pk}
    assert len(data["slots"]) == 15  # 09:00 to 16:00 every half hour


def test_availability_filters_by_practitioner(client, practitioner):
    response = client.get("/api/availability/", {"treatment": SLUG, "start": "2027-03-02",
                                                 "practitioner": practitioner.pk + 1000})

    assert response.status_code == 400
    assert response.json()["errors"] == {"practitioner": ["There is no practitioner with that id."]}


@pytest.mark.parametrize(("query", "field"), [
    ({"start": "2027-03-02"}, "treatment"),
    ({"treatment": "nope", "start": "2027-03-02"}, "treatment"),
    ({"treatment": SLUG}, "start"),
    ({"treatment": SLUG, "start": "02/03/2027"}, "start"),
    ({"treatment": SLUG, "start": "2027-03-02", "days": "0"}, "days"),
    ({"treatment": SLUG, "start": "2027-03-02", "days": "32"}, "days"),
    ({"treatment": SLUG, "start": "2027-03-02", "days": "many"}, "days"),
    ({"treatment": SLUG, "start": "2027-03-02", "practitioner": "x"}, "practitioner"),
    ({"treatment": SLUG, "start": "2027-03-02", "practitioner": "9" * 30}, "practitioner"),
    ({"treatment": SLUG, "start": "9999-12-31", "days": "31"}, "start"),
    ({"treatment": SLUG, "start": "2027-03-02", "practitioner": "{other}"}, "practitioner"),
])
def test_availability_bad_query_is_a_400_per_field(client, practitioner, query, field):
    other = PractitionerFactory(name="Dr Not Trained")  # performs no treatment
    query = {name: value.format(other=other.pk) for name, value in query.items()}

    response = client.get("/api/availability/", query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_booking_a_series_returns_it_with_its_manage_url(client, practitioner):
    response = post(client, body())

    data = response.json()["series"]
    assert response.status_code == 201
    assert [a["start"] for a in data["appointments"]] == [
        "2027-03-02T10:00:00+00:00", "2027-03-30T10:00:00+01:00", "2027-04-27T10:00:00+01:00"]
    assert data["manage_url"].startswith("http://localhost:8000/bookings/manage/")
    assert response["Location"] == data["manage_url"]
    assert data["needs_review"] is False


def test_a_yes_answer_marks_the_api_booking_for_review(client, practitioner):
    response = post(client, body(answers={**body()["answers"], "keloid": True}))

    assert response.json()["series"]["needs_review"] is True


BAD_FIELDS = [
    ({"treatment": "unknown"}, "treatment"),
    ({"treatment": 7}, "treatment"),
    ({"first_start": "tomorrow"}, "first_start"),
    ({"first_start": "2027-03-02T10:00:00"}, "first_start"),  # no offset
    ({"first_start": "2027-02-01T10:00:00+00:00"}, "first_start"),  # past
    ({"first_start": "2027-03-02T21:00:00+00:00"}, "first_start"),  # out of hours
    ({"first_start": "2027-03-02T10:10:00+00:00"}, "first_start"),  # off the grid
    ({"first_start": "2027-09-01T10:00:00+01:00"}, "first_start"),  # beyond the horizon
    ({"first_start": "9999-12-31T10:00:00+00:00"}, "first_start"),
    ({"practitioner": "one"}, "practitioner"),
    ({"practitioner": 99999}, "practitioner"),
    ({"patient": "Jo"}, "patient"),
    ({"patient": {"email": "jo@example.com", "phone": "07700 900123"}}, "patient.name"),
    ({"patient": {"name": "Jo", "email": "nope", "phone": "07700 900123"}}, "patient.email"),
    ({"patient": {"name": "Jo", "email": "jo@example.com", "phone": 7700900123}}, "patient.phone"),
    ({"patient": {"name": "Jo", "email": "jo@example.com", "phone": "abc"}}, "patient.phone"),
    ({"answers": {"pregnant": "no"}}, "answers.pregnant"),
    ({"answers": []}, "answers"),
    ({"answers": {**{q.key: False for q in QUESTIONS}, "extra": False}}, "answers"),
    ({"consent": False}, "consent"),
    ({"consent": "yes"}, "consent"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_FIELDS)
def test_bad_field_is_a_400_naming_it_and_writes_nothing(client, practitioner, changes, field):
    response = post(client, body(**changes))

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert nothing_written()


def test_a_missing_answer_is_a_400(client, practitioner):
    answers = body()["answers"]
    del answers["blood_thinners"]

    response = post(client, body(answers=answers))

    assert response.json()["errors"] == {"answers.blood_thinners": ["Answer true or false."]}


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "null", b"\xff\xfe", "", "[" * 5000 + "]" * 5000])
def test_malformed_json_is_a_400(client, practitioner, raw):
    response = post(client, raw)

    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    assert nothing_written()


def test_an_oversized_body_is_a_413(client, practitioner):
    response = post(client, body(padding="x" * 20_000))

    assert response.status_code == 413
    assert nothing_written()


def test_get_on_the_booking_endpoint_is_refused(client, db):
    assert client.get("/api/series/").status_code == 405


def test_a_taken_first_start_is_a_409_with_alternatives(client, practitioner):
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 2, 10), end=local(2027, 3, 2, 11))

    response = post(client, body())

    data = response.json()
    assert response.status_code == 409
    assert "taken" in data["error"]
    assert data["alternatives"] and all("start" in slot for slot in data["alternatives"])
    assert Series.objects.count() == 1  # the factory's


def test_a_series_that_cannot_be_placed_is_a_409_naming_the_session(client, practitioner):
    # The practitioner is away for the whole of session 2's window (28 to 42 days after 2 March).
    TimeOff.objects.create(practitioner=practitioner, start=local(2027, 3, 29), end=local(2027, 4, 30))

    response = post(client, body())

    data = response.json()
    assert response.status_code == 409
    assert data["session"] == 2
    assert "session 2" in data["error"]
    assert nothing_written()


def test_booking_with_a_practitioner_books_that_practitioner(client, practitioner, treatment):
    other = PractitionerFactory(name="Dr Ben Okafor", treatments=[treatment])

    response = post(client, body(practitioner=other.pk))

    assert response.status_code == 201
    assert {a["practitioner"] for a in response.json()["series"]["appointments"]} == {other.pk}
