"""A small clinic frozen on Monday 1 March 2027, 08:00 London, for the patient-side tests.

Import the fixtures into a test module (`from tests.bookings.patient_fixtures import *`).
"""

from datetime import timedelta

import pytest
import time_machine

from bookings import selectors, services
from bookings.availability import Slot
from bookings.forms import slot_key
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_path
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules, local

SLUG = "skin-course"
NOW = local(2027, 3, 1, 8)  # a Monday; BST starts on Sunday 28 March 2027


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def treatment(db, frozen):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48, horizon_days=90)
    return TreatmentFactory(slug=SLUG, name="Microneedling", sessions_in_series=3, requires_room=False)


@pytest.fixture
def practitioner(treatment):
    return PractitionerFactory(name="Dr Ana Silva", treatments=[treatment])


def key(start, practitioner, minutes: int = 60) -> str:
    return slot_key(Slot(start, start + timedelta(minutes=minutes), practitioner.pk))


def details(**changes) -> dict:
    """A valid details form, every question answered no."""
    data = {
        "name": "Jo Bloggs",
        "email": "jo@example.com",
        "phone": "07700 900123",
        "consent_treatment": "on",
        "consent_privacy": "on",
        **{f"answer_{question.key}": "no" for question in QUESTIONS},
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def book(treatment, first_start, practitioner, *, name="Jo Bloggs", email="jo@example.com"):
    """A series booked through the service, planned from `first_start` (Jo's, unless named)."""
    first = Slot(first_start, first_start + timedelta(minutes=treatment.session_minutes), practitioner.pk)
    plan = selectors.series_plan(treatment=treatment, first=first)
    return services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name=name, email=email, phone="07700 900123"),
        slots=plan.slots,
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
    )


@pytest.fixture
def series(treatment, practitioner):
    return book(treatment, local(2027, 3, 9, 10), practitioner)  # Tue 9 March, then 6 April, 4 May


@pytest.fixture
def manage_url(series):
    return manage_path(series)
