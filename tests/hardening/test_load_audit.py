"""bench/load.py, small: six clients racing for the same first sessions leave a consistent diary."""

import secrets
from datetime import time

import pytest
from django.conf import settings
from django.db import connection

from bench import load
from bookings.models import WorkingHours
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.servers import GUNICORN, free_port, manage, production_env, serve

SLUG = "load-course"


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def site(tmp_path):
    """A production-like gunicorn (DEBUG off, three workers) on this test's PostgreSQL database."""
    clinic_rules(buffer_minutes=0, min_notice_hours=24, horizon_days=120)
    treatment = TreatmentFactory(slug=SLUG, sessions_in_series=3)
    for _ in range(2):
        practitioner = PractitionerFactory(treatments=[treatment], hours=[])
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=day, start=time(9), end=time(17)) for day in range(7)
        )
    env = production_env(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.CACHES["default"]["LOCATION"],
        CACHE_KEY_PREFIX=f"load-{secrets.token_hex(4)}",
        CELERY_QUEUE=f"load-audit-{secrets.token_hex(4)}",  # no worker reads it: nothing is sent
        CLINIC_VAR_DIR=str(tmp_path),
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="ERROR",
        **load.UNLIMITED,
    )
    manage("collectstatic", "--noinput", env=env)
    port = free_port()
    argv = [GUNICORN, "clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3",
            "--worker-class", "gthread", "--threads", "2", "--graceful-timeout", "5"]
    with serve(argv, port=port, env=env):
        yield "127.0.0.1", port


# A real transaction (the server's processes see the rows), restoring the migrated data after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_clients_leave_no_double_booking_no_partial_series_and_lose_no_201(site):
    host, port = site

    result = load.run_load(host, port, slug=SLUG, answers=[q.key for q in QUESTIONS], clients=6, seconds=5)
    found = load.audit(database_url(), result.booked)

    bookings = result.endpoints["booking"]
    assert result.server_errors == 0, {name: dict(e.statuses) for name, e in result.endpoints.items()}
    assert result.booked and bookings.statuses[409]  # some won, some lost the race
    assert set(bookings.statuses) <= {201, 409}
    assert all(set(e.statuses) == {200} for name, e in result.endpoints.items() if name != "booking")
    assert found.ok, found
    assert len(result.booked) <= load.CONTESTED_SLOTS * 2  # at most one series per slot and practitioner


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_audit_finds_partial_series_and_lost_bookings():
    from tests.bookings.factories import AppointmentFactory, SeriesFactory, local

    series = SeriesFactory(treatment=TreatmentFactory(sessions_in_series=3))
    AppointmentFactory(series=series, session_number=1, start=local(2027, 3, 1, 10))  # one of three
    lost = "00000000-0000-0000-0000-000000000000"

    found = load.audit(database_url(), [str(series.public_id), lost])

    assert [str(row[0]) for row in found.partial] == [str(series.public_id)]
    assert found.missing == [lost]
    assert found.overlapping == found.patient_overlapping == [] and not found.ok
