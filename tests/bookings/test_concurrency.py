"""
Racing bookings: many threads book the same or overlapping series at the same instant.

Each thread has its own database connection (closed at the end) and waits at a barrier so the
bookings really overlap. Exactly one series wins whole; every other thread gets SlotTaken and
leaves nothing behind. The same holds with the Python-side check switched off
(services.PRECHECK_OVERLAPS), which proves the PostgreSQL exclusion constraints alone refuse a
double-booked practitioner or room.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from bookings import services
from bookings.models import Appointment, Patient, Questionnaire, Series
from bookings.services import PatientDetails, SlotTaken
from tests.bookings.threads import race as race_calls
from tests.bookings.factories import local, microneedling_clinic, slot

# serialized_rollback: put back the data migrations (the microneedling page) after the flush,
# so transactional tests that run later (browser, live server) still find them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RACERS = 8
NOW = local(2027, 2, 22, 9)
DAY_1, DAY_2, DAY_3 = local(2027, 3, 1), local(2027, 3, 29), local(2027, 4, 26)


def race(treatment, series_per_racer: list[list]) -> list[object]:
    """Book each racer's slots in its own thread, all released together; return each outcome."""

    def booking(index: int, slots: list):
        return lambda: services.series_book(
            treatment=treatment,
            patient=PatientDetails(name=f"Racer {index}", email=f"racer{index}@example.com", phone="07700 900000"),
            slots=slots,
            answers={},
            consent_treatment=True,
            consent_privacy=True,
            now=NOW,
        )

    return race_calls([booking(index, slots) for index, slots in enumerate(series_per_racer)])


def assert_one_whole_winner(outcomes, sessions: int = 3) -> None:
    winners = [outcome for outcome in outcomes if isinstance(outcome, Series)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, SlotTaken)]
    assert len(winners) == 1, outcomes
    assert len(losers) == len(outcomes) - 1, outcomes
    assert all(loser.message.startswith("That time was just taken") for loser in losers)
    # No partial series: only the winner's rows exist.
    assert Series.objects.get() == winners[0]
    assert Appointment.objects.filter(series=winners[0]).count() == Appointment.objects.count() == sessions
    assert Patient.objects.count() == Questionnaire.objects.count() == 1
    assert_no_overlapping_rows()


def assert_no_overlapping_rows() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM bookings_appointment a JOIN bookings_appointment b
              ON a.id < b.id
             AND (a.practitioner_id = b.practitioner_id OR a.room_id = b.room_id)
             AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
            WHERE a.status IN ('booked', 'checked_in', 'completed')
              AND b.status IN ('booked', 'checked_in', 'completed')
            """
        )
        assert cursor.fetchone()[0] == 0


@pytest.fixture(params=[True, False], ids=["python-check", "constraint-only"])
def precheck(request, monkeypatch):
    monkeypatch.setattr(services, "PRECHECK_OVERLAPS", request.param)
    return request.param


def test_many_racers_for_the_same_series_one_wins_whole(precheck):
    treatment, (practitioner,), _ = microneedling_clinic()
    same = [slot(day.replace(hour=10), practitioner) for day in (DAY_1, DAY_2, DAY_3)]

    assert_one_whole_winner(race(treatment, [same] * RACERS))


def test_overlapping_series_for_one_practitioner_one_wins_whole(precheck):
    # A 5-minute grid so the racers' overlapping starts are all bookable times.
    treatment, (practitioner,), _ = microneedling_clinic(slot_minutes=5)
    # Each racer's first and last sessions are free and distinct; the second sessions all overlap
    # (10:00, 10:05, 10:10… for an hour), so the losers' free sessions must roll back too.
    racers = [
        [
            slot(DAY_1.replace(hour=9 + index), practitioner),
            slot(DAY_2.replace(hour=10) + timedelta(minutes=5 * index), practitioner),
            slot(DAY_3.replace(hour=9 + index), practitioner),
        ]
        for index in range(RACERS)
    ]

    assert_one_whole_winner(race(treatment, racers))


def test_overlapping_series_for_one_room_one_wins_whole(precheck):
    treatment, staff, (room,) = microneedling_clinic(practitioners=RACERS, rooms=1, slot_minutes=5)
    # Different practitioners, one room: only the room can be double-booked.
    racers = [
        [
            slot(DAY_1.replace(hour=9 + index), practitioner, room),
            slot(DAY_2.replace(hour=10) + timedelta(minutes=5 * index), practitioner, room),
            slot(DAY_3.replace(hour=9 + index), practitioner, room),
        ]
        for index, practitioner in enumerate(staff)
    ]

    assert_one_whole_winner(race(treatment, racers))


def test_constraint_refuses_a_double_booking_written_without_any_check(precheck):
    """Sequential: with the check off the second booking reaches the database and is refused."""
    treatment, (practitioner,), (room,) = microneedling_clinic(rooms=1, sessions=1)
    book = {
        "answers": {},
        "consent_treatment": True,
        "consent_privacy": True,
        "now": NOW,
        "treatment": treatment,
    }
    services.series_book(
        patient=PatientDetails("A", "a@example.com", "1"),
        slots=[slot(DAY_1.replace(hour=10), practitioner, room)],
        **book,
    )

    with pytest.raises(SlotTaken) as taken:
        services.series_book(
            patient=PatientDetails("B", "b@example.com", "2"),
            slots=[slot(DAY_1.replace(hour=10, minute=30), practitioner, room)],
            **book,
        )

    assert taken.value.alternatives
    assert Series.objects.count() == 1


def test_racing_moves_into_the_same_time_one_wins(precheck):
    treatment, (practitioner,), _ = microneedling_clinic()
    book = {
        "treatment": treatment,
        "answers": {},
        "consent_treatment": True,
        "consent_privacy": True,
        "now": NOW,
    }
    mine, theirs = (
        services.series_book(
            patient=PatientDetails(f"P{n}", f"p{n}@example.com", "0"),
            slots=[slot(day.replace(hour=9 + 2 * n), practitioner) for day in (DAY_1, DAY_2, DAY_3)],
            **book,
        )
        for n in range(2)
    )
    target = slot(DAY_2.replace(hour=15), practitioner)
    barrier = threading.Barrier(2)
    outcomes = []

    def move(series):
        second = series.appointments.get(session_number=2)
        try:
            barrier.wait(timeout=10)
            outcomes.append(services.appointments_reschedule(moves=[(second, target)], now=NOW))
        except Exception as exc:  # noqa: BLE001 — inspected below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(series,)) for series in (mine, theirs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["SlotTaken", "list"], outcomes
    assert Appointment.objects.filter(start=target.start).count() == 1
    assert_no_overlapping_rows()


def test_back_to_back_racers_keep_the_cleaning_buffer():
    """The constraint ignores buffers; the resource locks make the buffer check race-proof."""
    treatment, (practitioner,), _ = microneedling_clinic(sessions=1, buffer_minutes=15)
    racers = [[slot(DAY_1.replace(hour=10 + index % 2), practitioner)] for index in range(RACERS)]

    outcomes = race(treatment, racers)

    assert len([outcome for outcome in outcomes if isinstance(outcome, Series)]) == 1, outcomes
    assert all(isinstance(outcome, (Series, SlotTaken)) for outcome in outcomes), outcomes
    assert Appointment.objects.count() == 1
