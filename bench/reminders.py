"""
How fast the e-mail outbox sends: N due messages dispatched and sent by one Celery worker to a
local SMTP server, against a plain loop sending the same messages through the same mail backend.

Builds a dedicated PostgreSQL database from BENCH_REMINDERS_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/clinic_bench_reminders; never DATABASE_URL, because its tables
are emptied) holding ~N/14 booked 3-session series and their planned e-mails (reminders,
aftercare, next-session), of which N are made due. An SMTP sink (aiosmtpd) counts what it accepts
in a process of its own. Then, alternating for --rounds rounds on the same rows:

- plain loop: one process reads each row with its series, builds the e-mail (emails.build, the
  same templates) and sends it over one SMTP connection: no Celery, no claims, no row updates;
- outbox: the rows are pending and due; one `celery worker --concurrency=1` (Redis broker,
  BENCH_REDIS_URL, default redis://127.0.0.1:6379/15, a queue of the run's own) receives
  `dispatch_due`, claims the rows in batches (OUTBOX_BATCH_SIZE) and sends each batch over one
  connection, locking, checking and marking every row. Timed from the dispatch being enqueued to
  the last row marked sent (and the sink having counted every message).

Prints messages per second for both and their ratio (target >= 0.5); asserts nothing.

    .venv/bin/python bench/reminders.py [--messages 10000] [--rounds 1]
"""

import argparse
import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_REMINDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_reminders"
)
BROKER_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
QUEUE = f"bench-reminders-{uuid.uuid4().hex[:8]}"
# Production-like on both sides: DEBUG off (no query log), the same mail settings.
SETTINGS = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": BROKER_URL,
    "CELERY_QUEUE": QUEUE,
    "LOG_LEVEL": "WARNING",
    "EMAIL_USE_TLS": "0",
}
os.environ.update(SETTINGS, DJANGO_SETTINGS_MODULE="clinic.settings", EMAIL_HOST="127.0.0.1")

from bench._harness import database_create_if_missing
from tests.smtp_sink import counting_sink_process, wait_until

PRACTITIONERS = 100
TABLES = [
    "bookings_outboxmessage", "bookings_auditevent", "bookings_appointment", "bookings_questionnaire",
    "bookings_series", "bookings_patient", "bookings_workinghours", "bookings_practitioner_treatments",
    "bookings_practitioner",
]  # fmt: skip


def build(messages: int) -> list[int]:
    """Empty the tables; book enough 3-session series for `messages` planned e-mails; their ids."""
    from django.db import connection, transaction

    from bookings import outbox
    from bookings.models import Appointment, OutboxMessage, Patient, Practitioner, Series
    from treatments.models import Treatment

    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        cursor.execute(f"TRUNCATE {', '.join(t for t in TABLES if t in existing)} RESTART IDENTITY CASCADE")
    treatment, _ = Treatment.objects.update_or_create(
        slug="bench-microneedling",
        defaults={"name": "Bench microneedling", "summary": "Benchmark.", "sessions_in_series": 3,
                      "min_days_between": 28, "max_days_between": 42, "session_minutes": 60},
    )  # fmt: skip
    practitioners = Practitioner.objects.bulk_create(
        Practitioner(name=f"Practitioner {n}") for n in range(PRACTITIONERS)
    )
    zone = ZoneInfo("Europe/London")
    first_day = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=30)
    series_count = messages // 14 + 1  # 14 planned e-mails per 3-session series
    patients = Patient.objects.bulk_create(
        Patient(name=f"Patient {n}", email=f"patient{n}@example.com", phone="+44 7700 900000")
        for n in range(series_count)
    )
    all_series = Series.objects.bulk_create(
        Series(patient=patient, treatment=treatment) for patient in patients
    )
    appointments = []
    for n, series in enumerate(all_series):
        # Each practitioner sees one series per hour of a long day: no two appointments overlap.
        start = first_day + timedelta(days=(n // PRACTITIONERS) // 12, hours=8 + (n // PRACTITIONERS) % 12)
        for number in range(3):
            session = start + timedelta(days=28 * number)
            appointments.append(Appointment(
                series=series, patient=series.patient, session_number=number + 1,
                practitioner=practitioners[n % PRACTITIONERS],
                start=session, end=session + timedelta(hours=1),
            ))  # fmt: skip
    Appointment.objects.bulk_create(appointments)
    before = datetime.now(zone) - timedelta(days=1)
    for series in all_series:
        with transaction.atomic():
            outbox.series_replan(series=series, now=before)
    ids = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True)[:messages])
    return ids


def make_due(ids: list[int]) -> None:
    from django.utils import timezone

    from bookings.models import OutboxMessage

    OutboxMessage.objects.filter(pk__in=ids).update(
        status="pending",
        due_at=timezone.now() - timedelta(minutes=1),
        sent_at=None,
        attempts=0,
        claim=None,
        claimed_at=None,
        last_error="",
    )


def plain_loop(ids: list[int]) -> float:
    """Read, build and send every message over one connection, no Celery; seconds taken."""
    from django.core.mail import get_connection

    from bookings import emails
    from bookings.models import ClinicRules, OutboxMessage

    started = time.perf_counter()
    rules = ClinicRules.load()
    connection = get_connection()
    connection.open()
    try:
        rows = OutboxMessage.objects.filter(pk__in=ids).select_related("series__patient", "series__treatment")
        for message in rows.order_by("due_at", "pk").iterator(chunk_size=500):
            appointments = list(message.series.appointments.select_related("practitioner"))
            connection.send_messages([emails.build(message, appointments=appointments, rules=rules)])
    finally:
        connection.close()
    return time.perf_counter() - started


def through_celery(ids: list[int], sent_before: int, count) -> float:
    """Enqueue the dispatcher for the running worker; seconds until every row is sent and counted."""
    from bookings import tasks
    from bookings.models import OutboxMessage

    started = time.perf_counter()
    tasks.dispatch_due.delay()
    wait_until(
        lambda: count() >= sent_before + len(ids),
        timeout=max(600, len(ids) / 5),
        what="the sink to count every message",
        every=0.2,
    )
    wait_until(
        lambda: not OutboxMessage.objects.filter(pk__in=ids).exclude(status="sent").exists(),
        timeout=60,
        what="every row marked sent",
        every=0.05,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    database_create_if_missing(DATABASE_URL)
    with counting_sink_process() as (count, port):
        os.environ["EMAIL_PORT"] = str(port)
        import django

        django.setup()
        from django.core.management import call_command

        from tests.celery_worker import celery_worker

        call_command("migrate", "--noinput", verbosity=0)
        print(f"Building {args.messages} planned e-mails in {DATABASE_URL}...", flush=True)
        ids = build(args.messages)
        print(
            f"{len(ids)} messages; SMTP sink on 127.0.0.1:{port}; broker {BROKER_URL} queue {QUEUE}",
            flush=True,
        )

        loop_rates, celery_rates = [], []
        worker_settings = {
            key: value for key, value in SETTINGS.items() if key not in ("DATABASE_URL", "REDIS_URL")
        }
        with celery_worker(
            database_url=DATABASE_URL,
            broker_url=BROKER_URL,
            queue=QUEUE,
            smtp_port=port,
            concurrency=1,
            **worker_settings,
        ):
            for round_number in range(1, args.rounds + 1):
                make_due(ids)
                before = count()
                seconds = plain_loop(ids)
                assert count() - before == len(ids), "the sink did not count every plain-loop message"
                loop_rates.append(len(ids) / seconds)
                print(
                    f"round {round_number}: plain loop {loop_rates[-1]:8.1f} msg/s ({seconds:.1f} s)",
                    flush=True,
                )

                make_due(ids)
                seconds = through_celery(ids, count(), count)
                celery_rates.append(len(ids) / seconds)
                print(
                    f"round {round_number}: outbox     {celery_rates[-1]:8.1f} msg/s ({seconds:.1f} s)"
                    f"   ratio {celery_rates[-1] / loop_rates[-1]:.2f}",
                    flush=True,
                )

    loop, celery = statistics.median(loop_rates), statistics.median(celery_rates)
    print()
    print(f"messages per round:                   {len(ids)}")
    print(f"plain loop (no Celery), median:       {loop:8.1f} msg/s")
    print(f"outbox via one Celery worker, median: {celery:8.1f} msg/s")
    print(f"ratio outbox / plain loop:            {celery / loop:8.2f}   (target >= 0.5)")
    # Each round runs both back to back, so a round's ratio is the fairer figure on a busy machine.
    ratios = [c / p for c, p in zip(celery_rates, loop_rates, strict=True)]
    print(f"ratio per round (min-max):            {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    main()
