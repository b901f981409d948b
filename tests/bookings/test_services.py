"""Writes: booking a series, moving sessions, cancelling and recording no-shows."""

import re
from datetime import UTC, date

import pytest
from django.conf import settings

from bookings import selectors, services
from bookings.models import Appointment, Patient, Questionnaire, Series
from bookings.questionnaire import WORDING_VERSION
from bookings.services import BookingError, PatientDetails, SlotTaken
from tests.bookings.factories import (
    AppointmentFactory,
    PatientFactory,
    local,
    microneedling_clinic,
    series_slots,
    slot,
)

pytestmark = pytest.mark.django_db

NOW = local(2027, 2, 22, 9)
FIRST = local(2027, 3, 1, 10)
SAFE = {
    "pregnant": False,
    "isotretinoin": False,
    "active_skin_condition": False,
    "keloid": False,
    "blood_thinners": False,
}


def book(treatment, slots, **overrides):
    values = {
        "treatment": treatment,
        "patient": PatientDetails(name="Ada Lovelace", email="ada@example.com", phone="07700 900123"),
        "slots": slots,
        "answers": SAFE,
        "consent_treatment": True,
        "consent_privacy": True,
        "now": NOW,
    }
    return services.series_book(**{**values, **overrides})


def test_booking_a_series_writes_every_session_and_the_questionnaire():
    # 1 March is GMT, 29 March and 26 April are BST: every session stays at 10:00 local.
    treatment, (practitioner,), (room,) = microneedling_clinic(rooms=1)

    series = book(treatment, series_slots(practitioner, FIRST, room=room))

    assert [(a.session_number, a.start, a.room_id) for a in series.appointments.all()] == [
        (1, FIRST, room.pk),
        (2, local(2027, 3, 29, 10), room.pk),
        (3, local(2027, 4, 26, 10), room.pk),
    ]
    assert [a.start.astimezone(UTC).hour for a in series.appointments.all()] == [10, 9, 9]
    answers = series.questionnaires.get()
    assert (answers.flagged, answers.wording_version, answers.submitted_at) == ([], WORDING_VERSION, NOW)
    assert not series.needs_review


def test_a_yes_answer_holds_the_series_for_review():
    treatment, (practitioner,), _ = microneedling_clinic()

    series = book(treatment, series_slots(practitioner, FIRST), answers={**SAFE, "keloid": True})

    assert series.needs_review
    assert series.questionnaires.get().flagged == ["keloid"]


def test_booking_without_consent_is_refused_and_writes_nothing():
    treatment, (practitioner,), _ = microneedling_clinic()

    with pytest.raises(BookingError, match="confirm both consents"):
        book(treatment, series_slots(practitioner, FIRST), consent_privacy=False)

    assert not Series.objects.exists() and not Patient.objects.exists()


def test_sessions_closer_than_the_minimum_gap_are_refused_even_for_staff():
    treatment, (practitioner,), _ = microneedling_clinic()

    with pytest.raises(BookingError, match="Session 2 must be 28 to 42 days after session 1"):
        book(treatment, series_slots(practitioner, FIRST, days=21), for_staff=True)

    assert not Appointment.objects.exists()


def test_staff_may_accept_a_longer_gap_but_patients_may_not():
    treatment, (practitioner,), _ = microneedling_clinic()
    slots = series_slots(practitioner, FIRST, days=49)

    with pytest.raises(BookingError, match="it is 49 days"):
        book(treatment, slots)

    assert book(treatment, slots, for_staff=True).appointments.count() == 3


def test_wrong_number_of_sessions_is_refused():
    treatment, (practitioner,), _ = microneedling_clinic()

    with pytest.raises(BookingError, match="series of 3 sessions; 2 were chosen"):
        book(treatment, series_slots(practitioner, FIRST, sessions=2))


def test_patients_need_notice_staff_do_not():
    treatment, (practitioner,), _ = microneedling_clinic()
    tomorrow = series_slots(practitioner, local(2027, 2, 23, 9))

    with pytest.raises(BookingError, match="too soon"):
        book(treatment, tomorrow, now=local(2027, 2, 22, 12))

    assert book(treatment, tomorrow, now=local(2027, 2, 22, 12), for_staff=True, source=Series.Source.PHONE)


def test_the_horizon_limits_the_first_session_for_patients():
    treatment, (practitioner,), _ = microneedling_clinic(horizon_days=30)
    far = series_slots(practitioner, local(2027, 4, 5, 10))

    with pytest.raises(BookingError, match="up to 30 days ahead"):
        book(treatment, far)

    assert book(treatment, far, for_staff=True)


def test_outside_working_hours_is_refused():
    treatment, (practitioner,), _ = microneedling_clinic()

    with pytest.raises(BookingError, match="working hours"):
        book(treatment, series_slots(practitioner, local(2027, 3, 1, 16, 30)))


def test_a_time_off_the_booking_grid_is_refused_and_writes_nothing():
    treatment, (practitioner,), _ = microneedling_clinic()

    with pytest.raises(BookingError, match="times the clinic lists"):
        book(treatment, series_slots(practitioner, local(2027, 3, 1, 10, 10)))
    assert not Series.objects.exists()


def test_a_taken_slot_gives_slot_taken_with_alternatives_and_writes_nothing():
    treatment, (practitioner,), _ = microneedling_clinic()
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 29, 10, 30))
    before = Appointment.objects.count()

    with pytest.raises(SlotTaken) as taken:
        book(treatment, series_slots(practitioner, FIRST))

    assert taken.value.message.startswith("That time was just taken (session 2)")
    nearest = [local(2027, 3, 29, 9, 30), local(2027, 3, 29, 9), local(2027, 3, 29, 11, 30)]
    assert [alt.start for alt in taken.value.alternatives[:3]] == nearest
    assert all(28 <= (alt.start.date() - date(2027, 3, 1)).days <= 42 for alt in taken.value.alternatives)
    assert Appointment.objects.count() == before
    assert not Questionnaire.objects.exists()


def test_a_returning_patient_is_not_duplicated():
    treatment, (practitioner,), _ = microneedling_clinic(sessions=1)
    patient = PatientFactory(name="Ada Lovelace", email="ADA@example.com")

    series = book(treatment, [slot(FIRST, practitioner)])

    assert series.patient == patient


# --- Moving --------------------------------------------------------------------------------------


def booked_series(sessions=3, **clinic):
    treatment, (practitioner,), rooms = microneedling_clinic(sessions=sessions, **clinic)
    series = book(
        treatment, series_slots(practitioner, FIRST, sessions=sessions, room=rooms[0] if rooms else None)
    )
    return series, practitioner, list(series.appointments.order_by("session_number"))


def test_reschedule_moves_a_session_and_re_places_the_next():
    series, practitioner, (_first, second, _third) = booked_series()
    plan = selectors.reschedule_plan(
        appointment=second, new=slot(local(2027, 4, 12, 11), practitioner), now=NOW
    )

    services.appointments_reschedule(moves=plan, now=NOW)

    assert [a.start for a in series.appointments.order_by("session_number")] == [
        FIRST,
        local(2027, 4, 12, 11),
        local(2027, 5, 10, 10),
    ]


def test_reschedule_is_all_or_nothing():
    _series, practitioner, (_first, second, third) = booked_series()
    AppointmentFactory(practitioner=practitioner, start=local(2027, 5, 10, 10))
    moves = [
        (second, slot(local(2027, 4, 12, 10), practitioner)),
        (third, slot(local(2027, 5, 10, 10), practitioner)),
    ]

    with pytest.raises(SlotTaken):
        services.appointments_reschedule(moves=moves, now=NOW)

    second.refresh_from_db()
    assert second.start == local(2027, 3, 29, 10)


def test_reschedule_refuses_to_break_the_spacing_with_the_next_session():
    _series, practitioner, (_first, second, _third) = booked_series()

    with pytest.raises(BookingError, match="Session 3 must be 28 to 42 days after session 2"):
        services.appointments_reschedule(
            moves=[(second, slot(local(2027, 4, 12, 10), practitioner))], now=NOW
        )


def test_moving_a_session_over_its_own_old_time_is_allowed():
    _series, practitioner, (_first, second, _third) = booked_series()

    services.appointments_reschedule(
        moves=[(second, slot(local(2027, 3, 29, 10, 30), practitioner))], now=NOW
    )

    second.refresh_from_db()
    assert second.start == local(2027, 3, 29, 10, 30)


# --- Cancelling and no-shows ---------------------------------------------------------------------


def test_cancelling_keeps_the_row_and_frees_the_time():
    series, _practitioner, (first, *_) = booked_series()

    services.appointment_cancel(appointment=first, reason="Feeling unwell", now=NOW)

    first.refresh_from_db()
    assert (first.status, first.cancelled_at, first.cancel_reason) == ("cancelled", NOW, "Feeling unwell")
    free = selectors.available_slots(treatment=series.treatment, start_date=date(2027, 3, 1), days=1, now=NOW)
    assert FIRST in {s.start for s in free}


def test_patients_inside_the_cutoff_are_asked_to_call():
    _series, _practitioner, (first, *_) = booked_series()
    inside = local(2027, 2, 27, 12)  # 46 hours before, cutoff 48

    with pytest.raises(BookingError, match=re.escape(f"call the clinic on {settings.CLINIC_PHONE}")):
        services.appointment_cancel(appointment=first, now=inside)

    assert services.appointment_cancel(appointment=first, now=inside, for_staff=True).status == "cancelled"


def test_cancel_remaining_cancels_later_sessions_and_closes_the_series():
    series, _practitioner, (_first, _second, _third) = booked_series()

    cancelled = services.series_cancel_remaining(series=series, from_session=1, reason="Moving away", now=NOW)

    series.refresh_from_db()
    assert [a.session_number for a in cancelled] == [1, 2, 3]
    assert series.status == Series.Status.CANCELLED
    assert Appointment.objects.filter(series=series).count() == 3


def test_cancel_remaining_refuses_patients_when_any_session_is_inside_the_cutoff():
    series, _practitioner, (_first, *_) = booked_series()

    with pytest.raises(BookingError, match="call the clinic"):
        services.series_cancel_remaining(series=series, from_session=1, now=local(2027, 2, 28, 12))

    assert not Appointment.objects.filter(status="cancelled").exists()


def test_a_no_show_frees_the_slot_and_is_recorded():
    series, _practitioner, (first, *_) = booked_series()

    services.appointment_mark(
        appointment=first, status=Appointment.Status.NO_SHOW, now=local(2027, 3, 1, 10, 20)
    )

    first.refresh_from_db()
    assert first.status == "no_show"
    free = selectors.available_slots(
        treatment=series.treatment, start_date=date(2027, 3, 1), days=1, now=NOW, for_staff=True
    )
    assert FIRST in {s.start for s in free}


def test_a_no_show_cannot_be_recorded_before_the_start():
    _series, _practitioner, (first, *_) = booked_series()

    with pytest.raises(BookingError, match="once its start time has passed"):
        services.appointment_mark(appointment=first, status=Appointment.Status.NO_SHOW, now=NOW)
