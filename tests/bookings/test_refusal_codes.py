"""Refusals carry a code for callers and a sentence for people; the API decides 400 or 409 by code."""

import pytest

from bookings import selectors, services
from bookings.errors import BookingError, Code, Problem, SlotTaken
from bookings.models import Appointment
from tests.bookings.factories import AppointmentFactory, local, microneedling_clinic, series_slots, slot
from tests.bookings.patient_fixtures import frozen, practitioner, treatment  # noqa: F401
from tests.bookings.test_api import body, post
from tests.bookings.test_services import FIRST, NOW, book, booked_series

pytestmark = pytest.mark.django_db

NOON = local(2027, 2, 22, 12)


def test_a_plain_sentence_is_still_a_refusal_with_the_default_code():
    assert (BookingError("No.").code, BookingError("No.").message) == ("refused", "No.")
    keyword = BookingError(code="taken", message="Gone.")
    assert (keyword.code, keyword.message, str(keyword)) == ("taken", "Gone.", "Gone.")
    assert BookingError(Problem(Code.TOO_SOON, "Too soon.")).code == "too_soon"
    assert SlotTaken("Gone.").code == Code.TAKEN and SlotTaken("Gone.").is_conflict
    assert not BookingError("No.").is_conflict


def _refusal(call) -> BookingError:
    with pytest.raises(BookingError) as refused:
        call()
    return refused.value


@pytest.mark.parametrize(
    ("code", "booking"),
    [
        ("consent", lambda p: {"slots": series_slots(p, FIRST), "consent_privacy": False}),
        ("invalid", lambda p: {"slots": series_slots(p, FIRST, sessions=2)}),
        ("outside_rules", lambda p: {"slots": series_slots(p, FIRST, days=21)}),
        ("outside_rules", lambda p: {"slots": series_slots(p, local(2027, 3, 1, 16, 30))}),
        ("too_soon", lambda p: {"slots": series_slots(p, local(2027, 2, 23, 9)), "now": NOON}),
        ("too_far", lambda p: {"slots": series_slots(p, local(2027, 6, 7, 10))}),
        ("not_offered", lambda p: {"slots": series_slots(p, local(2027, 3, 1, 10, 10))}),
    ],
)
def test_each_booking_refusal_names_its_code(code, booking):
    treatment, (practitioner,), _ = microneedling_clinic()

    refusal = _refusal(lambda: book(treatment, **booking(practitioner)))

    assert refusal.code == code and refusal.message


def test_a_taken_time_is_a_conflict():
    treatment, (practitioner,), _ = microneedling_clinic()
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 29, 10, 30))

    refusal = _refusal(lambda: book(treatment, slots=series_slots(practitioner, FIRST)))

    assert refusal.code == "taken" and refusal.is_conflict


def test_changing_refusals_name_their_codes():
    series, practitioner, (first, second, _third) = booked_series()

    inside_cutoff = local(2027, 2, 28, 12)
    refusal = _refusal(lambda: services.appointment_cancel(appointment=first, now=inside_cutoff))
    assert refusal.code == "too_late"
    services.appointment_cancel(appointment=first, now=NOW)
    assert _refusal(lambda: services.appointment_cancel(appointment=first, now=NOW)).code == "not_changeable"
    assert _refusal(
        lambda: services.appointments_reschedule(
            moves=[(second, slot(local(2027, 4, 12, 10), practitioner))], now=NOW
        )
    ).code == "outside_rules"
    assert _refusal(
        lambda: services.appointment_mark(appointment=second, status=Appointment.Status.NO_SHOW, now=NOW)
    ).code == "too_early"  # the status clock (availability.status_window_problem)
    # `first` is the caller's older copy: cancelled meanwhile, it is refused (no KeyError, no 500).
    new = slot(local(2027, 3, 2, 10), practitioner)
    refusal = _refusal(lambda: selectors.reschedule_plan(appointment=first, new=new, now=NOW))
    assert refusal.code == "not_changeable"


# --- The API decides by code ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [("busy", 409), ("changed", 409), ("no_free_time", 409), ("outside_rules", 400), ("refused", 400)],
)
def test_the_api_answers_by_code_not_by_sentence(client, practitioner, monkeypatch, code, status):
    # The same sentence each time (the one the API used to compare against): only the code differs.
    def refuse(**kwargs):
        raise BookingError("That time was just taken. Please choose another time.", code=code)

    monkeypatch.setattr(services, "series_book", refuse)

    response = post(client, body())

    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_a_first_start_inside_the_notice_is_a_400_with_its_code(client, practitioner):
    response = post(client, body(first_start="2027-03-01T15:00:00+00:00"))  # 7 hours ahead

    assert response.status_code == 400
    assert response.json()["code"] == "too_soon"
    assert "too soon" in response.json()["errors"]["first_start"][0]


def test_a_taken_first_start_is_a_409_with_its_code(client, practitioner):
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 2, 10), end=local(2027, 3, 2, 11))

    response = post(client, body())

    assert response.status_code == 409
    assert response.json()["code"] == "taken"
