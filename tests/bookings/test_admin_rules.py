"""The admin cannot push a booking into a state the rules forbid: what represents state is read-only
and changes go through the services, audited as the admin user (issue 10, item 7)."""

import pytest
from django.urls import reverse

from bookings.models import Appointment, AuditEvent, OutboxMessage, Questionnaire, Series
from tests.bookings.staff_fixtures import *


def state(series) -> dict:
    """Everything a change form could contradict, as stored."""
    series.refresh_from_db()
    return {
        "series": (series.status, series.needs_review),
        "appointments": list(
            series.appointments.order_by("pk").values_list(
                "status", "needs_review", "cancel_reason", "cancelled_at", "answers_confirmed_at"
            )
        ),
        "pending e-mails": series.outbox_messages.filter(status=OutboxMessage.Status.PENDING).count(),
        "audit events": AuditEvent.objects.count(),
    }


def test_a_series_cannot_be_set_to_cancelled_in_its_change_form(client, manager, series):
    client.force_login(manager)
    before = state(series)
    assert before["pending e-mails"] > 0

    response = client.post(
        reverse("admin:bookings_series_change", args=[series.pk]),
        {"status": "cancelled", "needs_review": "on", "source": "phone"},
    )

    assert response.status_code == 403
    assert state(series) == before


def test_an_appointments_review_flag_and_cancel_reason_cannot_be_typed_in(client, manager, series):
    client.force_login(manager)
    first = series.appointments.get(session_number=1)
    before = state(series)

    response = client.post(
        reverse("admin:bookings_appointment_change", args=[first.pk]),
        {"needs_review": "on", "cancel_reason": "Patient moved away", "answers_confirmed_at_0": "2027-03-01"},
    )

    assert response.status_code == 403
    assert state(series) == before


def test_change_pages_show_state_without_a_save_button(client, manager, series):
    client.force_login(manager)
    first = series.appointments.get(session_number=1)

    for url in [
        reverse("admin:bookings_series_change", args=[series.pk]),
        reverse("admin:bookings_appointment_change", args=[first.pk]),
        reverse("admin:bookings_questionnaire_change", args=[series.questionnaires.get().pk]),
    ]:
        page = client.get(url)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode(), url


def test_questionnaires_cannot_be_edited_or_deleted(client, manager, series):
    client.force_login(manager)
    questionnaire = series.questionnaires.get()

    edit = client.post(reverse("admin:bookings_questionnaire_change", args=[questionnaire.pk]), {"flagged": "[]"})
    delete = client.post(reverse("admin:bookings_questionnaire_delete", args=[questionnaire.pk]), {"post": "yes"})

    assert (edit.status_code, delete.status_code) == (403, 403)
    assert Questionnaire.objects.filter(pk=questionnaire.pk).exists()


def test_cancelling_a_series_in_the_admin_goes_through_the_service(client, manager, series):
    client.force_login(manager)

    response = client.post(
        reverse("admin:bookings_series_changelist"),
        {"action": "cancel_series", "_selected_action": [series.pk]},
        follow=True,
    )

    series.refresh_from_db()
    assert series.status == Series.Status.CANCELLED
    assert set(series.appointments.values_list("status", flat=True)) == {Appointment.Status.CANCELLED}
    reminders = series.outbox_messages.exclude(kind__in=["series_booked", "appointments_cancelled"])
    assert not reminders.filter(status=OutboxMessage.Status.PENDING).exists()
    cancelled = AuditEvent.objects.filter(series=series, action="cancelled")
    assert cancelled.count() == 3 and {event.actor for event in cancelled} == {manager}
    assert "3 session(s) cancelled" in response.content.decode()


def test_a_series_with_nothing_left_to_cancel_gets_a_sentence(client, manager, series):
    client.force_login(manager)
    url = reverse("admin:bookings_series_changelist")
    client.post(url, {"action": "cancel_series", "_selected_action": [series.pk]})

    response = client.post(url, {"action": "cancel_series", "_selected_action": [series.pk]}, follow=True)

    assert "no booked sessions left to cancel" in response.content.decode()


def test_clearing_a_review_in_the_admin_goes_through_the_service(client, manager, treatment, colleague):
    flagged = book_for(treatment, local(2027, 3, 9, 11), colleague, flagged=["keloid"])
    first = flagged.appointments.get(session_number=1)
    client.force_login(manager)

    client.post(
        reverse("admin:bookings_appointment_changelist"),
        {"action": "clear_review", "_selected_action": [first.pk]},
    )

    flagged.refresh_from_db()
    assert flagged.needs_review is False
    assert first.audit_events.get(action="review_cleared").actor == manager


@pytest.mark.parametrize("action", ["mark_checked_in", "cancel", "clear_review"])
def test_admin_actions_need_the_permission_the_staff_pages_need(client, series, action):
    from django.contrib.auth.models import Permission

    from tests.bookings.staff_fixtures import staff_user

    # A manager whose role was trimmed to viewing: the admin opens, the actions do not.
    viewer = staff_user("vic", None, is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["use_admin", "view_appointment"])
    )
    client.force_login(viewer)
    first = series.appointments.get(session_number=1)
    before = state(series)

    client.post(reverse("admin:bookings_appointment_changelist"), {"action": action, "_selected_action": [first.pk]})

    assert state(series) == before


def test_hours_changed_in_the_admin_name_the_bookings_left_outside_them(client, manager, series, practitioner):
    from tests.bookings.test_audit_subjects import admin_form

    client.force_login(manager)
    tuesday = practitioner.working_hours.get(weekday=1)  # series: Tuesdays at 10:00
    url = reverse("admin:bookings_workinghours_change", args=[tuesday.pk])

    response = client.post(url, admin_form(client, url) | {"start": "13:00:00"}, follow=True)

    assert "3 booked session(s) now fall outside Dr Ana Silva" in response.content.decode()
    assert state(series)["appointments"][0][0] == "booked"  # listed, never moved
