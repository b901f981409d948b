"""In Chromium: a patient books a cancelled session again from the manage link, on axe-clean pages.

Runs on the real clock (see test_booking_journey.py): the practitioner works every day.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings import services
from bookings.models import Appointment
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_path
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules, slot
from tests.browser.checks import assert_page_is_accessible as check

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def series_with_a_cancelled_session(django_db_serialized_rollback):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(slug="rebook-course", name="Microneedling course", sessions_in_series=3)
    practitioner = PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    first_day = timezone.localdate() + timedelta(days=10)
    starts = [
        datetime.combine(first_day + timedelta(days=28 * n), time(10), tzinfo=timezone.get_current_timezone())
        for n in range(3)
    ]
    series = services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name="Jo Bloggs", email="jo@example.com", phone="07700 900123"),
        slots=[slot(start, practitioner) for start in starts],
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
    )
    services.appointment_cancel(appointment=series.appointments.get(session_number=2))
    return series


@pytest.mark.browser
def test_patient_books_a_cancelled_session_again(page, series_with_a_cancelled_session):
    series = series_with_a_cancelled_session
    page.goto(manage_path(series))
    check(page)
    page.get_by_role("link", name="Book session 2 again").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Book session 2 again")
    check(page)
    page.get_by_role("button", name=re.compile(r"^Book .*, 14:00 with Dr Ana Silva$")).first.click()

    expect(page.get_by_role("button", name="Book session 2")).to_be_visible()
    check(page)
    page.get_by_role("button", name="Book session 2").click()

    expect(page.get_by_role("status")).to_contain_text("session 2 is booked")
    check(page)
    again = series.appointments.get(session_number=2, status=Appointment.Status.BOOKED)
    assert again.start.astimezone(timezone.get_current_timezone()).hour == 14
