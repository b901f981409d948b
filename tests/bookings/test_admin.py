"""The back office: every bookings model is listed and appointments change only through services."""

import pytest
from django.urls import reverse

from bookings.models import Appointment
from tests.bookings.factories import AppointmentFactory, TimeOffFactory, local, microneedling_clinic
from tests.bookings.patient_fixtures import frozen, practitioner, series, treatment  # noqa: F401

pytestmark = pytest.mark.django_db

MODELS = [
    "clinicrules",
    "room",
    "practitioner",
    "workinghours",
    "timeoff",
    "patient",
    "series",
    "questionnaire",
    "appointment",
]


@pytest.mark.parametrize("model", MODELS)
def test_every_bookings_model_has_a_working_changelist(admin_client, model):
    _treatment, (practitioner,), _ = microneedling_clinic(rooms=1)
    AppointmentFactory(practitioner=practitioner)
    TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 1), end=local(2027, 3, 2))

    response = admin_client.get(reverse(f"admin:bookings_{model}_changelist"), {"q": "a"})

    assert response.status_code == 200


def test_practitioner_page_edits_hours_and_time_off_inline(admin_client):
    _treatment, (practitioner,), _ = microneedling_clinic()

    response = admin_client.get(reverse("admin:bookings_practitioner_change", args=[practitioner.pk]))

    assert b"working_hours-TOTAL_FORMS" in response.content and b"time_off-TOTAL_FORMS" in response.content


def test_no_show_action_goes_through_the_service(admin_client):
    _treatment, (practitioner,), _ = microneedling_clinic()
    past = AppointmentFactory(practitioner=practitioner, start=local(2020, 3, 2, 10))
    future = AppointmentFactory(practitioner=practitioner, start=local(2099, 3, 2, 10))
    url = reverse("admin:bookings_appointment_changelist")

    response = admin_client.post(
        url, {"action": "mark_no_show", "_selected_action": [past.pk, future.pk]}, follow=True
    )

    assert Appointment.objects.get(pk=past.pk).status == "no_show"
    assert Appointment.objects.get(pk=future.pk).status == "booked"
    assert "once its start time has passed" in response.content.decode()


def test_appointments_cannot_be_added_or_deleted_in_the_admin(admin_client):
    appointment = AppointmentFactory()

    assert admin_client.get(reverse("admin:bookings_appointment_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:bookings_appointment_delete", args=[appointment.pk])).status_code
        == 403
    )


def test_changing_the_cancellation_cutoff_moves_the_pending_reminders(
    series, django_capture_on_commit_callbacks, admin_client  # signed in at the frozen time
):
    """The reminder comes before the cutoff (bookings/reminders.py), so a new cutoff re-plans it."""
    from bookings.models import ClinicRules, OutboxMessage

    rules = ClinicRules.load()
    form = {
        field: getattr(rules, field) for field in (
            "min_notice_hours", "horizon_days", "buffer_minutes", "slot_minutes", "reminder_days_before",
            "aftercare_followup_days", "next_session_days_before", "alert_days_before_window_closes",
        )
    }  # fmt: skip
    for field in ("reminder_morning_time", "aftercare_evening_time", "message_time"):
        form[field] = getattr(rules, field).strftime("%H:%M")
    reminder = series.outbox_messages.get(kind=OutboxMessage.Kind.REMINDER, session_number=2)
    assert reminder.due_at == local(2027, 4, 3, 10)  # three days before 6 April: the 48-hour cutoff

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:bookings_clinicrules_change", args=[rules.pk]),
            {**form, "cancellation_cutoff_hours": 24, "answers_open_days": 5},
        )

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response.url == reverse("admin:bookings_clinicrules_changelist"), response.url
    rules.refresh_from_db()
    assert (rules.cancellation_cutoff_hours, rules.answers_open_days) == (24, 5)
    moved = series.outbox_messages.get(kind=OutboxMessage.Kind.REMINDER, session_number=2, status="pending")
    assert moved.due_at == local(2027, 4, 4, 10)  # two days before leaves a day before a 24-hour cutoff
