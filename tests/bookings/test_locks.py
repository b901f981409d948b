"""
Locks that stay small, on PostgreSQL with real threads (each with its own connection).

- An e-mail being sent holds no lock: a slow mail server delays nobody's booking, not even a
  change to the very series the e-mail is about.
- Every change to a series takes that series' lock first, and only that row: two changes to one
  series run one after the other (each sees the other's result); other series never wait.
- A lock not granted within BOOKING_LOCK_TIMEOUT_SECONDS is a "busy, try again" sentence.
"""

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from bookings import outbox, services
from bookings.errors import BUSY, BookingError
from bookings.models import Appointment, OutboxMessage, Practitioner, Series
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_path
from clinic.celery import app
from tests.bookings.factories import local, microneedling_clinic
from tests.bookings.test_email_worker import book  # for_staff: no notice or horizon to mind
from tests.smtp_sink import smtp_sink, wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NOW = local(2027, 2, 22, 9)
STALL = 6.0  # seconds the mail server takes to accept the e-mail
FAST = 2.0  # a booking normally takes well under a second, even on a busy test machine


class Worker(threading.Thread):
    """Runs `call` on its own database connection; keeps the result or the exception."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.result, self.error = call, None, None

    def run(self):
        try:
            self.result = self.call()
        except Exception as exc:  # noqa: BLE001 — the test inspects it
            self.error = exc
        finally:
            connection.close()


def lock_waiters() -> int:
    """Backends of this database waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def timed(call) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture
def queued():
    """Confirmations go to the real broker for a worker, as in production (the in-process tests
    send them inline after commit, which would time the mail server instead of the booking)."""
    app.conf.task_always_eager = False
    yield
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(django_settings.CELERY_TASK_DEFAULT_QUEUE)


# --- No network call inside a transaction that holds locks --------------------------------------------


def test_a_slow_mail_server_delays_no_booking(settings, queued):
    treatment, (mine, other), _ = microneedling_clinic(practitioners=2)
    series = book(mine, treatment, local(2027, 3, 1, 10), email="first@example.com")
    # Session 2's reminder is due and claimed: the sender is about to talk to the mail server.
    reminder = series.outbox_messages.get(kind=OutboxMessage.Kind.REMINDER, session_number=2)
    OutboxMessage.objects.exclude(pk=reminder.pk).update(status=OutboxMessage.Status.SENT, sent_at=NOW)
    OutboxMessage.objects.filter(pk=reminder.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    claim = outbox.messages_claim(ids=[reminder.pk])
    assert claim is not None

    with smtp_sink() as (sink, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
        settings.EMAIL_TIMEOUT = 30
        sink.stall = STALL
        sender = Worker(lambda: outbox.messages_send(claim=claim))
        sender.start()
        assert sink.holding.wait(10), "the sender never reached the mail server"

        # The patient cancels the very session the e-mail is about, while it is being sent...
        second = series.appointments.get(session_number=2)
        cancel = Worker(lambda: services.appointment_cancel(appointment=second, now=NOW))
        started = time.monotonic()
        cancel.start()
        wait_until(lambda: not cancel.is_alive() or lock_waiters() > 0, timeout=10, what="the cancel to run")
        # ...and someone else books the same treatment with another practitioner.
        theirs, took = timed(
            lambda: book(other, treatment, local(2027, 3, 2, 10), email="second@example.com")
        )
        cancel.join(STALL + 10)
        cancel_took = time.monotonic() - started
        sender.join(STALL + 10)

    assert took < FAST, f"an unrelated booking waited {took:.1f}s for an e-mail being sent"
    assert cancel_took < FAST, f"the cancel waited {cancel_took:.1f}s for an e-mail being sent"
    assert cancel.error is None and sender.error is None, (cancel.error, sender.error)
    assert theirs.appointments.count() == 3
    assert Appointment.objects.get(pk=second.pk).status == Appointment.Status.CANCELLED
    # The e-mail went out while the session was being cancelled: the record says so.
    assert len(sink.messages) == 1
    assert OutboxMessage.objects.get(pk=reminder.pk).status == OutboxMessage.Status.SENT
    assert sender.result.sent == [reminder.pk]


# --- One series lock, taken first -----------------------------------------------------------------------


def test_cancel_and_cancel_the_rest_at_once_leave_a_cancelled_series(monkeypatch):
    treatment, (practitioner,), _ = microneedling_clinic()
    series = book(practitioner, treatment, local(2027, 3, 1, 10), email="jo@example.com")
    first = series.appointments.get(session_number=1)
    # Both changes meet here (recorded, not yet committed) when nothing orders them: each then
    # decides the series' state from a snapshot without the other's change.
    meet = threading.Barrier(2)
    audit_record = services.audit_record

    def audit_then_meet(**kwargs):
        audit_record(**kwargs)
        try:
            meet.wait(timeout=1.5)
        except threading.BrokenBarrierError:
            pass  # serialised: the other change is waiting for the series lock

    monkeypatch.setattr(services, "audit_record", audit_then_meet)
    one = Worker(lambda: services.appointment_cancel(appointment=first, now=NOW))
    rest = Worker(lambda: services.series_cancel_remaining(series=series, from_session=2, now=NOW))
    one.start(), rest.start()
    one.join(30), rest.join(30)

    assert (one.error, rest.error) == (None, None)
    assert set(series.appointments.values_list("status", flat=True)) == {Appointment.Status.CANCELLED}
    series.refresh_from_db()
    assert series.status == Series.Status.CANCELLED
    # Nothing left to nudge the patient about.
    nudges = [OutboxMessage.Kind.NUDGE, OutboxMessage.Kind.FRONT_DESK_ALERT]
    assert not series.outbox_messages.filter(status=OutboxMessage.Status.PENDING, kind__in=nudges).exists()


def test_a_change_to_a_series_locks_neither_its_treatment_nor_its_patient():
    treatment, (practitioner,), _ = microneedling_clinic()
    series = book(practitioner, treatment, local(2027, 3, 1, 10), email="jo@example.com")

    with transaction.atomic():  # keeps the service's row locks until we have looked at them
        services.appointment_cancel(appointment=series.appointments.get(session_number=3), now=NOW)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = pg_backend_pid() AND l.mode = 'RowShareLock'"  # SELECT ... FOR UPDATE
            )
            locked_for_update = {name for (name,) in cursor.fetchall()}

    # A FOR UPDATE over a join locks every joined row: a locked treatment makes every booking of
    # that treatment wait (a new series' foreign key needs a share lock on it).
    assert "bookings_series" in locked_for_update
    assert not locked_for_update & {"treatments_treatment", "bookings_patient"}, locked_for_update


# --- Busy: a lock not granted in time is a sentence -----------------------------------------------------


@contextmanager
def held(lock, seconds: float = 5):
    """Hold a row lock in another connection until the block ends (at most `seconds`)."""
    taken, done = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            lock()
            taken.set()
            done.wait(seconds)

    holder = Worker(hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        done.set()
        holder.join(10)


def upcoming(weekday: int = 1, weeks: int = 2, hour: int = 10):
    """A local time `weeks` ahead of today on `weekday` (inside notice, horizon and cutoff rules)."""
    today = timezone.localdate()
    day = today + timedelta(days=7 * weeks + (weekday - today.weekday()) % 7)
    return local(day.year, day.month, day.day, hour)


def test_a_series_locked_too_long_is_busy_for_the_service(settings):
    settings.BOOKING_LOCK_TIMEOUT_SECONDS = 0.3
    treatment, (practitioner,), _ = microneedling_clinic()
    series = book(practitioner, treatment, local(2027, 3, 1, 10), email="jo@example.com")

    with held(lambda: list(Series.objects.select_for_update().filter(pk=series.pk))):
        with pytest.raises(BookingError) as refused:
            services.appointment_cancel(appointment=series.appointments.first(), now=NOW)

    assert (refused.value.code, refused.value.message) == ("busy", BUSY)
    assert not series.appointments.filter(status=Appointment.Status.CANCELLED).exists()


def test_a_busy_series_is_a_page_with_the_sentence_not_a_500(client, settings):
    settings.BOOKING_LOCK_TIMEOUT_SECONDS = 0.3
    treatment, (practitioner,), _ = microneedling_clinic()
    series = book(practitioner, treatment, upcoming(), email="jo@example.com")
    path = manage_path(series) + "sessions/1/cancel/"

    with held(lambda: list(Series.objects.select_for_update().filter(pk=series.pk))):
        response = client.post(path, follow=True)

    assert response.status_code == 409
    assert BUSY in response.content.decode()
    assert not series.appointments.filter(status=Appointment.Status.CANCELLED).exists()


def test_a_busy_diary_is_a_409_with_the_sentence_in_the_api(client, settings):
    settings.BOOKING_LOCK_TIMEOUT_SECONDS = 0.3
    treatment, (practitioner,), _ = microneedling_clinic()
    treatment.slug = "skin-course"
    treatment.save()
    first = upcoming()
    body = {
        "treatment": "skin-course",
        "first_start": first.isoformat(),
        "patient": {"name": "Jo Bloggs", "email": "jo@example.com", "phone": "07700 900123"},
        "answers": {question.key: False for question in QUESTIONS},
        "consent": True,
    }

    with held(lambda: list(Practitioner.objects.select_for_update().filter(pk=practitioner.pk))):
        response = client.post("/api/series/", body, content_type="application/json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "busy" and response.json()["error"] == BUSY
    assert response["Retry-After"]
    assert not Series.objects.exists()
