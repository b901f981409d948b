"""
(Not bench/calendar.py: a file of that name in bench/ would shadow the standard library's
`calendar` for every script run from this folder.)

How fast booking step 1's month calendar answers, with every shown first time's series checked.

Builds two dedicated PostgreSQL databases, <name>_5k and <name>_500k, from
BENCH_CALENDAR_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clinic_bench_calendar;
never DATABASE_URL, because the tables are emptied), with bench/availability.py's clinic: a
room-needing 6-session treatment (28 to 56 days apart) performed by 5 practitioners, ten months
booked two hours a day each, and 495,000 rows of history in the large one. Then GETs
/book/<slug>/?month=2027-03&day=2027-03-02 through Django's test client (middleware, view,
template: the whole page), alternating between the databases round by round. Prints the queries
per page, the times offered (each with its whole series planned) and the medians; asserts nothing.

    .venv/bin/python bench/booking_calendar.py [--runs 40] [--rounds 4]

Targets: at most 8 queries, median under 150 ms at 5k and at 500k rows.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import django_for_bench  # noqa: E402

DATABASE_URL = django_for_bench(
    "BENCH_CALENDAR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_calendar"
)

import time_machine  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.availability import LARGE, NOW, SMALL, build, use_database  # noqa: E402
from bookings.models import Appointment  # noqa: E402
from treatments.models import Treatment  # noqa: E402

MONTH_VIEW = "?month=2027-03&day=2027-03-02"


def page(client: Client, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed pages per database (default 40)")
    parser.add_argument("--rounds", type=int, default=4, help="alternations between the databases (default 4)")
    parser.add_argument("--reuse", action="store_true", help="time the databases a previous run built")
    options = parser.parse_args()

    started = time.perf_counter()
    base = DATABASE_URL.rsplit("/", 1)[1]
    databases = {SMALL: f"{base}_5k", LARGE: f"{base}_500k"}
    paths, counts = {}, {}
    for rows, name in databases.items():
        if options.reuse:
            use_database(name)
            call_command("migrate", verbosity=0)  # the code may have moved on since the build
            treatment = Treatment.objects.get(slug="bench-microneedling")
        else:
            treatment = build(name, rows)
        paths[rows] = f"/book/{treatment.slug}/{MONTH_VIEW}"
        counts[rows] = Appointment.objects.count()
    build_seconds = time.perf_counter() - started

    timings: dict[int, list[float]] = {SMALL: [], LARGE: []}
    cpu: dict[int, list[float]] = {SMALL: [], LARGE: []}
    queries: dict[int, int] = {}
    offered: dict[int, int] = {}
    client = Client(HTTP_HOST="localhost")
    with time_machine.travel(NOW, tick=True):
        for _ in range(options.rounds):
            for rows, name in databases.items():
                use_database(name)
                with CaptureQueriesContext(connection) as captured:
                    response = page(client, paths[rows])  # also warms the connection
                queries[rows] = len(captured)
                offered[rows] = response.content.count(b'name="slot"')
                for _ in range(max(1, options.runs // options.rounds)):
                    begun, begun_cpu = time.perf_counter(), time.process_time()
                    page(client, paths[rows])
                    timings[rows].append((time.perf_counter() - begun) * 1000)
                    cpu[rows].append((time.process_time() - begun_cpu) * 1000)

    print(
        "Booking step 1, a month view of a 6-session room-needing treatment, 5 practitioners "
        f"({offered[SMALL]} first times on the chosen day, each with its whole series planned)"
    )
    for rows in (SMALL, LARGE):
        ordered = sorted(timings[rows])
        print(
            f"  at {counts[rows]:>7,} rows: {queries[rows]} queries (target <= 8), "
            f"median {statistics.median(ordered):6.1f} ms, p90 {ordered[int(0.9 * len(ordered))]:6.1f} ms "
            f"(target < 150 ms); this process's CPU {statistics.median(cpu[rows]):5.1f} ms median"
        )
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: on a busy machine the CPU figure is the steadier one)")
    print(
        f"({len(timings[SMALL])} timed pages per database over {options.rounds} alternating rounds; "
        f"databases built in {build_seconds:.1f} s; whole run {time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
