"""
A whole 4-session series lived through with time-machine: the dispatcher runs as beat would (a
minute before each due time it finds nothing, at the due time it sends), the clinic marks sessions
completed, and the patient moves session 3. Every e-mail is sent once, in order, at its local time,
including across the spring daylight-saving change (Sunday 28 March 2027).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from bookings import outbox, services, tasks
from bookings.models import Appointment, OutboxMessage
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PatientFactory, local, microneedling_clinic, series_slots, slot

Kind, Status = OutboxMessage.Kind, OutboxMessage.Status
LONDON = ZoneInfo("Europe/London")

# What the patient receives, and when (clinic time). Session 3 moves from 27 to 29 April on 10 April.
EXPECTED = [
    (Kind.SERIES_BOOKED, 0, local(2027, 3, 1, 8)),
    (Kind.REMINDER_MORNING, 1, local(2027, 3, 2, 8)),  # "2 days before" had passed at booking
    (Kind.AFTERCARE, 1, local(2027, 3, 2, 19)),
    (Kind.AFTERCARE_FOLLOWUP, 1, local(2027, 3, 5, 10)),
    (Kind.NEXT_SESSION, 2, local(2027, 3, 23, 10)),  # GMT
    (Kind.REMINDER, 2, local(2027, 3, 28, 10)),  # the day the clocks go forward: 10:00 BST
    (Kind.REMINDER_MORNING, 2, local(2027, 3, 30, 8)),
    (Kind.AFTERCARE, 2, local(2027, 3, 30, 19)),
    (Kind.AFTERCARE_FOLLOWUP, 2, local(2027, 4, 2, 10)),
    (Kind.RESCHEDULED, 3, local(2027, 4, 10, 12)),
    (Kind.NEXT_SESSION, 3, local(2027, 4, 22, 10)),
    (Kind.REMINDER, 3, local(2027, 4, 27, 10)),
    (Kind.REMINDER_MORNING, 3, local(2027, 4, 29, 8)),
    (Kind.AFTERCARE, 3, local(2027, 4, 29, 19)),
    (Kind.AFTERCARE_FOLLOWUP, 3, local(2027, 5, 2, 10)),
    (Kind.NEXT_SESSION, 4, local(2027, 5, 18, 10)),
    (Kind.REMINDER, 4, local(2027, 5, 23, 10)),
    (Kind.REMINDER_MORNING, 4, local(2027, 5, 25, 8)),
    (Kind.AFTERCARE, 4, local(2027, 5, 25, 19)),
    (Kind.AFTERCARE_FOLLOWUP, 4, local(2027, 5, 28, 10)),
]


def dispatch() -> int:
    """One beat tick: claim what is due and hand it to the senders (eager in-process here)."""
    return outbox.messages_claim_due(on_claim=tasks.send_claimed_later)


def test_a_four_session_series_gets_every_email_once_in_order_at_local_times(
    db, django_capture_on_commit_callbacks, mailoutbox
):
    with time_machine.travel(local(2027, 3, 1, 8), tick=False) as traveller:
        # A 24-hour cutoff keeps session 2's reminder 2 days before it, on the day the clocks change.
        treatment, (practitioner,), _ = microneedling_clinic(
            sessions=4, min_notice_hours=24, horizon_days=90, cancellation_cutoff_hours=24
        )
        treatment.min_days_between, treatment.max_days_between = 21, 42
        treatment.save()
        with django_capture_on_commit_callbacks(execute=True):
            series = services.series_book(
                treatment=treatment,
                patient=PatientFactory(),
                slots=series_slots(practitioner, local(2027, 3, 2, 10), 4),
                answers={question.key: False for question in QUESTIONS},
                consent_treatment=True,
                consent_privacy=True,
            )

        def complete(number):
            def action():
                appointment = series.appointments.get(session_number=number, status=Appointment.Status.BOOKED)
                services.appointment_mark(appointment=appointment, status=Appointment.Status.COMPLETED)

            return action

        def move_third():
            third = series.appointments.get(session_number=3)
            services.appointments_reschedule(moves=[(third, slot(local(2027, 4, 29, 10), practitioner))])

        actions = [
            (local(2027, 3, 2, 11), complete(1)),
            (local(2027, 3, 30, 11), complete(2)),
            (local(2027, 4, 10, 12), move_third),
            (local(2027, 4, 29, 11), complete(3)),
            (local(2027, 5, 25, 11), complete(4)),
        ]
        while True:
            pending = OutboxMessage.objects.filter(status=Status.PENDING).order_by("due_at")
            due = pending.values_list("due_at", flat=True).first()
            if actions and (due is None or actions[0][0] < due):
                when, action = actions.pop(0)
                traveller.move_to(when)
                with django_capture_on_commit_callbacks(execute=True):
                    action()
                continue
            if due is None:
                break
            with django_capture_on_commit_callbacks(execute=True):
                traveller.move_to(due - timedelta(minutes=1))
                assert dispatch() == 0, f"something was sent before {due:%Y-%m-%d %H:%M}"
                traveller.move_to(due)
                assert dispatch() >= 1

        sent = list(series.outbox_messages.filter(status=Status.SENT).order_by("sent_at", "pk"))
        assert [(row.kind, row.session_number, row.sent_at.astimezone(LONDON)) for row in sent] == EXPECTED
        assert len(mailoutbox) == len(EXPECTED)
        assert len({message.extra_headers["Message-ID"] for message in mailoutbox}) == len(EXPECTED)
        reminder_on_the_change_day = next(
            row for row in sent if (row.kind, row.session_number) == (Kind.REMINDER, 2)
        )
        assert reminder_on_the_change_day.sent_at.astimezone(ZoneInfo("UTC")).hour == 9  # 10:00 BST
        # Session 3's e-mails for 27 April were never sent: cancelled when it moved.
        assert set(
            series.outbox_messages.filter(anchor_at=local(2027, 4, 27, 10)).values_list("status", flat=True)
        ) == {Status.CANCELLED}
        assert not series.outbox_messages.filter(
            status__in=[Status.PENDING, Status.SENDING, Status.FAILED]
        ).exists()
        assert timezone.now() == local(2027, 5, 28, 10)
