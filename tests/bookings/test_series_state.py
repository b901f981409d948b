"""The series' state follows its sessions, after every cancel (one, the rest; patient or staff).

- Cancelling "this session and all later ones" ends the series there: no "book your next session"
  nudge and no front-desk alert for sessions that are not coming; the series is active while a
  session is still to attend, then completed (or cancelled when none was attended).
- Cancelling a middle session that leaves the next one too far from the previous one says so, to
  the patient and the front desk, and offers times that bring the next session back in its window.
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from bookings import reminders, selectors, services
from bookings.availability import Slot
from bookings.models import Appointment, OutboxMessage, Series
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local

Kind = OutboxMessage.Kind
NOT_BOOKED = (Kind.NUDGE, Kind.FRONT_DESK_ALERT)


def session(series, number: int) -> Appointment:
    return series.appointments.active().get(session_number=number)


def pending(series, kinds) -> list[OutboxMessage]:
    return list(series.outbox_messages.filter(kind__in=kinds, status=OutboxMessage.Status.PENDING))


def test_cancelling_the_rest_plans_no_nudge_and_no_front_desk_alert(series):
    # Sessions on 9 March, 6 April and 4 May; the patient keeps the first and stops after it.
    services.series_cancel_remaining(series=series, from_session=2)

    series.refresh_from_db()
    assert series.status == Series.Status.ACTIVE  # session 1 is still to come
    assert series.ends_after_session == 1
    assert pending(series, NOT_BOOKED) == []
    assert pending(series, [Kind.REMINDER])  # session 1's reminders stay


def test_after_the_rest_is_cancelled_the_last_attended_session_completes_the_series(series):
    services.series_cancel_remaining(series=series, from_session=2)
    first = session(series, 1)

    services.appointment_mark(appointment=first, status=Appointment.Status.COMPLETED, now=first.start)

    series.refresh_from_db()
    assert series.status == Series.Status.COMPLETED
    assert pending(series, NOT_BOOKED + (Kind.NEXT_SESSION,)) == []


def test_cancelling_every_session_cancels_the_series_and_its_planned_emails(series):
    services.series_cancel_remaining(series=series, from_session=1)

    series.refresh_from_db()
    assert series.status == Series.Status.CANCELLED
    assert pending(series, reminders.PLANNED_KINDS) == []


def test_cancelling_one_session_then_the_rest_leaves_nothing_expected(series):
    services.appointment_cancel(appointment=session(series, 3))
    assert pending(series, NOT_BOOKED)  # a lone cancel: session 3 may be booked again

    services.series_cancel_remaining(series=series, from_session=2)

    series.refresh_from_db()
    assert series.ends_after_session == 1
    assert pending(series, NOT_BOOKED) == []


def test_staff_cancelling_the_rest_ends_the_series_too(client, front_desk, series):
    client.force_login(front_desk)

    second = session(series, 2)
    client.post(reverse("staff:cancel", args=[second.pk]), {"reason": "Moving away", "rest": "on"})

    series.refresh_from_db()
    assert series.ends_after_session == 1
    assert pending(series, NOT_BOOKED) == []


# --- A middle session cancelled --------------------------------------------------------------------


def test_a_middle_cancel_that_stretches_the_gap_is_flagged(series):
    services.appointment_cancel(appointment=session(series, 2))

    (gap,) = selectors.series_gaps(series)

    assert (gap.previous_number, gap.number, gap.days) == (1, 3, 56)
    assert gap.window == (local(2027, 4, 6).date(), local(2027, 4, 20).date())  # 28 to 42 days after 9 March
    assert "Session 3" in gap.sentence and "56 days after session 1" in gap.sentence


def test_no_gap_is_flagged_while_the_sessions_keep_their_spacing(series):
    services.appointment_cancel(appointment=session(series, 3))

    assert selectors.series_gaps(series) == []


def test_the_patient_is_told_and_offered_to_move_the_next_session(client, series, manage_url):
    client.post(reverse("bookings:manage_cancel", args=[manage_url.split("/")[-2], 2]))

    page = client.get(manage_url).content.decode()

    assert "Session 3 (Tuesday 4 May) is now 56 days after session 1" in page
    assert reverse("bookings:manage_move", args=[manage_url.split("/")[-2], 3]) in page
    assert "Book session 2 again between them, or move session 3" in page  # its row has the link


def test_moving_the_next_session_is_offered_inside_the_window_after_the_previous_one(series):
    services.appointment_cancel(appointment=session(series, 2))
    third = session(series, 3)

    options = selectors.session_options(appointment=third, for_staff=True)

    assert options
    days = {option.start.date() for option in options}
    assert min(days) >= local(2027, 4, 6).date() and max(days) <= local(2027, 4, 20).date()


def test_a_move_that_breaks_the_spacing_with_the_previous_live_session_is_refused(series, practitioner):
    services.appointment_cancel(appointment=session(series, 2))
    third = session(series, 3)
    too_soon = local(2027, 3, 16, 10)  # a week after session 1

    with pytest.raises(services.BookingError, match="28 to 42 days"):
        services.appointments_reschedule(
            moves=[(third, Slot(too_soon, too_soon + timedelta(hours=1), practitioner.pk))], for_staff=True
        )


def test_the_front_desk_sees_the_stretched_gap_on_the_session_page(client, front_desk, series):
    client.force_login(front_desk)
    second = session(series, 2)

    response = client.post(reverse("staff:cancel", args=[second.pk]), {"reason": "Ill"}, follow=True)

    assert "Session 3 (Tuesday 4 May) is now 56 days after session 1" in response.content.decode()
    page = client.get(reverse("staff:appointment", args=[session(series, 3).pk])).content.decode()
    assert "56 days after session 1" in page


def test_a_cancel_after_the_last_attended_session_completes_the_series(series):
    """A series whose sessions are all attended or cancelled is over, whichever order they came in."""
    first = session(series, 1)
    with time_machine.travel(first.start + timedelta(minutes=5), tick=False):
        services.appointment_mark(appointment=first, status=Appointment.Status.COMPLETED)
    services.series_cancel_remaining(series=series, from_session=2, for_staff=True)

    series.refresh_from_db()
    assert series.status == Series.Status.COMPLETED


def test_booking_a_session_again_after_cancelling_the_rest_resumes_the_series(series, practitioner):
    services.series_cancel_remaining(series=series, from_session=2)
    again = local(2027, 4, 6, 14)

    services.session_rebook(series=series, number=2, slot=Slot(again, again + timedelta(hours=1), practitioner.pk))

    series.refresh_from_db()
    assert series.ends_after_session is None
    assert session(series, 2).patient_id == series.patient_id
    assert pending(series, NOT_BOOKED)  # session 3 is expected again
