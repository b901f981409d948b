"""
How the staff day view scales with the number of appointments in the day.

Builds a dedicated PostgreSQL database from BENCH_STAFF_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/clinic_bench_staff; never DATABASE_URL, because the bookings
tables are emptied) holding 5 practitioners, a quiet day (20 appointments) and a full one (200:
forty 15-minute sessions per practitioner, each with its own patient and series), plus a front-desk
user. It then renders /staff/?date=… in-process through the whole middleware stack (Django's test
client, a logged-in session), alternating between the two days round by round so both see the same
machine load. Prints queries, page size and median / 90th percentile render times; asserts nothing.

    .venv/bin/python bench/staff.py [--runs 60] [--rounds 6]

Targets: at most 8 queries for either day, and a full day's render well under 150 ms. Render time
grows with the blocks drawn (template work: roughly 0.3 ms a block on a dev machine), never with
queries.
"""

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import django_for_bench  # noqa: E402

DATABASE_URL = django_for_bench("BENCH_STAFF_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_staff")

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench._harness import database_create_if_missing
from bookings import selectors
from bookings.models import Appointment, Patient, Practitioner, Series, WorkingHours
from treatments.models import Treatment

PRACTITIONERS = 5
QUIET_DAY, FULL_DAY = date(2027, 3, 9), date(2027, 3, 10)  # a Tuesday and a Wednesday
DAYS = {QUIET_DAY: 20, FULL_DAY: 200}
TABLES = [
    "bookings_auditevent", "bookings_outboxmessage", "bookings_appointment", "bookings_questionnaire",
    "bookings_series", "bookings_patient", "bookings_timeoff", "bookings_workinghours",
    "bookings_practitioner_treatments", "bookings_practitioner",
]  # fmt: skip


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=selectors.clinic_zone())


def build() -> User:
    """Empty the bookings tables; 5 practitioners working 09:00–19:00, both days booked, a front-desk user."""
    database_create_if_missing(DATABASE_URL)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    treatment, _ = Treatment.objects.update_or_create(
        slug="bench-staff-microneedling",
        defaults={"name": "Bench microneedling", "summary": "Benchmark.", "sessions_in_series": 4,
                  "min_days_between": 28, "max_days_between": 42, "session_minutes": 15},
    )  # fmt: skip
    practitioners = Practitioner.objects.bulk_create(
        Practitioner(name=f"Dr Bench {n}") for n in range(PRACTITIONERS)
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=p, weekday=day, start=clock(9), end=clock(19))
        for p in practitioners
        for day in range(7)
    )
    rows = []
    for day, count in DAYS.items():
        per_practitioner = count // PRACTITIONERS
        for practitioner in practitioners:
            for n in range(per_practitioner):
                start = local(day, 9) + timedelta(minutes=15 * n * (40 // per_practitioner))
                rows.append((practitioner, start))
    patients = Patient.objects.bulk_create(
        Patient(name=f"Patient {n}", email=f"patient{n}@example.com", phone="07700 900000")
        for n in range(len(rows))
    )
    series = Series.objects.bulk_create(Series(patient=patient, treatment=treatment) for patient in patients)
    Appointment.objects.bulk_create(
        Appointment(
            series=s, patient_id=s.patient_id, session_number=2, practitioner=p, start=start,
            end=start + timedelta(minutes=15),
        )
        for s, (p, start) in zip(series, rows)
    )
    user, _ = User.objects.get_or_create(username="bench-front-desk")
    user.groups.set([Group.objects.get(name="Front desk")])
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="timed renders per day (default 60)")
    parser.add_argument("--rounds", type=int, default=6, help="alternations between the days (default 6)")
    options = parser.parse_args()

    started = time.perf_counter()
    user = build()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    timings: dict[date, list[float]] = {day: [] for day in DAYS}
    queries: dict[date, int] = {}
    sizes: dict[date, int] = {}
    blocks: dict[date, int] = {}
    for _ in range(options.rounds):
        for day in DAYS:
            path = f"/staff/?date={day:%Y-%m-%d}"
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            assert response.status_code == 200, response.status_code
            queries[day], sizes[day] = len(captured), len(response.content)
            blocks[day] = response.content.decode().count('class="diary-block')
            for _ in range(max(1, options.runs // options.rounds)):
                begun = time.perf_counter()
                client.get(path)
                timings[day].append((time.perf_counter() - begun) * 1000)

    print(f"Staff day view, {PRACTITIONERS} practitioners, rendered in-process (test client, front desk)")
    for day, count in DAYS.items():
        ordered = sorted(timings[day])
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        print(
            f"  {count:>3} appointments ({blocks[day]} blocks): {queries[day]} queries (target <= 8), "
            f"{sizes[day] / 1024:6.1f} KB, median {statistics.median(ordered):6.2f} ms, p90 {p90:6.2f} ms"
        )
    ratio = statistics.median(timings[FULL_DAY]) / statistics.median(timings[QUIET_DAY])
    print(f"  ratio 200 / 20: {ratio:.2f}")
    print(
        f"({len(timings[QUIET_DAY])} timed renders per day over {options.rounds} alternating rounds; "
        f"whole run {time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
