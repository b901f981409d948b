"""The audit trail is written inside the services' transactions: a refused change leaves no record."""

import pytest
import time_machine
from django.urls import reverse

from bookings import selectors, services
from bookings.models import Appointment, AuditEvent
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local


def test_a_booking_refused_as_taken_leaves_no_audit_event(series, treatment, front_desk):
    before = AuditEvent.objects.count()
    taken = [selectors.as_slot(appointment) for appointment in series.appointments.order_by("session_number")]

    with pytest.raises(services.SlotTaken):
        services.series_book(
            treatment=treatment,
            patient=services.PatientDetails(name="Sam Other", email="sam@example.com", phone="07700 900456"),
            slots=taken,
            answers={},
            consent_treatment=True,
            consent_privacy=True,
            by=front_desk,
            for_staff=True,
        )

    assert AuditEvent.objects.count() == before == 3 + 1  # the series's 3 sessions booked, its patient added


def test_a_refused_status_change_leaves_no_audit_event(series, front_desk):
    first = series.appointments.get(session_number=1)
    services.appointment_cancel(appointment=first, by=front_desk, reason="Unwell", for_staff=True)

    with pytest.raises(services.BookingError):
        services.appointment_mark(appointment=first, status=Appointment.Status.CHECKED_IN, by=front_desk)

    assert list(first.audit_events.values_list("action", flat=True)) == ["booked", "cancelled"]


def test_admin_actions_are_recorded_as_the_admin_user(client, manager, series):
    client.force_login(manager)
    first = series.appointments.get(session_number=1)

    with time_machine.travel(local(2027, 3, 9, 9, 30), tick=False):  # check-in opens 2 hours before
        client.post(
            reverse("admin:bookings_appointment_changelist"),
            {"action": "mark_checked_in", "_selected_action": [first.pk]},
        )

    event = first.audit_events.get(action="checked_in")
    assert (event.actor, event.actor_label) == (manager, "Max")
