"""A clinic with one series waiting for a sooner session 2, and another patient whose time can free it.

Frozen on Monday 1 March 2027, 08:00 London (patient_fixtures). Jo's series: Tuesday 9 March,
Tuesday 20 April (42 days: the latest the window allows) and Tuesday 1 June (42 days again). Sam's
first session is Tuesday 6 April 10:00, exactly 28 days after Jo's first: if Sam cancels it, Jo's
session 2 can move there, and Jo's session 3 (then 56 days later) must move into 4–18 May.
"""

from datetime import timedelta

import pytest

from bookings import services, waitlist_services
from bookings.availability import Slot
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import frozen, practitioner, treatment  # noqa: F401

JO_TIMES = (local(2027, 3, 9, 10), local(2027, 4, 20, 10), local(2027, 6, 1, 10))
SAM_TIMES = (local(2027, 4, 6, 10), local(2027, 5, 4, 10), local(2027, 6, 1, 14))
FREED_AT = local(2027, 4, 6, 10)


def book_at(treatment, practitioner, starts, name, email):
    slots = [Slot(start, start + timedelta(minutes=treatment.session_minutes), practitioner.pk) for start in starts]
    return services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name=name, email=email, phone="07700 900123"),
        slots=slots,
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
    )


@pytest.fixture
def jo(treatment, practitioner):
    return book_at(treatment, practitioner, JO_TIMES, name="Jo Bloggs", email="jo@example.com")


@pytest.fixture
def sam(treatment, practitioner):
    return book_at(treatment, practitioner, SAM_TIMES, name="Sam Carter", email="sam@example.com")


@pytest.fixture
def jo_waiting(jo):
    """Jo asks for session 2 sooner, any weekday, mornings."""
    return waitlist_services.entry_join(series=jo, number=2, weekdays=[], parts=["morning"])


def sessions(series) -> dict[int, object]:
    return {a.session_number: a.start for a in series.appointments.active()}
