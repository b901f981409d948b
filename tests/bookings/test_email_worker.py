"""
The outbox with the real pieces: PostgreSQL, a Redis broker, `celery -A clinic worker` as a
subprocess, and a local SMTP server (aiosmtpd). Transactional tests, so the worker sees what the
test commits. Every wait is bounded; the worker is stopped (or killed) whatever happens.
"""

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from bookings import outbox, services, tasks
from bookings.models import OutboxMessage
from bookings.questionnaire import QUESTIONS
from clinic.celery import app
from tests.bookings.factories import PatientFactory, local, microneedling_clinic, series_slots
from tests.celery_worker import celery_worker, database_url
from tests.smtp_sink import Sink, smtp_sink, wait_until

# serialized_rollback: the flush after each test puts back the migrated data (content types…).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
Kind, Status = OutboxMessage.Kind, OutboxMessage.Status
WAIT = 30  # seconds: the bound on every wait for the worker


@dataclass
class Live:
    sink: Sink
    port: int
    stack: ExitStack

    def worker(self, concurrency: int = 1, **settings: str):
        """Start a worker on the test database, the test broker and queue, and the sink."""
        return self.stack.enter_context(
            celery_worker(
                database_url=database_url(connection.settings_dict),
                broker_url=django_settings.CELERY_BROKER_URL,
                queue=django_settings.CELERY_TASK_DEFAULT_QUEUE,
                smtp_port=self.port,
                concurrency=concurrency,
                **settings,
            )
        )


@pytest.fixture
def live() -> Iterator[Live]:
    app.conf.task_always_eager = False  # this test publishes to the real broker
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(django_settings.CELERY_TASK_DEFAULT_QUEUE)  # nothing left over
    with ExitStack() as stack, smtp_sink() as (sink, port):
        yield Live(sink, port, stack)


def book(practitioner, treatment, first, email="jo@example.com"):
    return services.series_book(
        treatment=treatment,
        patient=PatientFactory(email=email),
        slots=series_slots(practitioner, first, treatment.sessions_in_series),
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
        for_staff=True,  # March 2027 is beyond the patients' booking horizon from today
    )


@pytest.fixture
def clinic():
    treatment, (practitioner,), _ = microneedling_clinic(sessions=3)
    return treatment, practitioner


def make_due(count: int | None = None) -> list[OutboxMessage]:
    """Make planned (not yet due) e-mails due now, earliest first; return them."""
    rows = list(
        OutboxMessage.objects.filter(status=Status.PENDING).exclude(kind=Kind.SERIES_BOOKED).order_by("pk")
    )
    rows = rows[:count] if count else rows
    OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    return rows


def message_ids(sink: Sink) -> list[str]:
    return [message["Message-ID"].strip() for message in sink.messages]


def status_of(*rows) -> set[str]:
    return set(OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).values_list("status", flat=True))


def test_the_booking_confirmation_is_sent_by_the_worker_after_commit(live, clinic):
    live.worker()
    series = book(*reversed(clinic), local(2027, 3, 2, 10))

    (message,) = live.sink.wait_for(1, timeout=WAIT)
    assert message["To"] == "jo@example.com" and "is booked" in message["Subject"]
    assert message.is_multipart()
    assert {part.get_content_type() for part in message.walk()} >= {
        "text/plain",
        "text/html",
        "text/calendar",
    }
    row = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    wait_until(lambda: status_of(row) == {Status.SENT}, timeout=WAIT, what="the row marked sent")
    assert message_ids(live.sink) == [outbox.emails.message_id(row)]


def test_a_rolled_back_booking_enqueues_nothing(live, clinic):
    treatment, practitioner = clinic
    live.worker()
    with pytest.raises(RuntimeError), transaction.atomic():
        book(practitioner, treatment, local(2027, 3, 2, 10), email="rolled-back@example.com")
        raise RuntimeError("the request failed after booking")
    book(practitioner, treatment, local(2027, 3, 3, 10), email="committed@example.com")

    # One queue, one worker process: once the later booking's e-mail is through, anything
    # enqueued before it would have been too.
    (message,) = live.sink.wait_for(1, timeout=WAIT)
    assert message["To"] == "committed@example.com"
    assert OutboxMessage.objects.filter(series__patient__email="rolled-back@example.com").count() == 0
    assert len(live.sink.messages) == 1


def test_worker_killed_mid_batch_then_restarted_loses_nothing_and_sends_nothing_twice(live, clinic, settings):
    treatment, practitioner = clinic
    first = live.worker(OUTBOX_CLAIM_LEASE_SECONDS="1")
    for week in range(3):
        book(practitioner, treatment, local(2027, 3, 2 + 7 * week, 10), email=f"patient{week}@example.com")
    live.sink.wait_for(3, timeout=WAIT)  # the three confirmations
    due = make_due()
    assert len(due) >= 30
    live.sink.hold_from = 3 + 10  # the 11th e-mail of the batch is held, unanswered, at the server

    tasks.dispatch_due.delay()  # the worker runs the dispatcher, which hands it one batch
    assert live.sink.holding.wait(WAIT), "the worker never reached the 11th e-mail"
    first.kill()  # SIGKILL: the batch is half sent, one message is in the middle of SMTP
    live.sink.hold_from = None
    live.sink.release.set()  # the held message was never accepted ("250"), as with a real server

    assert OutboxMessage.objects.filter(pk__in=[row.pk for row in due], status=Status.SENT).count() == 10
    settings.OUTBOX_CLAIM_LEASE_SECONDS = 1  # this process runs the next dispatch
    live.worker(OUTBOX_CLAIM_LEASE_SECONDS="1")
    # Every claim of the dead worker expires: the batch's and, a little later, the one the held
    # e-mail was sent under (each attempt claims its row anew, bookings/outbox.py _send_one).
    dead = OutboxMessage.objects.filter(pk__in=[row.pk for row in due], status=Status.SENDING)
    wait_until(
        lambda: outbox.claims_expired(now=timezone.now()) >= 0 and not dead.exists(),
        timeout=WAIT,
        what="the dead worker's claims to expire",
    )
    tasks.dispatch_due.delay()

    live.sink.wait_for(3 + len(due), timeout=WAIT)
    wait_until(lambda: status_of(*due) == {Status.SENT}, timeout=WAIT, what="every row marked sent")
    ids = message_ids(live.sink)
    assert len(ids) == len(set(ids)) == 3 + len(due)  # nothing lost, nothing twice
    assert set(ids) >= {outbox.emails.message_id(row) for row in due}


def test_the_same_batch_delivered_twice_at_once_sends_each_email_once(live, clinic):
    treatment, practitioner = clinic
    live.worker(concurrency=2)
    for week in range(3):
        book(practitioner, treatment, local(2027, 3, 2 + 7 * week, 10), email=f"patient{week}@example.com")
    live.sink.wait_for(3, timeout=WAIT)
    due = make_due()

    def twice(claim) -> None:  # as if the broker delivered the batch's task to two processes
        tasks.send_claimed.delay(str(claim))
        tasks.send_claimed.delay(str(claim))

    outbox.messages_claim_due(on_claim=twice)

    wait_until(lambda: status_of(*due) == {Status.SENT}, timeout=WAIT, what="every row marked sent")
    ids = message_ids(live.sink)
    assert len(ids) == len(set(ids)) == 3 + len(due)


def test_mail_server_failing_then_recovering_is_retried_and_sends_once(live, clinic):
    live.sink.refuse = 2
    live.worker(OUTBOX_RETRY_BACKOFF_SECONDS="0.2", OUTBOX_MAX_ATTEMPTS="5")
    series = book(*reversed(clinic), local(2027, 3, 2, 10))

    live.sink.wait_for(1, timeout=WAIT)
    row = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    wait_until(lambda: status_of(row) == {Status.SENT}, timeout=WAIT, what="the row marked sent")
    row.refresh_from_db()
    assert (live.sink.refusals, row.attempts) == (2, 3)
    assert len(live.sink.messages) == 1


def test_mail_server_failing_for_good_marks_the_email_failed(live, clinic):
    live.sink.refuse = float("inf")
    live.worker(OUTBOX_RETRY_BACKOFF_SECONDS="0.2", OUTBOX_MAX_ATTEMPTS="3")
    series = book(*reversed(clinic), local(2027, 3, 2, 10))

    row = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    wait_until(lambda: status_of(row) == {Status.FAILED}, timeout=WAIT, what="the row marked failed")
    row.refresh_from_db()
    assert row.attempts == 3 and live.sink.refusals == 3
    assert "451" in row.last_error and live.sink.messages == []
