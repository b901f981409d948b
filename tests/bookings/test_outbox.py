"""The outbox in-process: what the services plan, how rows are claimed, and what the sender refuses to send."""

import smtplib
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.utils import timezone

from bookings import outbox, services
from bookings.errors import BookingError
from bookings.models import Appointment, OutboxMessage
from tests.bookings.factories import AppointmentFactory, SeriesFactory, local, slot
from tests.bookings.patient_fixtures import (  # noqa: F401
    NOW,
    book,
    frozen,
    practitioner,
    series,
    treatment,
)

Kind, Status = OutboxMessage.Kind, OutboxMessage.Status


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down: every send raises, as Django's SMTP backend does."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def rows(series, **filters) -> list[tuple[str, int, str]]:
    query = series.outbox_messages.filter(**filters).order_by("due_at", "session_number", "kind")
    return list(query.values_list("kind", "session_number", "status"))


@pytest.fixture
def claim_due(django_capture_on_commit_callbacks):
    """Run the dispatcher's claim (not its hand-out to Celery); return the claims it made, in order."""

    def claim(now=None) -> list[uuid.UUID]:
        claims = []
        with django_capture_on_commit_callbacks(execute=True):  # each batch is handed out on commit
            outbox.messages_claim_due(now=now or timezone.now(), on_claim=claims.append)
        return claims

    return claim


# --- Planning ------------------------------------------------------------------------------------


def test_booking_plans_its_confirmation_and_every_sessions_emails(series):
    planned = rows(series)

    assert planned[0] == (Kind.SERIES_BOOKED, 0, Status.PENDING)
    assert {kind for kind, _, _ in planned} == {
        Kind.SERIES_BOOKED,
        Kind.REMINDER,
        Kind.REMINDER_MORNING,
        Kind.AFTERCARE,
        Kind.AFTERCARE_FOLLOWUP,
        Kind.NEXT_SESSION,
    }
    assert rows(series, session_number=2, kind=Kind.REMINDER) == [(Kind.REMINDER, 2, Status.PENDING)]
    reminder = series.outbox_messages.get(session_number=2, kind=Kind.REMINDER)
    # 10:00 on 6 April (BST), three days before: two days before would be the 48-hour cutoff itself.
    assert reminder.due_at == local(2027, 4, 3, 10)


def test_a_rolled_back_booking_plans_and_enqueues_nothing(
    treatment, practitioner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            book(treatment, local(2027, 3, 9, 10), practitioner)
            assert OutboxMessage.objects.exists()
            raise RuntimeError("something later in the request failed")

    assert callbacks == []
    assert not OutboxMessage.objects.exists()


def test_a_refused_booking_plans_nothing(treatment, practitioner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(BookingError):
        book(treatment, local(2027, 3, 1, 10), practitioner)  # inside the 24 hours' notice

    assert callbacks == [] and not OutboxMessage.objects.exists()


def test_no_reminder_is_planned_in_the_past(treatment, practitioner):
    series = book(treatment, local(2027, 3, 2, 14), practitioner)  # tomorrow: 2 days before has gone

    assert not series.outbox_messages.filter(kind=Kind.REMINDER, session_number=1).exists()
    assert series.outbox_messages.filter(kind=Kind.REMINDER_MORNING, session_number=1).exists()


def test_a_move_cancels_the_old_times_emails_and_plans_the_new_ones(series, practitioner):
    third = series.appointments.get(session_number=3)
    old = set(series.outbox_messages.filter(session_number=3).values_list("pk", flat=True))

    services.appointments_reschedule(moves=[(third, slot(local(2027, 5, 6, 14), practitioner))])

    assert set(OutboxMessage.objects.filter(pk__in=old).values_list("status", flat=True)) == {
        Status.CANCELLED
    }
    new = series.outbox_messages.get(session_number=3, kind=Kind.REMINDER, status=Status.PENDING)
    assert new.due_at == local(2027, 5, 3, 14) and new.anchor_at == local(2027, 5, 6, 14)  # before the cutoff
    assert series.outbox_messages.filter(kind=Kind.RESCHEDULED, status=Status.PENDING).count() == 1
    # The other sessions' rows are untouched.
    assert not series.outbox_messages.filter(session_number__in=[1, 2], status=Status.CANCELLED).exists()


def test_moving_back_revives_the_same_rows_instead_of_duplicating_them(series, practitioner):
    third = series.appointments.get(session_number=3)
    reminder = series.outbox_messages.get(session_number=3, kind=Kind.REMINDER)

    services.appointments_reschedule(moves=[(third, slot(local(2027, 5, 6, 14), practitioner))])
    third.refresh_from_db()
    services.appointments_reschedule(moves=[(third, slot(local(2027, 5, 4, 10), practitioner))])

    reminder.refresh_from_db()
    assert reminder.status == Status.PENDING
    assert (
        series.outbox_messages.filter(session_number=3, kind=Kind.REMINDER, status=Status.PENDING).count()
        == 1
    )


def test_cancelling_a_session_cancels_its_emails_and_plans_a_nudge_and_an_alert(series):
    services.appointment_cancel(appointment=series.appointments.get(session_number=2))

    assert set(rows(series, session_number=2, kind__in=outbox.reminders.PLANNED_KINDS)) == {
        (Kind.REMINDER, 2, Status.CANCELLED),
        (Kind.REMINDER_MORNING, 2, Status.CANCELLED),
        (Kind.AFTERCARE, 2, Status.CANCELLED),
        (Kind.AFTERCARE_FOLLOWUP, 2, Status.CANCELLED),
        (Kind.NEXT_SESSION, 2, Status.CANCELLED),
        (Kind.NUDGE, 2, Status.PENDING),
        (Kind.FRONT_DESK_ALERT, 2, Status.PENDING),
    }
    nudge = series.outbox_messages.get(kind=Kind.NUDGE)
    assert nudge.due_at == local(2027, 4, 6, 10)  # 28 days after 9 March, at the message time


def test_cancelling_the_rest_of_the_series_leaves_nothing_to_send_but_the_confirmation(series):
    services.series_cancel_remaining(series=series, from_session=1)

    assert series.outbox_messages.filter(status=Status.PENDING).exclude(kind=Kind.SERIES_BOOKED).count() == 1
    assert series.outbox_messages.get(status=Status.PENDING, kind=Kind.CANCELLED).appointment_ids == list(
        series.appointments.order_by("session_number").values_list("pk", flat=True)
    )


def test_a_no_show_gets_no_aftercare(series, frozen):
    first = series.appointments.get(session_number=1)
    frozen.move_to(local(2027, 3, 9, 11))

    services.appointment_mark(appointment=first, status=Appointment.Status.NO_SHOW)

    assert set(rows(series, session_number=1, kind__in=[Kind.AFTERCARE, Kind.AFTERCARE_FOLLOWUP])) == {
        (Kind.AFTERCARE, 1, Status.CANCELLED),
        (Kind.AFTERCARE_FOLLOWUP, 1, Status.CANCELLED),
    }


# --- Claiming and sending --------------------------------------------------------------------------


def test_the_dispatcher_claims_only_due_rows_in_batches(claim_due, series, frozen, settings):
    settings.OUTBOX_BATCH_SIZE = 2
    frozen.move_to(local(2027, 3, 9, 19))  # the confirmation and session 1's reminders and aftercare are due

    claims = claim_due()

    claimed = OutboxMessage.objects.filter(status=Status.SENDING)
    assert len(claims) == 2 and claimed.count() == 4
    assert set(claimed.values_list("kind", flat=True)) == {
        Kind.SERIES_BOOKED,
        Kind.REMINDER,
        Kind.REMINDER_MORNING,
        Kind.AFTERCARE,
    }
    assert claim_due() == []  # nothing else is due


def test_cancel_between_dispatch_and_send_sends_nothing_stale(claim_due, series, frozen, mailoutbox):
    frozen.move_to(local(2027, 4, 4, 10))  # session 2's reminder is due
    OutboxMessage.objects.filter(status=Status.PENDING).exclude(session_number=2).update(
        status=Status.SENT, sent_at=NOW
    )
    claims = claim_due()

    services.appointment_cancel(appointment=series.appointments.get(session_number=2), for_staff=True)
    for claim in claims:
        outbox.messages_send(claim=claim)

    assert mailoutbox == []
    assert series.outbox_messages.get(kind=Kind.REMINDER, session_number=2).status == Status.CANCELLED


def test_reschedule_between_dispatch_and_send_sends_nothing_stale(
    claim_due, series, frozen, practitioner, mailoutbox
):
    frozen.move_to(local(2027, 5, 2, 10))  # session 3's reminder is due
    OutboxMessage.objects.filter(status=Status.PENDING).exclude(session_number=3).update(
        status=Status.SENT, sent_at=NOW
    )
    claims = claim_due()

    services.appointments_reschedule(
        moves=[(series.appointments.get(session_number=3), slot(local(2027, 5, 6, 14), practitioner))],
        for_staff=True,
    )
    for claim in claims:
        outbox.messages_send(claim=claim)

    # Only the confirmation of the move (claimed by itself on commit, not in this batch) is new.
    assert mailoutbox == []
    assert series.outbox_messages.get(
        kind=Kind.REMINDER, session_number=3, anchor_at=local(2027, 5, 4, 10)
    ).status == (Status.CANCELLED)
    assert series.outbox_messages.get(kind=Kind.REMINDER, session_number=3, status=Status.PENDING).due_at == (
        local(2027, 5, 3, 14)
    )


def test_a_row_gone_stale_without_a_replan_is_refused_by_the_sender(claim_due, series, frozen, mailoutbox):
    frozen.move_to(local(2027, 4, 4, 10))
    OutboxMessage.objects.filter(status=Status.PENDING).exclude(session_number=2).update(
        status=Status.SENT, sent_at=NOW
    )
    claims = claim_due()
    # Changed behind the services' back (say, by a data fix): the sender still checks the plan.
    Appointment.objects.filter(series=series, session_number=2).update(
        start=local(2027, 4, 7, 10), end=local(2027, 4, 7, 11)
    )

    report = outbox.messages_send(claim=claims[0])

    # Session 2's reminder and its "next session" e-mail: both planned for the old time.
    assert mailoutbox == [] and len(report.stale) == 2


def test_a_claim_sent_twice_sends_each_row_once(claim_due, series, frozen, mailoutbox):
    frozen.move_to(local(2027, 3, 9, 8))  # the confirmation and session 1's two reminders
    claims = claim_due()

    first = [outbox.messages_send(claim=claim) for claim in claims]
    again = [outbox.messages_send(claim=claim) for claim in claims]

    assert len(mailoutbox) == 3 == sum(len(report.sent) for report in first)
    assert all(report.sent == [] for report in again)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_dispatchers_at_once_never_claim_the_same_row(settings):
    settings.OUTBOX_BATCH_SIZE = 5
    series = SeriesFactory()
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            key=f"test:{n}", kind=Kind.NUDGE, series=series, anchor_at=now, due_at=now - timedelta(minutes=1)
        )
        for n in range(600)
    )
    start = threading.Barrier(2)
    claimed: list[list[uuid.UUID]] = [[], []]
    counts = [0, 0]

    def dispatcher(index: int) -> None:
        try:
            start.wait(timeout=10)
            counts[index] = outbox.messages_claim_due(now=now, on_claim=claimed[index].append)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    claims = claimed[0] + claimed[1]
    per_claim = [OutboxMessage.objects.filter(claim=claim).count() for claim in claims]
    assert counts[0] + counts[1] == 600  # a row claimed by both would be counted twice
    assert counts[0] and counts[1], "both dispatchers should have found work (they ran at once)"
    assert sum(per_claim) == 600 == OutboxMessage.objects.filter(status=Status.SENDING).count()
    assert len(set(claims)) == len(claims) and all(count <= 5 for count in per_claim)


def test_a_mail_server_error_records_the_attempt_and_gives_the_rest_of_the_batch_back(
    claim_due, series, frozen, settings
):
    settings.EMAIL_BACKEND = "tests.bookings.test_outbox.RefusingBackend"
    frozen.move_to(local(2027, 3, 9, 19))
    (claim,) = claim_due()

    with pytest.raises(outbox.MailServerError) as failure:
        outbox.messages_send(claim=claim)

    first = OutboxMessage.objects.get(claim=claim)
    assert failure.value.retry and failure.value.message_id == first.pk
    assert (first.status, first.attempts) == (Status.SENDING, 1)
    assert "Connection unexpectedly closed" in first.last_error
    assert OutboxMessage.objects.filter(status=Status.PENDING, due_at__lte=timezone.now()).count() == 3


def test_after_the_last_attempt_the_row_is_failed(claim_due, series, frozen, settings):
    settings.EMAIL_BACKEND = "tests.bookings.test_outbox.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    frozen.move_to(local(2027, 3, 9, 9))
    (claim,) = claim_due()  # the confirmation and session 1's two reminders
    first = OutboxMessage.objects.get(kind=Kind.SERIES_BOOKED)

    for attempt in (1, 2, 3):
        with pytest.raises(outbox.MailServerError) as failure:
            outbox.messages_send(claim=claim)
        assert failure.value.retry is (attempt < 3)

    first.refresh_from_db()
    assert (first.status, first.attempts, first.claim) == (Status.FAILED, 3, None)


def test_a_refused_address_fails_at_once_and_the_batch_goes_on(
    claim_due, series, frozen, settings, mailoutbox
):
    frozen.move_to(local(2027, 3, 9, 9))
    series.patient.email = "jo@example.com\n"  # a header the mail library refuses
    series.patient.save()
    (claim,) = claim_due()

    report = outbox.messages_send(claim=claim)

    assert len(report.failed) == 3 and report.sent == []
    assert set(OutboxMessage.objects.filter(pk__in=report.failed).values_list("status", flat=True)) == {
        Status.FAILED
    }


def test_a_dead_workers_claim_is_handed_out_again_after_the_lease(claim_due, series, frozen, settings):
    settings.OUTBOX_CLAIM_LEASE_SECONDS = 600
    settings.OUTBOX_MAX_ATTEMPTS = 2
    frozen.move_to(local(2027, 3, 9, 9))
    (first_claim,) = claim_due()

    frozen.shift(timedelta(minutes=9))
    assert claim_due() == []  # within the lease: the worker may still be on it
    frozen.shift(timedelta(minutes=2))
    (second_claim,) = claim_due()

    assert OutboxMessage.objects.filter(claim=second_claim, attempts=1).count() == 3
    assert outbox.messages_send(claim=first_claim).sent == []  # the dead worker's claim is void
    frozen.shift(timedelta(minutes=11))
    assert claim_due() == []  # a second expiry uses up the attempts: failed, for staff to see
    assert OutboxMessage.objects.filter(status=Status.FAILED, last_error=outbox.LEASE_EXPIRED).count() == 3


def test_staff_can_send_a_failed_row_again(series):
    row = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    row.status, row.attempts = Status.FAILED, 6
    row.save()

    assert outbox.messages_retry(ids=[row.pk]) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 0)


def test_a_confirmation_claimed_by_the_dispatcher_is_not_claimed_again_by_send_now(claim_due, series):
    row = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    claim_due()

    assert outbox.messages_claim(ids=[row.pk]) is None


def test_keys_make_a_duplicate_row_impossible(series):
    from django.db import IntegrityError

    row = series.outbox_messages.get(kind=Kind.REMINDER, session_number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            key=row.key,
            kind=row.kind,
            series=series,
            session_number=1,
            anchor_at=row.anchor_at,
            due_at=row.due_at,
        )


def test_unknown_appointment_factory_rows_do_not_break_planning(db):
    # A series set up directly (as the diary tests do) plans like a booked one.
    appointment = AppointmentFactory(start=local(2027, 3, 2, 10), end=local(2027, 3, 2, 11))
    with transaction.atomic():
        outbox.series_replan(series=appointment.series, now=local(2027, 2, 1, 9))

    assert appointment.series.outbox_messages.filter(kind=Kind.REMINDER).count() == 1
