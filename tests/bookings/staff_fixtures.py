"""Staff users in the roles of migration 0005, and a small clinic frozen on Monday 1 March 2027.

Import the fixtures into a test module (`from tests.bookings.staff_fixtures import *`).
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User

from bookings import selectors, services
from bookings.availability import Slot
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory
from tests.bookings.patient_fixtures import *
from tests.bookings.patient_fixtures import local

PASSWORD = "a long enough test password"


def book_for(
    treatment, first_start, practitioner, *, name="Sam Other", email="sam@example.com", flagged=(), by=None
):
    """A series for another patient, planned from `first_start` (staff rules when `by` is given)."""
    first = Slot(first_start, first_start + timedelta(minutes=treatment.session_minutes), practitioner.pk)
    plan = selectors.series_plan(treatment=treatment, first=first, for_staff=by is not None)
    return services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name=name, email=email, phone="07700 900456"),
        slots=plan.slots,
        answers={question.key: question.key in flagged for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
        by=by,
        for_staff=by is not None,
    )


def staff_user(username: str, group: str | None, **fields) -> User:
    user = User.objects.create_user(username, password=PASSWORD, first_name=username.title(), **fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def front_desk(db):
    return staff_user("fran", "Front desk")


@pytest.fixture
def manager(db):
    return staff_user("max", "Manager", is_staff=True)


@pytest.fixture
def ana(practitioner):
    """The practitioner fixture's own login (Practitioner group)."""
    practitioner.user = staff_user("ana", "Practitioner")
    practitioner.save(update_fields=["user"])
    return practitioner.user


@pytest.fixture
def colleague(treatment):
    """A second practitioner with a login, and a series of their own patient."""
    other = PractitionerFactory(
        name="Dr Ben Okafor", treatments=[treatment], user=staff_user("ben", "Practitioner")
    )
    return other


@pytest.fixture
def colleague_series(treatment, colleague):
    return book_for(treatment, local(2027, 3, 9, 11), colleague)
