"""Faults with the real services: PostgreSQL dropping a connection mid-booking, Redis down, the
Celery broker down, the mail server down. Each degrades into a sentence for a person, never a
half-written booking, and the work left over catches up when the service returns."""

import json
import socket
from contextlib import contextmanager

import pytest
from django.db import connection
from django.utils import timezone

from bookings import tasks
from bookings.models import Appointment, OutboxMessage, Series
from clinic.celery import app
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import SLUG, details, frozen, practitioner, treatment  # noqa: F401
from tests.hardening.fault_views import terminate_backend
from tests.hardening.test_bad_input import _valid_body, draft_ready, row_counts

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def connection_dropped_on_insert_into(table: str):
    """Terminate this connection's PostgreSQL backend just before the first INSERT INTO `table`."""
    dropped = []

    def drop(execute, sql, params, many, context):
        if not dropped and sql.startswith(f'INSERT INTO "{table}"'):
            dropped.append(sql)
            terminate_backend(context["connection"].connection.get_backend_pid())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop):
        yield dropped


def post_series(client, body):
    return client.post("/api/series/", json.dumps(body), content_type="application/json")


# --- PostgreSQL drops the connection between the series and its appointments -----------------------


def test_api_booking_whose_connection_drops_is_a_503_and_leaves_no_partial_series(client, practitioner):
    before = row_counts()

    with connection_dropped_on_insert_into("bookings_appointment") as dropped:
        response = post_series(client, _valid_body())

    assert dropped, "the booking never reached its appointments"
    assert response.status_code == 503
    assert "nothing was saved" in response.json()["error"]
    assert response["Retry-After"]
    assert row_counts() == before  # the series, patient and questionnaire rows went with the transaction
    assert post_series(client, _valid_body()).status_code == 201  # and the next try books it


def test_patient_booking_whose_connection_drops_is_a_page_saying_so(client, practitioner):
    draft_ready(client)
    before = row_counts()

    with connection_dropped_on_insert_into("bookings_appointment"):
        response = client.post(f"/book/{SLUG}/details/", details())

    assert response.status_code == 503
    page = response.content.decode()
    assert "nothing was saved" in page and "Traceback" not in page
    assert row_counts() == before
    retry = client.post(f"/book/{SLUG}/details/", details())  # what the patient typed is still there
    assert retry.status_code == 302 and Series.objects.count() == 1
    assert Appointment.objects.count() == treatment_sessions()


def treatment_sessions() -> int:
    return Series.objects.get().treatment.sessions_in_series


# --- Redis down ------------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The cache (and so every rate limit) pointed at a closed loopback port."""
    settings.CACHES = {
        "default": {
            "BACKEND": "clinic.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.RATELIMIT_FAIL_OPEN = True


def test_with_redis_down_explainer_pages_still_serve(client, treatment, redis_down):
    for path in ("/", "/treatments/", f"/treatments/{SLUG}/", f"/treatments/{SLUG}/faq/"):
        assert client.get(path).status_code == 200, path


def test_with_redis_down_booking_still_works(client, practitioner, redis_down):
    response = post_series(client, _valid_body())

    assert response.status_code == 201, response.content
    draft_ready(client)  # the patient flow too (its session lives in the database)
    assert client.post(f"/book/{SLUG}/details/", details(email="sam@example.com")).status_code == 302
    assert Series.objects.count() == 2


def test_with_redis_down_staff_can_still_sign_in(client, db, redis_down):
    from tests.bookings.staff_fixtures import PASSWORD, staff_user

    staff_user("fran", "Front desk")

    response = client.post("/staff/login/", {"username": "fran", "password": PASSWORD})

    assert response.status_code == 302  # the sign-in limit fails open rather than locking everyone out


def test_with_redis_down_the_health_check_says_so(client, db, redis_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["cache"] == "error" and response.json()["database"] == "ok"


# --- The Celery broker down, then back -------------------------------------------------------------


@pytest.fixture
def broker_down():
    """Tasks really go to a broker, on a closed port (publishing fails after kombu's quick retries)."""
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    app._pool = None
    app.amqp._producer_pool = None


def test_bookings_made_while_the_broker_is_down_are_sent_once_it_is_back(
    client, practitioner, broker_down, mailoutbox, frozen
):
    response = post_series(client, _valid_body())

    assert response.status_code == 201  # the enqueue failed after commit, quietly (robust on_commit)
    series = Series.objects.get()
    assert not OutboxMessage.objects.exclude(status=OutboxMessage.Status.PENDING).exists()
    assert mailoutbox == []

    app.conf.task_always_eager = True  # the broker is back (tasks run in this process)
    frozen.move_to(timezone.now() + timezone.timedelta(days=400))  # every reminder and aftercare is due
    tasks.dispatch_due()
    tasks.dispatch_due()  # a second dispatcher run finds nothing left

    sent = OutboxMessage.objects.filter(series=series, status=OutboxMessage.Status.SENT).count()
    assert sent and sent == len(mailoutbox)
    assert not OutboxMessage.objects.due(timezone.now()).exists()
    ids = [message.extra_headers["Message-ID"] for message in mailoutbox]
    assert len(ids) == len(set(ids))  # nothing sent twice


# --- The mail server down --------------------------------------------------------------------------


def test_emails_the_mail_server_refused_show_as_failed_to_staff(client, practitioner, settings, frozen):
    from tests.bookings.staff_fixtures import staff_user

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    settings.OUTBOX_MAX_ATTEMPTS = 1  # give up at once rather than wait out the backoff
    assert post_series(client, _valid_body()).status_code == 201
    frozen.move_to(local(2027, 3, 2, 8, 5))  # session 1's morning reminder is due
    tasks.dispatch_due()

    confirmation = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SERIES_BOOKED)
    reminder = OutboxMessage.objects.get(kind=OutboxMessage.Kind.REMINDER_MORNING, status="failed")
    assert "Connection refused" in confirmation.last_error and "Connection refused" in reminder.last_error
    appointment = Appointment.objects.get(session_number=1)
    client.force_login(staff_user("max", "Manager", is_staff=True))
    page = client.get(f"/staff/appointments/{appointment.pk}/").content.decode()
    emails = page[page.index("emails-title"):page.index("history-title")]
    assert "Reminder (morning of): <strong>Failed</strong> after 1 attempt" in emails, emails
    patient_page = client.get(f"/staff/patients/{appointment.series.patient_id}/").content.decode()
    assert "Booking confirmation: <strong>Failed</strong> after 1 attempt" in patient_page
