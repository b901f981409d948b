"""
Booking a series reads the clinic's rules and diaries once and passes them (and `now`) down.

Counted on a transactional database, as in production (a test's own transaction would add its
savepoints), with the confirmation handed to the broker (Redis) on commit as in production,
rather than sent inline by the eager in-process worker. Django logs BEGIN and COMMIT among the
queries since 4.2; the bounds below name them apart.
"""

import json

import pytest
from django.conf import settings as django_settings

from bookings.models import Series
from clinic.celery import app
from tests.bookings.factories import PatientFactory
from tests.bookings.patient_fixtures import details
from tests.bookings.staff_fixtures import *  # noqa: F403
from tests.bookings.staff_fixtures import front_desk, key, local, practitioner, treatment  # noqa: F401
from tests.bookings.test_api import body
from tests.bookings.test_flow import DETAILS, REVIEW, pick_first, review_choices
from tests.bookings.test_staff_patients import answers, plan_url, proposed

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TRANSACTION_CONTROL = {"BEGIN", "COMMIT"}


@pytest.fixture(autouse=True)
def queued():
    app.conf.task_always_eager = False
    yield
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(django_settings.CELERY_TASK_DEFAULT_QUEUE)


def statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if query["sql"] not in TRANSACTION_CONTROL]


def reads_of(captured, table: str) -> int:
    reads = [sql for sql in statements(captured) if sql.startswith(("SELECT", "(SELECT"))]
    return sum(f'FROM "{table}"' in sql for sql in reads)


# A new patient's booking, statement by statement: the treatment, the clinic rules, the diaries
# (one UNION), the lock timeout with the practitioners' and rooms' row locks (one round trip), the
# appointments again under those locks, the e-mail address's advisory lock, the patient found or
# added (one statement), then one INSERT each for the series, its questionnaire, its appointments,
# the audit trail and the outbox. The treatment is read with its current eligibility rules and their
# rows (issue 13) in its one statement. A returning patient adds the checks a new one cannot fail
# (their row lock, their running courses, their overlapping appointments, the rules a practitioner
# lifted for them): see the test below.
API_BOOKING_STATEMENTS = 12
RETURNING_PATIENT_CHECKS = 4


def test_booking_a_series_through_the_api_keeps_its_query_ceiling(
    client, practitioner, django_assert_max_num_queries
):
    with django_assert_max_num_queries(API_BOOKING_STATEMENTS + len(TRANSACTION_CONTROL)) as captured:
        response = client.post("/api/series/", json.dumps(body()), content_type="application/json")

    assert response.status_code == 201, response.content
    assert len(statements(captured)) <= API_BOOKING_STATEMENTS, "\n".join(statements(captured))
    assert reads_of(captured, "bookings_clinicrules") == 1
    assert reads_of(captured, "bookings_workinghours") == 1  # the diaries, once, before the locks
    assert Series.objects.get().appointments.count() == 3
    assert response.json()["series"]["appointments"][2]["start"] == "2027-04-27T10:00:00+01:00"


def test_a_returning_patients_booking_adds_only_their_own_checks(
    client, practitioner, django_assert_max_num_queries
):
    from tests.bookings.test_api import body as api_body

    first = api_body()
    assert client.post("/api/series/", json.dumps(first), content_type="application/json").status_code == 201
    Series.objects.update(status=Series.Status.COMPLETED)
    Series.objects.get().appointments.update(status="cancelled")
    again = {**first, "first_start": "2027-05-04T10:00:00+01:00"}

    ceiling = API_BOOKING_STATEMENTS + RETURNING_PATIENT_CHECKS
    with django_assert_max_num_queries(ceiling + len(TRANSACTION_CONTROL)) as captured:
        response = client.post("/api/series/", json.dumps(again), content_type="application/json")

    assert response.status_code == 201, response.content
    assert len(statements(captured)) <= ceiling, "\n".join(statements(captured))
    assert Series.objects.filter(patient__email=first["patient"]["email"]).count() == 2


def test_the_booking_steps_read_the_rules_and_diaries_once(
    client, practitioner, django_assert_max_num_queries
):
    pick_first(client, practitioner)
    with django_assert_max_num_queries(8) as review:
        assert client.post(REVIEW, review_choices(practitioner)).status_code == 302
    # The booking's transaction and the session's save each have their BEGIN and COMMIT; the treatment
    # comes with its eligibility rules (with_current_rules).
    with django_assert_max_num_queries(13 + 2 * len(TRANSACTION_CONTROL)) as booking:
        assert client.post(DETAILS, details()).status_code == 302

    for captured in (review, booking):
        assert reads_of(captured, "bookings_clinicrules") == 1
        assert reads_of(captured, "bookings_workinghours") == 1
    assert Series.objects.get().appointments.count() == 3


def test_the_phone_booking_reads_the_rules_and_diaries_once(
    client, front_desk, practitioner, treatment, django_assert_max_num_queries
):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    choices = proposed(client.get(url).content.decode())

    # 5 are the login's; 1 the rules a practitioner lifted for this (returning) patient.
    with django_assert_max_num_queries(20 + len(TRANSACTION_CONTROL)) as captured:
        response = client.post(url, {**choices, **answers()})

    assert response.status_code == 302
    assert reads_of(captured, "bookings_clinicrules") == 1
    assert reads_of(captured, "bookings_workinghours") == 1
    assert Series.objects.get().appointments.count() == 3


def test_a_treatment_with_eligibility_rules_is_read_with_them_in_one_statement(
    client, practitioner, treatment, django_assert_max_num_queries
):
    from tests.bookings.factories import eligibility_rules

    eligibility_rules(treatment)
    # The rules version and its rows come with the treatment; a new patient has no overrides to read.
    with django_assert_max_num_queries(API_BOOKING_STATEMENTS + len(TRANSACTION_CONTROL)) as captured:
        response = client.post("/api/series/", json.dumps(body()), content_type="application/json")

    assert response.status_code == 201, response.content
    assert len(statements(captured)) <= API_BOOKING_STATEMENTS, "\n".join(statements(captured))
    assert Series.objects.get().eligibility_rules.version == 1
    assert reads_of(captured, "treatments_treatment") == 1
