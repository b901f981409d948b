"""Deactivating a practitioner never makes their booked sessions vanish from the diary.

services.practitioner_deactivate refuses while they have sessions ahead, listing each one to move
first; the admin's practitioner page goes through it. It takes the practitioner's row lock, the
one every booking takes, so a booking racing the deactivation cannot slip in between.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Appointment, Practitioner
from bookings.services import BookingError, PatientDetails
from tests.bookings.factories import local, microneedling_clinic, series_slots, slot
from tests.bookings.threads import race

NOW = local(2027, 2, 22, 9)
FIRST = local(2027, 3, 1, 10)


def book(treatment, slots, name="Ada Lovelace"):
    return services.series_book(
        treatment=treatment,
        patient=PatientDetails(name=name, email="ada@example.com", phone="07700 900123"),
        slots=slots,
        answers={},
        consent_treatment=True,
        consent_privacy=True,
        now=NOW,
    )


@pytest.mark.django_db
def test_a_practitioner_with_sessions_ahead_is_not_deactivated_and_each_is_listed():
    treatment, (practitioner,), _ = microneedling_clinic()
    book(treatment, series_slots(practitioner, FIRST))

    with pytest.raises(BookingError) as refused:
        services.practitioner_deactivate(practitioner=practitioner, now=NOW)

    assert refused.value.code == "has_bookings"
    assert "3 sessions ahead" in refused.value.message
    assert "Ada Lovelace" in refused.value.message and "Mon 1 Mar 2027 10:00" in refused.value.message
    assert len(refused.value.appointments) == 3
    practitioner.refresh_from_db()
    assert practitioner.is_active


@pytest.mark.django_db
def test_a_practitioner_whose_sessions_are_all_behind_or_cancelled_is_deactivated():
    treatment, (practitioner,), _ = microneedling_clinic()
    series = book(treatment, series_slots(practitioner, FIRST))
    services.series_cancel_remaining(series=series, from_session=2, now=NOW)

    services.practitioner_deactivate(practitioner=practitioner, now=FIRST + timedelta(hours=2))

    practitioner.refresh_from_db()
    assert not practitioner.is_active


def admin_form(practitioner, **changes) -> dict:
    """The admin change form as posted, its inlines unchanged."""
    hours = list(practitioner.working_hours.all())
    data = {
        "name": practitioner.name,
        "user": "",
        "treatments": [treatment.pk for treatment in practitioner.treatments.all()],
        "working_hours-TOTAL_FORMS": len(hours),
        "working_hours-INITIAL_FORMS": len(hours),
        "working_hours-MIN_NUM_FORMS": 0,
        "working_hours-MAX_NUM_FORMS": 1000,
        "time_off-TOTAL_FORMS": 0,
        "time_off-INITIAL_FORMS": 0,
        "time_off-MIN_NUM_FORMS": 0,
        "time_off-MAX_NUM_FORMS": 1000,
        **changes,
    }
    for index, block in enumerate(hours):
        data.update({
            f"working_hours-{index}-id": block.pk,
            f"working_hours-{index}-practitioner": practitioner.pk,
            f"working_hours-{index}-weekday": block.weekday,
            f"working_hours-{index}-start": block.start.strftime("%H:%M"),
            f"working_hours-{index}-end": block.end.strftime("%H:%M"),
        })  # fmt: skip
    return data


@pytest.mark.django_db
def test_unticking_active_in_the_admin_is_refused_with_the_sessions_to_move(admin_client):
    treatment, (practitioner,), _ = microneedling_clinic()
    book(treatment, series_slots(practitioner, FIRST))  # ahead of the real clock too
    url = reverse("admin:bookings_practitioner_change", args=[practitioner.pk])

    response = admin_client.post(url, admin_form(practitioner))  # is_active left out: unticked

    assert response.status_code == 200
    page = response.content.decode()
    assert "3 sessions ahead" in page and "Ada Lovelace" in page
    practitioner.refresh_from_db()
    assert practitioner.is_active


@pytest.mark.django_db
def test_unticking_active_in_the_admin_deactivates_a_practitioner_with_nothing_ahead(admin_client):
    _treatment, (practitioner,), _ = microneedling_clinic()
    url = reverse("admin:bookings_practitioner_change", args=[practitioner.pk])

    response = admin_client.post(url, admin_form(practitioner, name="Renamed"))

    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert (practitioner.name, practitioner.is_active) == ("Renamed", False)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_booking_racing_the_deactivation_never_leaves_a_session_with_an_inactive_practitioner():
    treatment, (practitioner,), _ = microneedling_clinic(sessions=1)
    booking, deactivation = race([
        lambda: book(treatment, [slot(FIRST, practitioner)]),
        lambda: services.practitioner_deactivate(practitioner=practitioner, now=NOW),
    ])  # fmt: skip
    outcomes = {"book": booking, "off": deactivation}

    assert not isinstance(booking, Exception) or isinstance(booking, BookingError), outcomes
    assert not isinstance(deactivation, Exception) or isinstance(deactivation, BookingError), outcomes
    inactive = not Practitioner.objects.get(pk=practitioner.pk).is_active
    booked = Appointment.objects.active().filter(practitioner=practitioner).exists()
    assert not (inactive and booked), outcomes
    assert inactive or booked, outcomes  # one of them went through
