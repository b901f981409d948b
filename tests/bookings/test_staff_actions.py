"""Actions on an appointment from the staff workspace: each calls the service and leaves an audit event."""

import re

import time_machine
from django.urls import reverse

from bookings.models import Appointment, AuditEvent
from bookings.tokens import manage_path
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for, key, local


def session(series, number: int) -> Appointment:
    return series.appointments.active().get(session_number=number)


def action(appointment, name: str) -> str:
    return reverse("staff:action", args=[appointment.pk, name])


def test_front_desk_checks_a_patient_in_and_returns_to_the_diary(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    with time_machine.travel(local(2027, 3, 9, 9, 45), tick=False):  # check-in opens 2 hours before
        response = client.post(action(first, "check-in"), {"next": "/staff/?date=2027-03-09"})

    assert response.status_code == 302 and response.url == "/staff/?date=2027-03-09"
    first.refresh_from_db()
    assert first.status == Appointment.Status.CHECKED_IN
    event = AuditEvent.objects.get(appointment=first, action=AuditEvent.Action.CHECKED_IN)
    assert (event.actor, event.actor_label) == (front_desk, "Fran")
    assert (event.before["status"], event.after["status"]) == ("booked", "checked_in")


def test_an_outside_next_address_is_ignored(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    response = client.post(action(first, "check-in"), {"next": "https://evil.example/"})

    assert response.url == reverse("staff:appointment", args=[first.pk])


def test_marking_completed_after_check_in(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)
    with time_machine.travel(local(2027, 3, 9, 10, 55), tick=False):
        client.post(action(first, "check-in"))

        client.post(action(first, "complete"), {"confirm": "yes"})  # asked first: see test_status_clock.py

    first.refresh_from_db()
    assert first.status == Appointment.Status.COMPLETED
    assert list(first.audit_events.values_list("action", flat=True)) == ["booked", "checked_in", "completed"]


def test_a_no_show_before_the_start_is_refused_with_a_sentence(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    response = client.post(action(first, "no-show"), follow=True)

    assert "only once its start time has passed" in response.content.decode()
    first.refresh_from_db()
    assert first.status == Appointment.Status.BOOKED


def test_a_no_show_after_the_start_frees_the_time(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    with time_machine.travel(local(2027, 3, 9, 10, 30), tick=False):
        client.post(action(first, "no-show"), {"confirm": "yes"})

    first.refresh_from_db()
    assert first.status == Appointment.Status.NO_SHOW
    assert first.audit_events.filter(action="no_show", actor=front_desk).exists()


def test_checking_in_a_cancelled_session_is_refused_with_a_sentence(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)
    client.post(reverse("staff:cancel", args=[first.pk]), {"reason": "Unwell"})

    response = client.post(action(first, "check-in"), follow=True)

    assert "cannot be marked checked in" in response.content.decode()


def test_an_unknown_action_is_not_found(client, front_desk, series):
    client.force_login(front_desk)

    assert client.post(action(session(series, 1), "teleport")).status_code == 404


def test_staff_cancel_inside_the_patients_cutoff_with_a_reason(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    with time_machine.travel(local(2027, 3, 9, 8), tick=False):  # two hours before: patients must call
        response = client.post(
            reverse("staff:cancel", args=[first.pk]), {"reason": "Called in sick"}, follow=True
        )

    assert "is cancelled" in response.content.decode()
    first.refresh_from_db()
    assert (first.status, first.cancel_reason) == (Appointment.Status.CANCELLED, "Called in sick")
    event = first.audit_events.get(action="cancelled")
    assert event.actor == front_desk
    assert (event.before["status"], event.after["status"]) == ("booked", "cancelled")


def test_cancelling_without_a_reason_asks_for_one(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    response = client.post(reverse("staff:cancel", args=[first.pk]), {"reason": "  "})

    assert response.status_code == 400
    assert "Give a reason for cancelling" in response.content.decode()
    first.refresh_from_db()
    assert first.status == Appointment.Status.BOOKED


def test_reschedule_offers_only_times_keeping_the_series_spacing(client, front_desk, series):
    client.force_login(front_desk)
    second = session(series, 2)  # Tue 6 April; session 1 on 9 March, session 3 on 4 May: 28 days each side

    page = client.get(reverse("staff:move", args=[second.pk])).content.decode()
    keeping, later = page.split('id="later-heading"')

    assert key(local(2027, 4, 6, 14), second.practitioner) in keeping
    assert key(local(2027, 4, 7, 10), second.practitioner) not in keeping  # 27 days before session 3
    assert key(local(2027, 4, 7, 10), second.practitioner) in later  # …unless session 3 moves too
    assert key(local(2027, 4, 5, 10), second.practitioner) not in page  # 27 days after session 1: too soon
    assert key(local(2027, 4, 6, 10), second.practitioner) not in page  # where it is now


def test_reschedule_moves_the_session_and_records_before_and_after(client, front_desk, series):
    client.force_login(front_desk)
    second = session(series, 2)
    new_start = local(2027, 4, 6, 14)

    response = client.post(
        reverse("staff:move", args=[second.pk]), {"slot": key(new_start, second.practitioner)}, follow=True
    )

    assert "Moved session 2 to Tuesday 6 April, 14:00" in response.content.decode()
    second.refresh_from_db()
    assert second.start == new_start
    event = second.audit_events.get(action="moved")
    assert event.actor == front_desk
    assert event.before["start"] == local(2027, 4, 6, 10).isoformat()
    assert event.after["start"] == new_start.isoformat()
    assert "14:00" in response.content.decode()  # the history on the appointment page


def test_reschedule_to_a_time_not_offered_is_refused(client, front_desk, series, colleague_series):
    client.force_login(front_desk)
    second = session(series, 2)
    taken = session(colleague_series, 2)  # another practitioner's busy time

    response = client.post(
        reverse("staff:move", args=[second.pk]), {"slot": key(taken.start, taken.practitioner)}
    )

    assert response.status_code == 400
    assert "no longer free" in response.content.decode()
    second.refresh_from_db()
    assert second.start == local(2027, 4, 6, 10)


def test_reschedule_of_a_garbage_slot_is_refused_not_an_error(client, front_desk, series):
    client.force_login(front_desk)

    response = client.post(reverse("staff:move", args=[session(series, 2).pk]), {"slot": "<script>"})

    assert response.status_code == 400


def test_practitioner_clears_the_review_flag_of_their_patient(client, ana, treatment, practitioner):
    flagged = book_for(treatment, local(2027, 3, 10, 10), practitioner, flagged=["keloid"])
    first = session(flagged, 1)
    client.force_login(ana)

    client.post(action(first, "clear-review"))

    flagged.refresh_from_db()
    assert flagged.needs_review is False
    event = first.audit_events.get(action="review_cleared")
    assert (event.actor, event.before["needs_review"], event.after["needs_review"]) == (ana, True, False)


def test_patient_changes_through_the_manage_link_are_recorded_as_the_patient(client, series):
    third = session(series, 3)

    client.post(f"{manage_path(series)}sessions/3/cancel/")

    event = third.audit_events.get(action="cancelled")
    assert (event.actor, event.actor_label) == (None, "patient via manage link")
    assert session(series, 1).audit_events.get(action="booked").actor_label == "patient (online booking)"


def test_appointment_page_shows_the_history_and_planned_emails(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    page = client.get(reverse("staff:appointment", args=[first.pk])).content.decode()

    assert "patient (online booking)" in page
    assert "Status: Booked" in page and "Reason:" not in page  # a new appointment: its values, no arrows
    assert "Reminder (days before)" in page and "Pending" in page


def test_staff_cancel_this_and_every_later_session(client, front_desk, series):
    client.force_login(front_desk)

    response = client.post(
        reverse("staff:cancel", args=[session(series, 2).pk]),
        {"reason": "Moving abroad", "rest": "on"},
        follow=True,
    )

    assert "Sessions 2, 3 for Jo Bloggs are cancelled." in response.content.decode()
    statuses = dict(series.appointments.values_list("session_number", "status"))
    assert statuses == {1: "booked", 2: "cancelled", 3: "cancelled"}
    assert AuditEvent.objects.filter(series=series, action="cancelled", actor=front_desk).count() == 2


def test_reschedule_later_pushes_the_following_session_after_a_confirmation(client, front_desk, series):
    client.force_login(front_desk)
    second, third = session(series, 2), session(series, 3)
    url = reverse("staff:move", args=[second.pk])
    later = key(local(2027, 4, 13, 10), second.practitioner)  # a week later: session 3 would be 21 days after

    assert later in client.get(url).content.decode()
    confirm = client.post(url, {"slot": later})

    page = confirm.content.decode()
    assert "Check the change" in page and "Session 3:" in page
    third.refresh_from_db()
    assert third.start == local(2027, 5, 4, 10)  # nothing moved yet
    fingerprint = re.search(r'name="confirm" value="([^"]+)"', page).group(1)
    client.post(url, {"slot": later, "confirm": fingerprint})

    second.refresh_from_db()
    third.refresh_from_db()
    assert second.start == local(2027, 4, 13, 10)
    assert (third.start - second.start).days >= 28
    assert AuditEvent.objects.filter(action="moved", actor=front_desk).count() == 2
