"""
A change made from a page shown earlier is refused when the session changed meanwhile.

Two tabs (or the patient and the front desk) both show session 2 and both offer to move or cancel
it. Whoever acts second acted on a view that no longer holds: refused with "this changed
meanwhile", the page shown again as it is now, nothing changed, no second "moved" e-mail.
"""

import re
import threading

import pytest
from django.db import connection
from django.urls import reverse

from bookings import selectors, services
from bookings.errors import CHANGED, BookingError
from bookings.models import Appointment, OutboxMessage
from tests.bookings.factories import local, slot
from tests.bookings.staff_fixtures import *  # noqa: F403
from tests.bookings.staff_fixtures import front_desk, key, manage_url, practitioner, series  # noqa: F401

Kind = OutboxMessage.Kind


def seen_on(page) -> str:
    """The hidden field a page's change form carries: the versions of what it shows."""
    found = re.search(r'name="seen" value="([^"]*)"', page.content.decode())
    assert found, "the form carries no record of what it showed"
    return found.group(1)


def moved_confirmations(series) -> int:
    return series.outbox_messages.filter(kind=Kind.RESCHEDULED).count()


def session(series, number) -> Appointment:
    return series.appointments.active().get(session_number=number)


# --- The manage link ------------------------------------------------------------------------------------


def patient_move(client, manage_url, number, start, practitioner, seen):
    """Pick a time and confirm the plan shown, as a tab does; the last response."""
    url = f"{manage_url}sessions/{number}/move/"
    check = client.post(url, {"slot": key(start, practitioner), "seen": seen})
    found = re.search(r'name="confirm" value="([^"]+)"', check.content.decode())
    if check.status_code != 200 or not found:
        return check
    chosen = {"slot": key(start, practitioner), "seen": seen_on(check), "confirm": found.group(1)}
    return client.post(url, chosen)


def test_two_tabs_moving_one_session_the_second_is_refused(client, series, manage_url, practitioner):
    url = f"{manage_url}sessions/2/move/"
    tab_a, tab_b = seen_on(client.get(url)), seen_on(client.get(url))

    first = patient_move(client, manage_url, 2, local(2027, 4, 6, 14), practitioner, tab_a)
    second = patient_move(client, manage_url, 2, local(2027, 4, 7, 11), practitioner, tab_b)

    assert first.status_code == 302
    assert second.status_code == 409
    html = second.content.decode()
    assert CHANGED in html
    assert "Tuesday 6 April 2027, 14:00" in html or "Tuesday 6 April, 14:00" in html  # as it is now
    assert session(series, 2).start == local(2027, 4, 6, 14)
    assert moved_confirmations(series) == 1


def test_a_tab_confirming_a_plan_after_another_tab_moved_is_refused(
    client, series, manage_url, practitioner
):
    url = f"{manage_url}sessions/2/move/"
    seen = seen_on(client.get(url))
    check = client.post(url, {"slot": key(local(2027, 4, 7, 11), practitioner), "seen": seen})
    fingerprint = re.search(r'name="confirm" value="([^"]+)"', check.content.decode()).group(1)
    # Another tab moves session 2 (and back again: the times are as before, the page is not).
    patient_move(client, manage_url, 2, local(2027, 4, 6, 14), practitioner, seen)
    patient_move(client, manage_url, 2, local(2027, 4, 6, 10), practitioner, seen_on(client.get(url)))

    stale_tab = {"slot": key(local(2027, 4, 7, 11), practitioner), "confirm": fingerprint}
    response = client.post(url, {**stale_tab, "seen": seen_on(check)})

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert session(series, 2).start == local(2027, 4, 6, 10)
    assert moved_confirmations(series) == 2


def test_a_cancel_from_a_page_shown_before_a_move_is_refused(client, series, manage_url, practitioner):
    page = client.get(f"{manage_url}sessions/2/cancel/")
    new = slot(local(2027, 4, 6, 14), practitioner)
    moves = selectors.reschedule_plan(appointment=session(series, 2), new=new)
    services.appointments_reschedule(moves=moves, for_staff=True)

    response = client.post(f"{manage_url}sessions/2/cancel/", {"seen": seen_on(page)})

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert session(series, 2).status == Appointment.Status.BOOKED


def test_a_cancel_the_rest_from_a_page_shown_before_a_later_session_moved_is_refused(
    client, series, manage_url, practitioner
):
    page = client.get(f"{manage_url}sessions/2/cancel-rest/")
    new = slot(local(2027, 5, 4, 14), practitioner)
    moves = selectors.reschedule_plan(appointment=session(series, 3), new=new)
    services.appointments_reschedule(moves=moves, for_staff=True)

    response = client.post(f"{manage_url}sessions/2/cancel-rest/", {"seen": seen_on(page)})

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert not series.appointments.filter(status=Appointment.Status.CANCELLED).exists()


# --- The staff workspace --------------------------------------------------------------------------------


def test_a_staff_move_from_a_page_shown_before_the_patient_moved_is_refused(
    client, series, front_desk, practitioner
):
    client.force_login(front_desk)
    second = session(series, 2)
    page = client.get(reverse("staff:move", args=[second.pk]))
    moves = selectors.reschedule_plan(appointment=second, new=slot(local(2027, 4, 6, 14), practitioner))
    services.appointments_reschedule(moves=moves)  # the patient, on the manage link

    response = client.post(
        reverse("staff:move", args=[second.pk]),
        {"slot": key(local(2027, 4, 7, 11), practitioner), "seen": seen_on(page)},
    )

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert session(series, 2).start == local(2027, 4, 6, 14)
    assert moved_confirmations(series) == 1


def test_a_staff_cancel_from_a_page_shown_before_the_patient_moved_is_refused(
    client, series, front_desk, practitioner
):
    client.force_login(front_desk)
    second = session(series, 2)
    page = client.get(reverse("staff:appointment", args=[second.pk]))
    moves = selectors.reschedule_plan(appointment=second, new=slot(local(2027, 4, 6, 14), practitioner))
    services.appointments_reschedule(moves=moves)

    response = client.post(
        reverse("staff:cancel", args=[second.pk]), {"reason": "Patient called", "seen": seen_on(page)}
    )

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert session(series, 2).status == Appointment.Status.BOOKED


# --- The service, with two tabs confirming at the same instant ---------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_moves_of_one_version_at_once_one_wins_the_other_is_told_it_changed(series, practitioner):
    second = session(series, 2)
    seen = {second.pk: second.version}
    targets = [local(2027, 4, 6, 14), local(2027, 4, 7, 11)]
    plans = [selectors.reschedule_plan(appointment=second, new=slot(at, practitioner)) for at in targets]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def move(index):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = services.appointments_reschedule(moves=plans[index], seen=seen)
        except BookingError as refusal:
            outcomes[index] = refusal
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    refusals = [outcome for outcome in outcomes if isinstance(outcome, BookingError)]
    assert len(refusals) == 1 and refusals[0].code == "changed", outcomes
    assert session(series, 2).start in targets
    assert moved_confirmations(series) == 1
