"""
How availability scales with the size of the appointments table.

Builds two dedicated PostgreSQL databases, <name>_5k and <name>_500k, from
BENCH_AVAILABILITY_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clinic_bench_avail;
never DATABASE_URL, because the tables are emptied). Both hold the same clinic and the same busy
fortnight; the large one also holds 495,000 rows of history (other practitioners and rooms, and
the same five's past), loaded with one server-side INSERT … SELECT generate_series. It then asks
for fourteen days of availability for a room-needing treatment performed by 5 practitioners,
alternating between the two databases round by round so both see the same machine load. Also
times a 6-session series plan spanning about nine months. Prints query count, medians, their
ratio and the plan time; asserts nothing.

    .venv/bin/python bench/availability.py [--runs 60] [--rounds 6]

Targets: at most 5 queries, median at 500k <= 1.5x median at 5k and under 50 ms, plan < 100 ms.
"""

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import django_for_bench  # noqa: E402

DATABASE_URL = django_for_bench("BENCH_AVAILABILITY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_avail")

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench._harness import database_create_if_missing
from bookings import availability, selectors
from bookings.models import (
    Appointment,
    ClinicRules,
    Patient,
    Practitioner,
    Room,
    Series,
    TimeOff,
    WorkingHours,
)
from treatments.models import Treatment

PRACTITIONERS = 5  # performing the benchmarked treatment
OTHER_PRACTITIONERS = 95  # the rest of a large clinic group: history only
HOURS_PER_DAY = 8
WINDOW_FIRST_DAY = date(2027, 3, 1)  # a Monday
WINDOW_DAYS = 14
BOOKED_DAYS = 300  # the series plan searches (6 - 1) x 56 + 14 = 294 days ahead
NOW = datetime(2027, 2, 22, 9, tzinfo=selectors.clinic_zone())
SMALL, LARGE = 5_000, 500_000

TABLES = [
    "bookings_appointment", "bookings_questionnaire", "bookings_series", "bookings_patient", "bookings_timeoff",
    "bookings_workinghours", "bookings_practitioner_treatments", "bookings_practitioner", "bookings_room_treatments",
    "bookings_room",
]  # fmt: skip


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=selectors.clinic_zone())


def build_clinic() -> tuple[Treatment, list[Practitioner], list[Room]]:
    """Empty the bookings tables; one treatment, 100 practitioners, 100 rooms, the clinic rules."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    rules = ClinicRules.load()
    rules.min_notice_hours, rules.horizon_days, rules.buffer_minutes, rules.slot_minutes = 24, 90, 15, 30
    rules.save()
    treatment, _ = Treatment.objects.update_or_create(
        slug="bench-microneedling",
        defaults={
            "name": "Bench microneedling", "summary": "Benchmark.", "sessions_in_series": 6,
            "min_days_between": 28, "max_days_between": 56, "session_minutes": 60, "requires_room": True,
        },
    )  # fmt: skip
    practitioners = Practitioner.objects.bulk_create(
        Practitioner(name=f"Practitioner {n}") for n in range(PRACTITIONERS + OTHER_PRACTITIONERS)
    )
    rooms = Room.objects.bulk_create(
        Room(name=f"Room {n}") for n in range(PRACTITIONERS + OTHER_PRACTITIONERS)
    )
    performing = practitioners[:PRACTITIONERS]
    for practitioner in performing:
        practitioner.treatments.add(treatment)
    for room in rooms[:3]:
        room.treatments.add(treatment)
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=p, weekday=day, start=local(NOW.date(), 9).time(), end=local(NOW.date(), 17).time()
        )
        for p in performing
        for day in range(6)
    )
    TimeOff.objects.create(
        practitioner=performing[0], start=local(date(2027, 3, 3), 0), end=local(date(2027, 3, 5), 0)
    )
    return treatment, performing, rooms[:3]


def book_the_window(treatment, performing, rooms) -> int:
    """The coming ten months booked like a busy clinic: two hours of each practitioner's day.

    Practitioners sharing a room (index % 3) work opposite hour patterns, so rooms never clash.
    """
    # One patient per practitioner: a patient is never in two appointments at once (migration 0008).
    patients = Patient.objects.bulk_create(
        Patient(name=f"Bench {n}", email=f"bench{n}@example.com", phone="0") for n in range(len(performing))
    )
    rows = []
    for offset in range(BOOKED_DAYS):
        day = WINDOW_FIRST_DAY + timedelta(days=offset)
        for index, practitioner in enumerate(performing):
            for hour in (9, 14) if (offset + index) % 2 else (11, 15):
                rows.append(
                    (
                        Series(patient=patients[index], treatment=treatment),
                        practitioner,
                        rooms[index % 3],
                        local(day, hour),
                    )
                )
    Series.objects.bulk_create([series for series, *_ in rows])
    Appointment.objects.bulk_create(
        Appointment(
            series=s, patient_id=s.patient_id, session_number=1, practitioner=p, room=r, start=start,
            end=start + timedelta(hours=1),
        )
        for s, p, r, start in rows
    )
    return len(rows)


def add_history(treatment, first: int, last: int) -> None:
    """Rows first..last-1 of a synthetic history, every practitioner with their own room.

    Row i belongs to practitioner i % 100 (and room i % 100), on the day (i // 100) // 8 before
    the window at 09:00 + (i // 100) % 8 hours: never overlapping, so the exclusion constraints
    accept them. Six sessions per series, as in a real course.
    """
    count = last - first
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM bookings_practitioner")
        first_practitioner = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM bookings_room")
        first_room = cursor.fetchone()[0]
        total = PRACTITIONERS + OTHER_PRACTITIONERS
        # One patient per practitioner lane (i % total), and each series six consecutive rows of one
        # lane: a patient is never in two appointments at once (migration 0008's constraint).
        cursor.execute(
            """
            INSERT INTO bookings_patient (name, email, phone, created_at)
            SELECT 'History ' || n, 'history' || n || '@example.com', '0', now()
              FROM generate_series(1, %s) AS n
            RETURNING id
            """,
            [total],
        )
        patients = sorted(row[0] for row in cursor.fetchall())
        series_count = total * -(-count // (total * 6))
        cursor.execute(
            """
            INSERT INTO bookings_series (public_id, patient_id, treatment_id, status, source, needs_review, created_at)
            SELECT gen_random_uuid(), (%(patients)s::int[])[k %% %(total)s + 1], %(treatment)s, 'completed',
                   'online', false, now()
              FROM generate_series(0, %(count)s - 1) AS k
            RETURNING id
            """,
            {"patients": patients, "total": total, "treatment": treatment.pk, "count": series_count},
        )
        first_series = min(row[0] for row in cursor.fetchall())
        cursor.execute(
            """
            INSERT INTO bookings_appointment
                (series_id, patient_id, session_number, practitioner_id, room_id, start, "end", status,
                 cancel_reason, needs_review, sequence, version, created_at, updated_at)
            SELECT %(series)s + ((i - %(first)s) / (%(total)s * 6)) * %(total)s + i %% %(total)s,
                   (%(patients)s::int[])[i %% %(total)s + 1],
                   ((i - %(first)s) %% (%(total)s * 6)) / %(total)s + 1,
                   %(practitioner)s + i %% %(total)s, %(room)s + i %% %(total)s,
                   t, t + interval '45 minutes', 'completed', '', false, 0, 0, now(), now()
              FROM generate_series(%(first)s, %(last)s - 1) AS i,
                   LATERAL (SELECT %(day)s::timestamptz - ((i / %(total)s) / %(hours)s + 1) * interval '1 day'
                                   + (9 + (i / %(total)s) %% %(hours)s) * interval '1 hour' AS t) AS slot
            """,
            {
                "series": first_series, "first": first, "last": last, "practitioner": first_practitioner,
                "room": first_room, "total": total, "hours": HOURS_PER_DAY, "patients": patients,
                "day": local(WINDOW_FIRST_DAY, 0) - timedelta(days=1),
            },
        )  # fmt: skip
        cursor.execute("ANALYZE bookings_appointment")


def use_database(name: str) -> None:
    """Point the default connection at another database (a benchmark-only switch)."""
    connection.close()
    connection.settings_dict["NAME"] = name


def build(name: str, rows: int) -> Treatment:
    """A fresh benchmark database `name` holding `rows` appointments."""
    database_create_if_missing(DATABASE_URL.rsplit("/", 1)[0] + "/" + name)
    use_database(name)
    call_command("migrate", verbosity=0)
    treatment, performing, rooms = build_clinic()
    in_window = book_the_window(treatment, performing, rooms)
    add_history(treatment, 0, rows - in_window)
    return treatment


def timed_ms(function, runs: int) -> list[float]:
    function()  # warm the connection and caches
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def fourteen_days(treatment):
    return selectors.available_slots(
        treatment=treatment, start_date=WINDOW_FIRST_DAY, days=WINDOW_DAYS, now=NOW
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="timed calls per database (default 60)")
    parser.add_argument(
        "--rounds", type=int, default=6, help="alternations between the databases (default 6)"
    )
    options = parser.parse_args()

    started = time.perf_counter()
    base = DATABASE_URL.rsplit("/", 1)[1]
    databases = {SMALL: f"{base}_5k", LARGE: f"{base}_500k"}
    treatments, load_seconds = {}, {}
    for rows, name in databases.items():
        load_started = time.perf_counter()
        treatments[rows] = build(name, rows)
        load_seconds[rows] = time.perf_counter() - load_started

    timings: dict[int, list[float]] = {SMALL: [], LARGE: []}
    queries: dict[int, int] = {}
    counts: dict[int, int] = {}
    for _ in range(options.rounds):
        for rows, name in databases.items():
            use_database(name)
            treatment = treatments[rows]
            with CaptureQueriesContext(connection) as captured:
                slot_count = len(fourteen_days(treatment))
            queries[rows] = len(captured)
            counts[rows] = Appointment.objects.count()
            timings[rows] += timed_ms(
                partial(fourteen_days, treatment), max(1, options.runs // options.rounds)
            )

    # The series plan, on the large database.
    treatment = treatments[LARGE]
    first = fourteen_days(treatment)[0]
    plan = selectors.series_plan(treatment=treatment, first=first, now=NOW)
    plan_ms = statistics.median(
        timed_ms(lambda: selectors.series_plan(treatment=treatment, first=first, now=NOW), 20)
    )
    span = (plan.slots[-1].start - plan.slots[0].start).days if plan.is_complete else 0
    searched = (treatment.sessions_in_series - 1) * treatment.max_days_between + availability.OVERFLOW_DAYS

    small_ms, large_ms = statistics.median(timings[SMALL]), statistics.median(timings[LARGE])
    print(
        f"Fourteen days of availability, {PRACTITIONERS} practitioners, room-needing treatment ({slot_count} slots)"
    )
    print(
        f"  queries per call:  {queries[SMALL]} at {counts[SMALL]:,} rows, {queries[LARGE]} at {counts[LARGE]:,} rows (target <= 5)"
    )
    print(f"  median at {counts[SMALL]:>7,} rows: {small_ms:6.2f} ms")
    print(f"  median at {counts[LARGE]:>7,} rows: {large_ms:6.2f} ms (target < 50 ms)")
    print(f"  ratio large / small:     {large_ms / small_ms:6.2f}   (target <= 1.5)")
    print(
        f"6-session series plan over {searched} days of diaries ({'complete' if plan.is_complete else 'INCOMPLETE'}, "
        f"first to last session {span} days): {plan_ms:.2f} ms median (target < 100 ms)"
    )
    print(
        f"(built the 5k database in {load_seconds[SMALL]:.1f} s and the 500k one in {load_seconds[LARGE]:.1f} s; "
        f"{len(timings[SMALL])} timed calls each over {options.rounds} alternating rounds; whole run "
        f"{time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
