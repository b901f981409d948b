"""A consultation before the first session (issue 13 §2): booked with the series, atomically, when needed."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from bookings import eligibility_services, services
from bookings.errors import BookingError, Code
from bookings.models import Appointment, Series
from tests.bookings.factories import (
    AppointmentFactory,
    PatientFactory,
    TreatmentFactory,
    local,
    microneedling_clinic,
)
from tests.bookings.test_eligibility_booking import NOW, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    """Microneedling that requires a 30-minute skin consultation at least 3 days before session 1."""
    treatment, (practitioner,), _ = microneedling_clinic()
    consultation = TreatmentFactory(name="Skin consultation", sessions_in_series=1, session_minutes=30)
    practitioner.treatments.add(consultation)
    treatment.prerequisite, treatment.prerequisite_days_before = consultation, 3
    treatment.save()
    return treatment, consultation, practitioner


def test_a_new_patient_gets_the_consultation_first_at_least_the_days_before(clinic):
    treatment, consultation, practitioner = clinic

    series = book(treatment, practitioner, local(2027, 3, 8, 10))

    consult = series.consultation
    visit = consult.appointments.get()
    assert consult.treatment == consultation and consult.patient == series.patient
    # The first free time after the 24 hours' notice (Tuesday 23 Feb 09:00), well before Friday 5 March.
    assert visit.start == local(2027, 2, 23, 9, 0)
    assert visit.end - visit.start == timedelta(minutes=30)


def test_the_consultation_is_placed_no_later_than_the_days_before(clinic):
    treatment, _, practitioner = clinic
    # Session 1 on Monday 1 March: the consultation by Friday 26 Feb; Tuesday 23 Feb is fully booked.
    AppointmentFactory(practitioner=practitioner, start=local(2027, 2, 23, 9), end=local(2027, 2, 23, 17))
    for day in (24, 25, 26):
        AppointmentFactory(practitioner=practitioner, start=local(2027, 2, day, 9), end=local(2027, 2, day, 16, 30))

    series = book(treatment, practitioner, local(2027, 3, 1, 10))

    assert series.consultation.appointments.get().start == local(2027, 2, 24, 16, 30)  # the first free time


def test_a_failure_in_the_series_leaves_no_consultation(clinic, monkeypatch):
    treatment, consultation, practitioner = clinic
    # Session 2's time is taken; with the Python-side check off, the database refuses the series'
    # appointments after the consultation was written in the same transaction.
    AppointmentFactory(practitioner=practitioner, start=local(2027, 4, 5, 10), end=local(2027, 4, 5, 11))
    monkeypatch.setattr(services, "PRECHECK_OVERLAPS", False)
    before = Appointment.objects.count()

    with pytest.raises(BookingError) as refused:
        book(treatment, practitioner, local(2027, 3, 8, 10))

    assert refused.value.code == Code.TAKEN
    assert not Series.objects.filter(treatment=consultation).exists()
    assert Appointment.objects.count() == before


def test_a_returning_patient_with_a_valid_consultation_skips_it(clinic):
    treatment, consultation, practitioner = clinic
    patient = PatientFactory(name="Ada Lovelace", email="ada@example.com")
    AppointmentFactory(practitioner=practitioner, series__patient=patient, series__treatment=consultation,
                       patient=patient, start=local(2027, 1, 5, 10), end=local(2027, 1, 5, 10, 30),
                       status="completed")

    series = book(treatment, practitioner, local(2027, 3, 8, 10), patient=patient)

    assert series.consultation is None
    assert Series.objects.filter(treatment=consultation).count() == 1


def test_an_expired_consultation_does_not_count(clinic):
    treatment, consultation, practitioner = clinic
    patient = PatientFactory()
    AppointmentFactory(practitioner=practitioner, series__patient=patient, series__treatment=consultation,
                       patient=patient, start=local(2026, 6, 1, 10), end=local(2026, 6, 1, 10, 30),
                       status="completed")

    series = book(treatment, practitioner, local(2027, 3, 8, 10), patient=patient, for_staff=True)

    assert series.consultation is not None


def test_staff_can_lift_the_consultation_for_one_patient_with_a_reason(clinic, django_user_model):
    treatment, consultation, practitioner = clinic
    manager = django_user_model.objects.create_superuser("max", "max@example.com", "x")
    patient = PatientFactory()
    eligibility_services.override_grant(patient=patient, treatment=treatment, key="consultation",
                                        reason="Consulted at our other clinic last month.", by=manager)

    series = book(treatment, practitioner, local(2027, 3, 8, 10), patient=patient, for_staff=True)

    assert series.consultation is None and not Series.objects.filter(treatment=consultation).exists()


def test_no_free_consultation_time_is_refused_with_a_sentence(clinic):
    treatment, consultation, practitioner = clinic

    with pytest.raises(BookingError) as refused:
        book(treatment, practitioner, local(2027, 2, 25, 10))  # Thursday: 3 days before is Monday (today)

    assert refused.value.code == Code.CONSULTATION_NEEDED
    assert "starts with a skin consultation at least 3 days before the first session" in refused.value.message
    assert not Series.objects.exists()


def test_the_patient_pages_say_a_consultation_comes_first_and_when_it_is(client, clinic):
    treatment, _, practitioner = clinic
    with time_machine.travel(NOW, tick=False):
        calendar = client.get(reverse("bookings:book", kwargs={"slug": treatment.slug})).content.decode()
        series = book(treatment, practitioner, local(2027, 3, 8, 10))
        session = client.session
        session["booking:done"] = str(series.public_id)
        session.save()
        done = client.get(reverse("bookings:done", kwargs={"slug": treatment.slug})).content.decode()

    assert "New to us? Your first visit is a skin consultation" in calendar
    assert "First, your skin consultation" in done and "Tuesday 23 February 2027, 09:00" in done


def test_step_1_offers_first_sessions_only_where_a_consultation_fits_before(client, clinic):
    """Found walking `make run` as a newcomer: the first time offered (tomorrow) could not have a
    consultation 3 days before it, so the details page refused the booking at its last step."""
    import re

    treatment, consultation, _ = clinic
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("bookings:book", kwargs={"slug": treatment.slug})).content.decode()

    offered = sorted(set(re.findall(r'name="slot" value="(\d{8})', page)))
    # Min notice 24 h from Monday 09:00: a consultation from Tuesday, the first session 3 days later.
    assert offered and offered[0] >= "20270226", offered
    assert "booked with your series at least 3 days before it, so first sessions start from Friday 26 February" in page
