"""
The series-aware waitlist matcher (bookings/waitlist.py), in memory: no database, no clock.

1. Speed: one freed time matched against 1,000 waiting sessions (a busy clinic's whole waitlist),
   for 200 different freed times; prints the median and the slowest. Target: < 50 ms.
2. A month of real-looking cancellations in a 4-practitioner clinic, replayed twice — without a
   waitlist (a freed time stays empty unless a new booking happens to take it, which this replay
   leaves out) and with it — printing the share of freed chair time refilled and how many sessions
   moved closer to their ideal spacing (the treatment's minimum gap: they asked for sooner).

3. End to end on PostgreSQL (skip with --no-service): the service the Celery task calls when a
   time frees, `waitlist_services.time_freed`: load the waiting entries and their series, one
   schedule, match, lock, re-check and write the Offer, its holds and the offer e-mail's outbox row,
   for 20 freed times against ~800 waiting sessions (the clinic of part 1, bulk-loaded into
   BENCH_WAITLIST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/clinic_bench_waitlist;
   never DATABASE_URL: its tables are emptied). Sending the e-mail is the outbox's (bench/reminders.py).

    .venv/bin/python bench/waitlist.py [--wishes 1000] [--freed 200] [--seed 7] [--no-service]
"""

import argparse
import random
import statistics
import sys
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bookings.availability import Diary, Rules, Schedule, Shift, Slot, Spacing, days_between  # noqa: E402
from bookings.waitlist import Wish, match  # noqa: E402

TZ = ZoneInfo("Europe/London")
SPACING = Spacing(28, 42)
HOUR = timedelta(hours=1)
START = datetime(2027, 1, 4, 8, tzinfo=TZ)  # a Monday
PRACTITIONERS = 4


def build_clinic(rng: random.Random, series_count: int) -> tuple[list[dict[int, Slot]], list[Slot]]:
    """Series booked into a 4-practitioner diary over ~8 months, each 4 sessions 28–42 days apart."""
    series_list: list[dict[int, Slot]] = []
    taken: set[tuple[int, datetime]] = set()
    for _ in range(series_count):
        day = START + timedelta(days=rng.randrange(0, 120))
        if day.weekday() >= 5:
            continue
        pid, hour = rng.randrange(1, PRACTITIONERS + 1), rng.randrange(9, 16)
        # Patients often take a later week than the soonest safe one (4, 5 or 6 weeks apart), at the
        # same weekday and time: room for the waitlist to bring sessions closer.
        starts, moment = [], day.replace(hour=hour)
        for number in range(4):
            starts.append(moment)
            moment += timedelta(weeks=rng.choice([4, 5, 6]))
        if any((pid, start) in taken for start in starts):
            continue
        taken.update((pid, start) for start in starts)
        series_list.append({n: Slot(start, start + HOUR, pid) for n, start in enumerate(starts, start=1)})
    busy = [slot for series in series_list for slot in series.values()]
    return series_list, busy


def schedule_of(busy: list[Slot]) -> Schedule:
    shifts = [Shift(day, time(9), time(17)) for day in range(5)]
    diaries = [
        Diary(pid, shifts, appointments=[(s.start, s.end) for s in busy if s.practitioner_id == pid])
        for pid in range(1, PRACTITIONERS + 1)
    ]
    rules = Rules(min_notice=timedelta(hours=24), horizon_days=90, buffer=timedelta(0), granularity=timedelta(minutes=30))
    return Schedule(TZ, rules, HOUR, diaries)


def wishes_for(rng: random.Random, series_list: list[dict[int, Slot]], count: int, now: datetime) -> list[Wish]:
    wishes = []
    for index in range(count):
        series = rng.choice(series_list)
        number = rng.randrange(2, len(series) + 1)
        weekdays = frozenset(rng.sample(range(5), rng.randrange(2, 6)))
        windows = rng.choice([(), ((time(9), time(13)),), ((time(12), time(17)),)])
        wishes.append(Wish(index, now + timedelta(seconds=index), number, len(series), series, weekdays, windows))
    return wishes


def speed(args) -> None:
    rng = random.Random(args.seed)
    series_list, busy = build_clinic(rng, 900)
    now = START + timedelta(days=20)
    wishes = wishes_for(rng, series_list, args.wishes, now)
    freed_pool = [slot for slot in busy if slot.start > now + timedelta(days=2)]
    timings, offers_made = [], 0
    for _ in range(args.freed):
        freed = rng.choice(freed_pool)
        reduced = schedule_of([slot for slot in busy if slot != freed])
        started = clock.perf_counter()
        offers = match(reduced, freed=freed, wishes=wishes, spacing=SPACING, not_before=now + timedelta(hours=24))
        timings.append((clock.perf_counter() - started) * 1000)
        offers_made += bool(offers)
    print(f"series in the diary: {len(series_list)}; waiting sessions: {len(wishes)}; freed times tried: {args.freed}")
    print(f"match one freed time against {len(wishes)} waiting sessions: median {statistics.median(timings):.2f} ms, "
          f"p95 {sorted(timings)[int(len(timings) * 0.95) - 1]:.2f} ms, slowest {max(timings):.2f} ms (target < 50 ms)")
    print(f"freed times that found a taker: {offers_made}/{args.freed}")


def month(args) -> None:
    """Replay a month of cancellations (about 10% of sessions in it) with and without the waitlist."""
    rng = random.Random(args.seed + 1)
    series_list, busy = build_clinic(rng, 900)
    now = START + timedelta(days=30)
    month_end = now + timedelta(days=30)
    in_month = [slot for slot in busy if now + timedelta(days=2) < slot.start < month_end]
    cancellations = rng.sample(in_month, max(1, len(in_month) * 10 // 100))
    # A third of the patients with a session still ahead ask for sooner on one of them.
    wishes, index = [], 0
    for series in series_list:
        ahead = [n for n, slot in series.items() if n > 1 and slot.start > now + timedelta(days=2)]
        if ahead and rng.random() < 0.33:
            wishes.append(Wish(index, now + timedelta(minutes=index), ahead[0], len(series), dict(series)))
            index += 1
    freed_minutes = refilled_minutes = closer = 0
    live = list(busy)
    by_wish = {wish.id: wish for wish in wishes}
    for cancelled in sorted(cancellations, key=lambda slot: slot.start):
        if cancelled not in live:
            continue  # that session was already moved sooner by an earlier offer
        live.remove(cancelled)
        freed_minutes += 60
        offers = match(schedule_of(live), freed=cancelled, wishes=list(by_wish.values()), spacing=SPACING,
                       not_before=now + timedelta(hours=24))
        if not offers:
            continue
        offer = offers[0]
        refilled_minutes += 60
        wish = offer.wish
        before_gap = days_between(wish.current[wish.number - 1].start, wish.current[wish.number].start, TZ)
        after_gap = days_between(wish.current[wish.number - 1].start, offer.slot.start, TZ)
        closer += abs(after_gap - SPACING.min_days) < abs(before_gap - SPACING.min_days)
        for session in offer.sessions:
            old = wish.current.get(session.number)
            if old in live:
                live.remove(old)
            live.append(session.slot)
        del by_wish[wish.id]
    print(f"a month: {len(cancellations)} cancellations, {len(wishes)} sessions waiting for sooner")
    print(f"  without waitlist: 0 of {freed_minutes} freed chair minutes refilled (0%)")
    share = 100 * refilled_minutes / freed_minutes if freed_minutes else 0
    print(f"  with waitlist:    {refilled_minutes} of {freed_minutes} freed chair minutes refilled ({share:.0f}%); "
          f"{closer} sessions moved closer to their ideal spacing")


SERVICE_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clinic_bench_waitlist"
SERVICE_TABLES = [
    "bookings_offer", "bookings_waitlistentry", "bookings_outboxmessage", "bookings_auditevent",
    "bookings_appointment", "bookings_questionnaire", "bookings_series", "bookings_patient",
    "bookings_workinghours", "bookings_practitioner_treatments", "bookings_practitioner",
]  # fmt: skip


def service(args) -> None:
    """`time_freed` end to end on PostgreSQL: freed time in, Offer + holds + outbox row out."""
    import os

    from bench._harness import database_create_if_missing, django_for_bench

    url = os.environ.get("BENCH_WAITLIST_DATABASE_URL", SERVICE_DATABASE_URL)
    database_create_if_missing(url)
    django_for_bench("BENCH_WAITLIST_DATABASE_URL", SERVICE_DATABASE_URL)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bookings import notifications, waitlist_services
    from bookings.models import Appointment, Offer, Patient, Practitioner, Series, WaitlistEntry, WorkingHours
    from treatments.models import Treatment

    call_command("migrate", "--noinput", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(SERVICE_TABLES)} CASCADE")
    # The e-mail's row is written (measured); handing it to a worker after commit is not.
    notifications.send_on_commit = lambda ids: None

    rng = random.Random(args.seed + 2)
    series_list, _ = build_clinic(rng, 900)
    treatment, _ = Treatment.objects.update_or_create(slug="bench-waitlist", defaults=dict(
        name="Bench microneedling", summary="Bench.", sessions_in_series=4, min_days_between=28,
        max_days_between=42, session_minutes=60, requires_room=False))
    practitioners = {}
    for pid in range(1, PRACTITIONERS + 1):
        practitioner = Practitioner.objects.create(name=f"Bench practitioner {pid}")
        practitioner.treatments.add(treatment)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=day, start=time(9), end=time(17)) for day in range(5))
        practitioners[pid] = practitioner.pk
    patients = Patient.objects.bulk_create(
        Patient(name=f"Bench patient {n}", email=f"bench{n}@example.com", phone="07700 900000")
        for n in range(len(series_list)))
    rows = Series.objects.bulk_create(Series(patient=patient, treatment=treatment) for patient in patients)
    Appointment.objects.bulk_create(
        Appointment(series=row, patient=row.patient, session_number=number,
                    practitioner_id=practitioners[slot.practitioner_id], start=slot.start, end=slot.end)
        for row, sessions in zip(rows, series_list, strict=True) for number, slot in sessions.items())
    now = START + timedelta(days=20)
    entries = WaitlistEntry.objects.bulk_create(
        WaitlistEntry(series=row, treatment=treatment, session_number=rng.randrange(2, len(sessions) + 1),
                      weekdays=sorted(rng.sample(range(5), rng.randrange(2, 6))), created_at=now + timedelta(seconds=n))
        for n, (row, sessions) in enumerate(zip(rows, series_list, strict=True)))
    pool = list(Appointment.objects.filter(start__gt=now + timedelta(days=2), start__lt=now + timedelta(days=60)))
    timings, counts, made = [], [], 0
    for appointment in rng.sample(pool, 20):
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
        freed = waitlist_services.Freed(appointment.practitioner_id, appointment.start, appointment.end)
        with CaptureQueriesContext(connection) as queries:
            started = clock.perf_counter()
            offers = waitlist_services.time_freed(freed=freed, now=now)
            timings.append((clock.perf_counter() - started) * 1000)
        counts.append(len(queries))
        made += len(offers)
        # Back as it was for the next freed time.
        Offer.objects.filter(pk__in=[offer.pk for offer in offers]).delete()
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED).update(status=WaitlistEntry.Status.WAITING)
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.BOOKED)
    print(f"end to end on PostgreSQL (waitlist_services.time_freed): {len(entries)} waiting sessions, "
          f"20 freed times, {made} offers made (held, outbox row written)")
    print(f"  freed time -> offer created: median {statistics.median(timings):.1f} ms, "
          f"slowest {max(timings):.1f} ms; queries: median {statistics.median(counts):.0f}, most {max(counts)} "
          f"(load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--wishes", type=int, default=1000)
    parser.add_argument("--freed", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-service", dest="service", action="store_false", help="skip the PostgreSQL part")
    args = parser.parse_args()
    speed(args)
    month(args)
    if args.service:
        service(args)


if __name__ == "__main__":
    main()
