"""A patient is in one place at a time, and in one running series of a treatment at a time.

The database refuses two overlapping active appointments of one patient (an exclusion
constraint, like the practitioner's and the room's); the booking service refuses a second series
of a treatment while the first is running, with a sentence that points to the existing one.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from bookings import services
from bookings.models import Appointment, Patient, Series
from bookings.services import BookingError, PatientDetails
from tests.bookings.factories import (
    PractitionerFactory,
    TreatmentFactory,
    local,
    microneedling_clinic,
    series_slots,
    slot,
)
from tests.bookings.threads import race

NOW = local(2027, 2, 22, 9)
FIRST = local(2027, 3, 1, 10)
ADA = PatientDetails(name="Ada Lovelace", email="ada@example.com", phone="07700 900123")


def book(treatment, slots, **overrides):
    values = {
        "treatment": treatment,
        "patient": ADA,
        "slots": slots,
        "answers": {},
        "consent_treatment": True,
        "consent_privacy": True,
        "now": NOW,
    }
    return services.series_book(**{**values, **overrides})


def two_treatments():
    """Two treatments, each with its own practitioner (so only the patient can clash)."""
    first, (alice,), _ = microneedling_clinic()
    second = TreatmentFactory(sessions_in_series=3)
    bob = PractitionerFactory(treatments=[second])
    return first, alice, second, bob


@pytest.fixture(params=[True, False], ids=["python-check", "constraint-only"])
def precheck(request, monkeypatch):
    monkeypatch.setattr(services, "PRECHECK_OVERLAPS", request.param)
    return request.param


@pytest.mark.django_db
def test_overlapping_appointments_with_another_practitioner_are_refused(precheck):
    first, alice, second, bob = two_treatments()
    book(first, series_slots(alice, FIRST))

    with pytest.raises(BookingError) as refused:
        book(second, series_slots(bob, FIRST + timedelta(minutes=30)))

    assert refused.value.code == "patient_busy"
    assert "already have an appointment at that time" in refused.value.message
    assert Series.objects.count() == 1 and Appointment.objects.count() == 3


@pytest.mark.django_db
def test_back_to_back_appointments_of_one_patient_are_fine():
    first, alice, second, bob = two_treatments()
    book(first, series_slots(alice, FIRST))

    book(second, series_slots(bob, FIRST + timedelta(minutes=60)))

    assert Appointment.objects.count() == 6


@pytest.mark.django_db
def test_the_database_refuses_a_patient_overlap_written_directly():
    first, alice, second, bob = two_treatments()
    series = book(first, series_slots(alice, FIRST))
    other = Series.objects.create(patient=series.patient, treatment=second)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Appointment.objects.create(
            series=other,
            patient=series.patient,
            session_number=1,
            practitioner=bob,
            start=FIRST + timedelta(minutes=15),
            end=FIRST + timedelta(minutes=75),
        )

    assert refused.value.__cause__.diag.constraint_name == "appointment_no_patient_overlap"


@pytest.mark.django_db
def test_an_appointment_names_the_patient_of_its_own_series():
    first, alice, _, _ = two_treatments()
    series = book(first, series_slots(alice, FIRST))
    stranger = Patient.objects.create(name="Someone Else", email="else@example.com", phone="1")

    assert {a.patient_id for a in series.appointments.all()} == {series.patient_id}
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(series=series).update(patient=stranger)


@pytest.mark.django_db
def test_moving_onto_another_of_the_patients_appointments_is_refused():
    first, alice, second, bob = two_treatments()
    book(first, series_slots(alice, FIRST))
    other = book(second, series_slots(bob, FIRST + timedelta(hours=2)))
    moving = other.appointments.get(session_number=1)

    with pytest.raises(BookingError) as refused:
        services.appointments_reschedule(moves=[(moving, slot(FIRST, bob))], now=NOW)

    assert refused.value.code == "patient_busy"
    moving.refresh_from_db()
    assert moving.start == FIRST + timedelta(hours=2)


@pytest.mark.django_db
@pytest.mark.parametrize("for_staff", [False, True], ids=["online", "staff"])
def test_a_second_series_of_one_treatment_is_refused_while_the_first_runs(for_staff):
    # Seen: a new series starting 14 days after the first series' session (the minimum is 28).
    treatment, (alice, bob), _ = microneedling_clinic(practitioners=2)
    running = book(treatment, series_slots(alice, FIRST))

    with pytest.raises(BookingError) as refused:
        book(treatment, series_slots(bob, FIRST + timedelta(days=14)), for_staff=for_staff)

    assert refused.value.code == "series_running"
    assert treatment.name in refused.value.message
    assert refused.value.existing == running
    assert Series.objects.count() == 1


@pytest.mark.django_db
def test_a_second_series_is_refused_for_a_patient_chosen_by_the_front_desk():
    treatment, (alice, bob), _ = microneedling_clinic(practitioners=2)
    running = book(treatment, series_slots(alice, FIRST))

    with pytest.raises(BookingError) as refused:
        book(
            treatment, series_slots(bob, FIRST + timedelta(days=14)), patient=running.patient, for_staff=True
        )

    assert refused.value.code == "series_running"


@pytest.mark.django_db
def test_a_new_series_starts_once_the_last_one_is_over_and_its_spacing_has_passed():
    treatment, (alice,), _ = microneedling_clinic()
    old = book(treatment, series_slots(alice, FIRST))
    for appointment in old.appointments.all():
        services.appointment_mark(
            appointment=appointment, status=Appointment.Status.COMPLETED, now=appointment.end
        )
    last = old.appointments.get(session_number=3).start
    later = {"now": last + timedelta(days=1), "for_staff": True}

    with pytest.raises(BookingError) as too_soon:
        book(treatment, series_slots(alice, last + timedelta(days=14)), **later)
    with pytest.raises(BookingError) as too_soon_online:
        book(treatment, series_slots(alice, last + timedelta(days=14)), now=later["now"])
    new = book(treatment, series_slots(alice, last + timedelta(days=28)), **later)

    assert too_soon.value.code == too_soon_online.value.code == "series_running"
    assert "last session was on Monday 26 April 2027" in too_soon.value.message  # staff see the dates
    assert "April" not in too_soon_online.value.message  # a name and an e-mail address are no proof
    assert new.status == Series.Status.ACTIVE


@pytest.mark.django_db
def test_a_cancelled_series_does_not_block_a_new_one():
    treatment, (alice,), _ = microneedling_clinic()
    old = book(treatment, series_slots(alice, FIRST))
    services.series_cancel_remaining(series=old, from_session=1, now=NOW)

    book(treatment, series_slots(alice, FIRST + timedelta(days=7)))

    assert Series.objects.filter(status=Series.Status.ACTIVE).count() == 1


# --- Racing bookings of one patient (real threads, one connection each) ------------------------------


def assert_no_patient_overlap() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM bookings_appointment a
              JOIN bookings_series sa ON sa.id = a.series_id
              JOIN bookings_appointment b ON a.id < b.id
              JOIN bookings_series sb ON sb.id = b.series_id
             WHERE sa.patient_id = sb.patient_id
               AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
               AND a.status IN ('booked', 'checked_in', 'completed')
               AND b.status IN ('booked', 'checked_in', 'completed')
            """
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_bookings_of_one_patient_with_different_practitioners_one_wins(precheck):
    treatments = [TreatmentFactory(sessions_in_series=1) for _ in range(4)]
    microneedling_clinic()  # the clinic rules
    staff = [PractitionerFactory(treatments=[treatment]) for treatment in treatments]
    calls = [
        (lambda t=t, p=p: book(t, [slot(FIRST + timedelta(minutes=10 * i), p)]))
        for i, (t, p) in enumerate(zip(treatments, staff, strict=True))
    ]

    outcomes = race(calls)

    winners = [outcome for outcome in outcomes if isinstance(outcome, Series)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, BookingError)]
    assert len(winners) == 1 and len(losers) == 3, outcomes
    assert {loser.code for loser in losers} == {"patient_busy"}, outcomes
    assert Appointment.objects.count() == 1 and Patient.objects.count() == 1
    assert_no_patient_overlap()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_second_series_of_one_treatment_one_wins():
    treatment, staff, _ = microneedling_clinic(practitioners=4)
    calls = [
        (lambda p=p, i=i: book(treatment, series_slots(p, FIRST + timedelta(days=7 * i))))
        for i, p in enumerate(staff)
    ]

    outcomes = race(calls)

    winners = [outcome for outcome in outcomes if isinstance(outcome, Series)]
    assert len(winners) == 1, outcomes
    assert {outcome.code for outcome in outcomes if outcome not in winners} == {"series_running"}, outcomes
    assert Series.objects.count() == 1 and Patient.objects.count() == 1


@pytest.mark.django_db
def test_a_series_given_to_another_patient_takes_its_appointments_along():
    first, alice, _, _ = two_treatments()
    series = book(first, series_slots(alice, FIRST))
    other = Patient.objects.create(name="Someone Else", email="else@example.com", phone="1")

    Series.objects.filter(pk=series.pk).update(patient=other)  # ON UPDATE CASCADE keeps the copy true

    assert set(Appointment.objects.values_list("patient_id", flat=True)) == {other.pk}


@pytest.mark.django_db
def test_booking_a_session_again_where_the_patient_is_elsewhere_is_refused(precheck):
    first, alice, second, bob = two_treatments()
    book(first, series_slots(alice, FIRST))
    other = book(second, series_slots(bob, FIRST + timedelta(hours=2)))
    services.appointment_cancel(appointment=other.appointments.get(session_number=2), now=NOW)
    clash = FIRST + timedelta(days=28, minutes=30)  # over session 2 of the first series

    with pytest.raises(BookingError) as refused:
        services.session_rebook(series=other, number=2, slot=slot(clash, bob), now=NOW)

    assert refused.value.code == "patient_busy"
    assert not other.appointments.active().filter(session_number=2).exists()
