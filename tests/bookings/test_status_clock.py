"""Status changes have a clock: each status only in its window around the session, the
irreversible ones asked first, the same day's mistakes undone, a review confirmed, all audited.

Session 1 of the fixture series is on Tuesday 9 March 2027, 10:00–11:00 (London).
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from bookings import services
from bookings.models import Appointment, AuditEvent, OutboxMessage, Series
from bookings.services import BookingError
from tests.bookings.staff_fixtures import *
from tests.bookings.factories import AppointmentFactory
from tests.bookings.staff_fixtures import book_for, local

Status = Appointment.Status
START = local(2027, 3, 9, 10)


def session(series, number: int = 1) -> Appointment:
    return series.appointments.exclude(status=Status.CANCELLED).get(session_number=number)


def mark(appointment, status, at, **extra):
    return services.appointment_mark(appointment=appointment, status=status, now=at, **extra)


def pending(series, kind) -> int:
    return series.outbox_messages.filter(kind=kind, status=OutboxMessage.Status.PENDING).count()


# --- Windows ----------------------------------------------------------------------------------------


def test_completed_the_day_before_is_refused(series):
    with pytest.raises(BookingError) as refused:
        mark(session(series), Status.COMPLETED, START - timedelta(days=1))

    assert refused.value.code == "too_early"
    assert "once it has started" in refused.value.message
    assert session(series).status == Status.BOOKED


def test_checking_in_days_early_is_refused_and_keeps_the_reminders(series):
    reminders_before = pending(series, OutboxMessage.Kind.REMINDER_MORNING)

    with pytest.raises(BookingError) as refused:
        mark(session(series), Status.CHECKED_IN, START - timedelta(days=3))

    assert refused.value.code == "too_early"
    assert "Check-in opens at 08:00 on Tuesday 9 March" in refused.value.message
    assert pending(series, OutboxMessage.Kind.REMINDER_MORNING) == reminders_before > 0


def test_check_in_opens_two_hours_before_the_start(series):
    with pytest.raises(BookingError):
        mark(session(series), Status.CHECKED_IN, START - timedelta(hours=2, minutes=1))

    mark(session(series), Status.CHECKED_IN, START - timedelta(hours=2))

    assert session(series).status == Status.CHECKED_IN


def test_check_in_closes_at_the_end_of_the_sessions_day(series):
    with pytest.raises(BookingError) as refused:
        mark(session(series), Status.CHECKED_IN, local(2027, 3, 10, 0, 0))

    assert refused.value.code == "too_late"


def test_a_no_show_waits_for_the_grace_period_after_the_start(series):
    with pytest.raises(BookingError) as refused:
        mark(session(series), Status.NO_SHOW, START + timedelta(minutes=14))

    mark(session(series), Status.NO_SHOW, START + timedelta(minutes=15))

    assert refused.value.code == "too_early"
    assert "only once its start time has passed" in refused.value.message
    assert session(series).status == Status.NO_SHOW


# --- Undo the same day -------------------------------------------------------------------------------


def test_a_no_show_is_undone_the_same_day_and_its_aftercare_planned_again(series, front_desk):
    mark(session(series), Status.NO_SHOW, START + timedelta(minutes=20))
    assert pending(series, OutboxMessage.Kind.AFTERCARE) == 2  # sessions 2 and 3 only

    services.appointment_unmark(appointment=session(series), by=front_desk, now=START + timedelta(hours=3))

    first = session(series)
    assert first.status == Status.BOOKED
    assert pending(series, OutboxMessage.Kind.AFTERCARE) == 3
    event = first.audit_events.get(action=AuditEvent.Action.UNDONE)
    assert (event.before["status"], event.after["status"], event.actor) == ("no_show", "booked", front_desk)


def test_a_check_in_is_undone_the_same_day(series):
    mark(session(series), Status.CHECKED_IN, START - timedelta(minutes=30))

    services.appointment_unmark(appointment=session(series), now=START - timedelta(minutes=20))

    assert session(series).status == Status.BOOKED


def test_yesterdays_change_is_not_undone(series):
    mark(session(series), Status.COMPLETED, START + timedelta(minutes=50))

    with pytest.raises(BookingError) as refused:
        services.appointment_unmark(appointment=session(series), now=local(2027, 3, 10, 9))

    assert refused.value.code == "undo_closed"
    assert session(series).status == Status.COMPLETED


def test_undoing_the_last_completed_session_reopens_the_series(series):
    services.series_cancel_remaining(series=series, from_session=2)
    mark(session(series), Status.COMPLETED, START + timedelta(minutes=50))
    series.refresh_from_db()
    assert series.status == Series.Status.COMPLETED

    services.appointment_unmark(appointment=session(series), now=START + timedelta(hours=1))

    series.refresh_from_db()
    assert series.status == Series.Status.ACTIVE


def test_a_no_show_whose_time_was_booked_again_is_not_undone(series, practitioner):
    mark(session(series), Status.NO_SHOW, START + timedelta(minutes=20))
    # Someone else's appointment now holds the freed time (written directly: the set-up, not the subject).
    AppointmentFactory(practitioner=practitioner, start=START, end=START + timedelta(hours=1))

    with pytest.raises(BookingError) as refused:
        services.appointment_unmark(appointment=session(series), now=START + timedelta(minutes=30))

    assert refused.value.code == "taken"
    assert "booked for someone else" in refused.value.message
    assert session(series).status == Status.NO_SHOW


def test_only_a_recorded_status_is_undone(series):
    with pytest.raises(BookingError) as refused:
        services.appointment_unmark(appointment=session(series), now=START)

    assert refused.value.code == "not_marked"


# --- A session held for review -----------------------------------------------------------------------


@pytest.fixture
def flagged(treatment, practitioner):
    return book_for(treatment, local(2027, 3, 10, 10), practitioner, flagged=("keloid",))


def test_checking_in_a_flagged_patient_needs_the_review_confirmed(flagged, ana):
    first = session(flagged)
    at = local(2027, 3, 10, 9, 30)

    with pytest.raises(BookingError) as refused:
        mark(first, Status.CHECKED_IN, at, by=ana)
    mark(first, Status.CHECKED_IN, at, by=ana, review_done=True)

    assert refused.value.code == "review_needed"
    first.refresh_from_db()
    flagged.refresh_from_db()
    assert first.status == Status.CHECKED_IN and not flagged.needs_review and not first.needs_review
    assert first.audit_events.filter(action=AuditEvent.Action.REVIEW_CLEARED, actor=ana).exists()


# --- The staff screens ------------------------------------------------------------------------------


def action(appointment, name: str) -> str:
    return reverse("staff:action", args=[appointment.pk, name])


def test_a_check_in_days_early_is_refused_with_a_sentence_on_the_page(client, front_desk, series):
    client.force_login(front_desk)

    response = client.post(action(session(series), "check-in"), follow=True)

    assert response.status_code == 200
    assert "Check-in opens at 08:00 on Tuesday 9 March" in response.content.decode()
    assert session(series).status == Status.BOOKED


def test_marking_completed_asks_first(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series)

    with time_machine.travel(START + timedelta(minutes=55), tick=False):
        asked = client.post(action(first, "complete"), {"next": "/staff/?date=2027-03-09"})
        assert session(series).status == Status.BOOKED
        done = client.post(action(first, "complete"), {"next": "/staff/?date=2027-03-09", "confirm": "yes"})

    assert asked.status_code == 200
    assert "Mark session 1 as completed?" in asked.content.decode()
    assert done.status_code == 302 and done.url == "/staff/?date=2027-03-09"
    assert session(series).status == Status.COMPLETED


def test_a_no_show_asks_first_then_can_be_undone_the_same_day(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series)

    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        asked = client.post(action(first, "no-show"))
        client.post(action(first, "no-show"), {"confirm": "yes"})
        page = client.get(reverse("staff:appointment", args=[first.pk])).content.decode()
        client.post(action(first, "undo"))

    assert "Mark session 1 as a no-show?" in asked.content.decode()
    assert "Undo" in page
    assert session(series).status == Status.BOOKED


def test_the_front_desk_is_told_a_flagged_patient_needs_a_practitioner(client, front_desk, flagged):
    client.force_login(front_desk)
    first = session(flagged)

    with time_machine.travel(local(2027, 3, 10, 9, 30), tick=False):
        response = client.post(
            action(first, "check-in"), {"confirm": "yes", "review_done": "on"}, follow=True
        )

    assert "practitioner" in response.content.decode() and "review" in response.content.decode()
    assert session(flagged).status == Status.BOOKED


def test_a_practitioner_confirms_the_review_while_checking_in(client, ana, flagged):
    client.force_login(ana)
    first = session(flagged)

    with time_machine.travel(local(2027, 3, 10, 9, 30), tick=False):
        asked = client.post(action(first, "check-in"))
        client.post(action(first, "check-in"), {"confirm": "yes", "review_done": "on"})

    assert 'name="review_done"' in asked.content.decode()
    assert session(flagged).status == Status.CHECKED_IN
