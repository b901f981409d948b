"""The manage link books a cancelled session again, inside its spacing window, through the service."""

import re
import threading

import pytest
from django.db import connection

from bookings import outbox, services
from bookings.ics import appointment_uid
from bookings.models import Appointment, OutboxMessage, Series
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_path
from tests.bookings.calendars import assert_matches_database, read_everywhere
from tests.bookings.factories import AppointmentFactory, local, microneedling_clinic, slot
from tests.bookings.patient_fixtures import (  # noqa: F401
    frozen,
    key,
    manage_url,
    practitioner,
    series,
    treatment,
)

Kind = OutboxMessage.Kind


def book_url(manage_url, number):
    return f"{manage_url}sessions/{number}/book/"


def rebook(client, manage_url, number, start, practitioner):
    """Choose a time, then confirm it, as the pages ask."""
    page = client.post(book_url(manage_url, number), {"slot": key(start, practitioner)}).content.decode()
    match = re.search(r'name="confirm" value="([^"]+)"', page)
    assert match, page
    return client.post(book_url(manage_url, number), {"slot": key(start, practitioner), "confirm": match.group(1)})


def live(series):
    return {a.session_number: a.start for a in series.appointments.active()}


@pytest.fixture
def second_cancelled(series):
    """Session 2 (Tuesday 6 April) cancelled; sessions 1 (9 March) and 3 (4 May) still booked."""
    services.appointment_cancel(appointment=series.appointments.get(session_number=2))
    return series


def test_the_manage_page_offers_to_book_a_cancelled_session_again(client, second_cancelled, manage_url):
    html = client.get(manage_url).content.decode()

    assert book_url(manage_url, 2) in html and "Book session 2 again" in html
    assert book_url(manage_url, 1) not in html and book_url(manage_url, 3) not in html


def test_the_book_page_offers_only_times_inside_the_window_of_both_neighbours(client, second_cancelled, manage_url):
    html = client.get(book_url(manage_url, 2)).content.decode()

    # 28 to 42 days after 9 March and 28 to 42 days before 4 May: Tuesday 6 April only.
    assert "session 2 can be on Tuesday 6 April." in html
    assert 'aria-label="Book Tuesday 6 April, 14:00 with Dr Ana Silva"' in html
    assert "7 April" not in html


def test_booking_a_cancelled_session_again_after_confirming(
    client, second_cancelled, manage_url, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    series = second_cancelled
    uid = appointment_uid(series.appointments.get(session_number=2))
    page = client.post(book_url(manage_url, 2), {"slot": key(local(2027, 4, 6, 14), practitioner)}).content.decode()
    assert "Book session 2 on <strong>Tuesday 6 April 2027, 14:00</strong> with Dr Ana Silva?" in page
    assert 2 not in live(series)  # nothing booked before the patient confirms

    with django_capture_on_commit_callbacks(execute=True):
        response = rebook(client, manage_url, 2, local(2027, 4, 6, 14), practitioner)

    assert response.status_code == 302 and response.url == manage_url
    assert live(series)[2] == local(2027, 4, 6, 14)
    again = series.appointments.get(session_number=2, status=Appointment.Status.BOOKED)
    assert again.sequence == 2  # booked (0), cancelled (1), booked again (2): one more than the cancel
    (message,) = [m for m in mailoutbox if m.subject.startswith("Your session is booked")]
    assert "Session 2: Tuesday 6 April 2027, 14:00 with Dr Ana Silva" in message.body
    (part,) = message.attachments
    seen = read_everywhere(part.get_payload(decode=True))
    assert_matches_database(seen, series)
    events = seen["events"]
    assert (events[1]["uid"], events[1]["sequence"], events[1]["status"]) == (uid, 2, "CONFIRMED")
    assert events[1]["start"] == "2027-04-06T13:00:00Z"
    assert series.outbox_messages.filter(kind=Kind.REMINDER, session_number=2, status="pending").exists()


def test_a_time_outside_the_window_is_refused_and_nothing_is_booked(client, second_cancelled, manage_url, practitioner):
    response = client.post(book_url(manage_url, 2), {"slot": key(local(2027, 4, 7, 10), practitioner)})

    assert response.status_code == 400
    assert "That time is no longer free" in response.content.decode()
    assert 2 not in live(second_cancelled)


def test_a_session_is_booked_after_the_one_before_it(client, series, manage_url):
    services.series_cancel_remaining(series=series, from_session=2)

    html = client.get(manage_url).content.decode()
    response = client.get(book_url(manage_url, 3), follow=True)

    assert book_url(manage_url, 2) in html and book_url(manage_url, 3) not in html
    assert "Please book session 2 first" in response.content.decode()


def test_a_booked_session_is_moved_not_booked_again(client, series, manage_url):
    response = client.get(book_url(manage_url, 2), follow=True)

    assert "Session 2 is already booked" in response.content.decode()


def test_a_closed_series_is_not_booked_again_online(client, series, manage_url):
    Series.objects.filter(pk=series.pk).update(status=Series.Status.CANCELLED)
    Appointment.objects.filter(series=series, session_number=2).update(status=Appointment.Status.CANCELLED)

    response = client.get(book_url(manage_url, 2), follow=True)

    assert "please call the clinic" in response.content.decode()
    assert book_url(manage_url, 2) not in client.get(manage_url).content.decode()


def test_a_time_taken_meanwhile_is_refused_with_fresh_times(second_cancelled, practitioner):
    AppointmentFactory(practitioner=practitioner, start=local(2027, 4, 6, 14), end=local(2027, 4, 6, 15))

    with pytest.raises(services.SlotTaken) as taken:
        services.session_rebook(
            series=second_cancelled, number=2, slot=slot(local(2027, 4, 6, 14), practitioner)
        )

    assert local(2027, 4, 6, 15) in [alternative.start for alternative in taken.value.alternatives]
    assert 2 not in live(second_cancelled)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_tabs_booking_the_same_session_again_book_it_once():
    """The service locks the series: the second racer waits, then finds session 2 booked."""
    treatment, (practitioner,), _ = microneedling_clinic(sessions=3, min_notice_hours=24, horizon_days=90)
    now = local(2027, 3, 1, 8)
    series = services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name="Jo Bloggs", email="jo@example.com", phone="07700 900123"),
        slots=[slot(local(2027, 3, 9, 10), practitioner), slot(local(2027, 4, 6, 10), practitioner),
               slot(local(2027, 5, 4, 10), practitioner)],
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
        now=now,
    )
    services.appointment_cancel(appointment=series.appointments.get(session_number=2), now=now)
    times = [local(2027, 4, 6, 11), local(2027, 4, 6, 14)]  # different times: only the series lock decides
    barrier = threading.Barrier(len(times))
    outcomes: list[object] = [None] * len(times)

    def racer(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = services.session_rebook(
                series=series, number=2, slot=slot(times[index], practitioner), now=now
            )
        except Exception as exc:  # noqa: BLE001 — every outcome is inspected below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(index,)) for index in range(len(times))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    won = [outcome for outcome in outcomes if isinstance(outcome, Appointment)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, services.BookingError)]
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert "already booked" in refused[0].message
    assert series.appointments.active().filter(session_number=2).count() == 1
    assert outbox.OutboxMessage.objects.filter(series=series, kind=Kind.REBOOKED).count() == 1
    assert manage_path(series)  # the series is still reachable from its link
