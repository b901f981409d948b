"""
Mixed load on a production-like site, then an audit of what it booked.

Serves the project with gunicorn (several workers, DEBUG off, PostgreSQL and Redis from
DATABASE_URL / REDIS_URL, or a clinic_bench database and Redis database 14; request limits raised
so one loopback address is not throttled), and runs N client threads, each with a keep-alive
http.client connection, for a fixed time. Each client mixes explainer page views, availability
look-ups and POST /api/series/ bookings whose first sessions are drawn from a handful of slots,
so bookings race for the same times. Prints throughput and p50/p99 per endpoint, 5xx separately
from 409s, then audits the database: no overlapping active appointments (per practitioner, room
and patient), no partial series, every 201 present. tests/hardening/test_load_audit.py runs the
same load, small, and asserts the audit.

    .venv/bin/python bench/load.py [--clients 16] [--seconds 20] [--workers 4] [--threads 4]
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dj_database_url
import psycopg2

from bench import _harness as harness
from bookings.questionnaire import QUESTIONS
from tests.servers import manage

# High enough that N clients on one address never meet a request limit (bookings/ratelimits.py).
UNLIMITED = {
    name: "1000000/m"
    for name in ("BOOKING_POST_RATE", "API_BOOKING_RATE", "AVAILABILITY_API_RATE", "MANAGE_LINK_RATE",
                 "STAFF_LOGIN_RATE_PER_IP", "STAFF_LOGIN_RATE_PER_USERNAME")
}
CONTESTED_SLOTS = 6  # the first sessions every booking client races for
MIX = (("page", 5), ("availability", 3), ("booking", 2))  # relative weights


@dataclass
class Endpoint:
    """What one kind of request got, over every client."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: int = 0  # no answer at all (connection refused, reset, timeout)
    samples: dict[int, bytes] = field(default_factory=dict)  # the first body seen per refusal status

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


@dataclass
class LoadResult:
    seconds: float
    endpoints: dict[str, Endpoint]
    booked: list[str]  # public ids of the series answered 201

    @property
    def server_errors(self) -> int:
        return sum(endpoint.server_errors + endpoint.failures for endpoint in self.endpoints.values())


@dataclass
class Audit:
    overlapping: list[tuple]  # pairs of active appointments sharing a practitioner's or a room's time
    patient_overlapping: list[tuple]  # pairs of active appointments of one patient at the same time
    partial: list[tuple]  # active series without exactly sessions_in_series active appointments
    missing: list[str]  # 201 answers whose series is not there, whole and active

    @property
    def ok(self) -> bool:
        return not (self.overlapping or self.patient_overlapping or self.partial or self.missing)


ACTIVE = ("booked", "checked_in", "completed")  # bookings.models.Appointment.ACTIVE_STATUSES

OVERLAPS = """
    SELECT a.id, b.id FROM bookings_appointment a
      JOIN bookings_appointment b ON a.id < b.id
       AND (a.practitioner_id = b.practitioner_id OR a.room_id = b.room_id)
       AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
     WHERE a.status IN %(active)s AND b.status IN %(active)s
"""
# The patient as the series names them (not the appointment's own copy of it: this checks that too).
PATIENT_OVERLAPS = """
    SELECT a.id, b.id FROM bookings_appointment a
      JOIN bookings_series sa ON sa.id = a.series_id
      JOIN bookings_appointment b
        ON a.id < b.id AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
      JOIN bookings_series sb ON sb.id = b.series_id AND sb.patient_id = sa.patient_id
     WHERE a.status IN %(active)s AND b.status IN %(active)s
"""
PARTIAL = """
    SELECT s.public_id, t.sessions_in_series, count(a.id) FILTER (WHERE a.status IN %(active)s)
      FROM bookings_series s
      JOIN treatments_treatment t ON t.id = s.treatment_id
      LEFT JOIN bookings_appointment a ON a.series_id = s.id
     WHERE s.status = 'active'
     GROUP BY s.id, s.public_id, t.sessions_in_series
    HAVING count(a.id) FILTER (WHERE a.status IN %(active)s)
           <> least(t.sessions_in_series, coalesce(s.ends_after_session, t.sessions_in_series))
"""
PRESENT = "SELECT public_id::text FROM bookings_series WHERE status = 'active' AND public_id::text = ANY(%(ids)s)"


def audit(database_url: str, booked: list[str]) -> Audit:
    """Check the database after a load: no double booking, no half series, nothing accepted lost."""
    config = dj_database_url.parse(database_url)
    connection = psycopg2.connect(
        dbname=config["NAME"], user=config["USER"] or None, password=config["PASSWORD"] or None,
        host=config["HOST"] or None, port=config["PORT"] or None,
    )  # fmt: skip
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(OVERLAPS, {"active": ACTIVE})
            overlapping = cursor.fetchall()
            cursor.execute(PATIENT_OVERLAPS, {"active": ACTIVE})
            patient_overlapping = cursor.fetchall()
            cursor.execute(PARTIAL, {"active": ACTIVE})
            partial = cursor.fetchall()
            cursor.execute(PRESENT, {"ids": booked})
            present = {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()
    missing = [public_id for public_id in booked if public_id not in present]
    return Audit(overlapping, patient_overlapping, partial, missing)


# --- The load ----------------------------------------------------------------------------------------


def _request(connection, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def contested_starts(host: str, port: int, slug: str) -> list[str]:
    """The first few free slots from a week ahead: every booking client aims at these."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        start = date.today() + timedelta(days=7)
        status, body = _request(connection, "GET", f"/api/availability/?treatment={slug}&start={start}&days=7")
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"availability answered {status}: {body[:500]!r}")
    slots = json.loads(body)["slots"]
    if not slots:
        raise RuntimeError(f"no free slots for {slug} in the week from {start}")
    return [slot["start"] for slot in slots[:CONTESTED_SLOTS]]


def booking_body(slug: str, first_start: str, answers: list[str], number: int) -> bytes:
    return json.dumps({
        "treatment": slug,
        "first_start": first_start,
        "patient": {"name": f"Load Client {number}", "email": f"load{number}@example.com", "phone": "07700 900123"},
        "answers": {key: False for key in answers},
        "consent": True,
    }).encode()


def run_load(host: str, port: int, *, slug: str, answers: list[str], clients: int, seconds: float,
             seed: int = 0) -> LoadResult:
    """`clients` threads mixing page views, availability look-ups and contested bookings for `seconds`."""
    starts = contested_starts(host, port, slug)
    pages = ["/", f"/treatments/{slug}/", f"/treatments/{slug}/faq/", f"/treatments/{slug}/how-it-works/"]
    today = date.today()
    endpoints = {name: Endpoint() for name, _ in MIX}
    booked: list[str] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        chooser = random.Random(seed * 1000 + index)
        names, weights = zip(*MIX, strict=True)
        mine = {name: Endpoint() for name in names}
        accepted = []
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            while time.monotonic() < deadline:
                kind = chooser.choices(names, weights)[0]
                body = None
                if kind == "page":
                    method, path = "GET", chooser.choice(pages)
                elif kind == "availability":
                    day = today + timedelta(days=chooser.randrange(1, 60))
                    method, path = "GET", f"/api/availability/?treatment={slug}&start={day}&days=7"
                else:
                    with lock:
                        number = next(counter)
                    method, path = "POST", "/api/series/"
                    body = booking_body(slug, chooser.choice(starts), answers, number)
                began = time.monotonic()
                try:
                    status, content = _request(connection, method, path, body)
                except (OSError, http.client.HTTPException):
                    mine[kind].failures += 1
                    connection.close()  # reconnects on the next request
                    continue
                mine[kind].latencies.append(time.monotonic() - began)
                mine[kind].statuses[status] += 1
                if status >= 400:
                    mine[kind].samples.setdefault(status, content[:300])
                if kind == "booking" and status == 201:
                    accepted.append(json.loads(content)["series"]["id"])
        finally:
            connection.close()
        with lock:
            for name, tally in mine.items():
                endpoints[name].latencies.extend(tally.latencies)
                endpoints[name].statuses.update(tally.statuses)
                endpoints[name].failures += tally.failures
                endpoints[name].samples = {**tally.samples, **endpoints[name].samples}
            booked.extend(accepted)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return LoadResult(time.monotonic() - started, endpoints, booked)


def report(result: LoadResult, found: Audit) -> None:
    print(f"\n{'endpoint':<14} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} {'409':>5} "
          f"{'no answer':>9}  statuses")
    for name, endpoint in result.endpoints.items():
        print(
            f"{name:<14} {len(endpoint.latencies):>9} {len(endpoint.latencies) / result.seconds:>8.1f} "
            f"{endpoint.percentile_ms(0.5):>8.1f} {endpoint.percentile_ms(0.99):>8.1f} "
            f"{endpoint.server_errors:>5} {endpoint.statuses[409]:>5} {endpoint.failures:>9}  "
            f"{dict(sorted(endpoint.statuses.items()))}"
        )
    for name, endpoint in result.endpoints.items():
        for status, body in sorted(endpoint.samples.items()):
            print(f"  {name} {status}, e.g.: {body.decode(errors='replace')}")
    print(f"\nbookings accepted (201): {len(result.booked)}; server errors or no answer: {result.server_errors}")
    print(f"audit: overlapping active appointments {len(found.overlapping)}, "
          f"patient in two places {len(found.patient_overlapping)}, partial series {len(found.partial)}, "
          f"accepted but missing {len(found.missing)} -> {'OK' if found.ok else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--clients", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load runs (default 20)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    options = parser.parse_args()

    with harness.bench_site() as env:
        env.update(UNLIMITED)
        manage("load_demo", env=env, timeout=300)  # the microneedling treatment, practitioners, hours
        answers = [question.key for question in QUESTIONS]
        with harness.gunicorn(env, workers=options.workers, threads=options.threads) as (host, port):
            result = run_load(host, port, slug="microneedling", answers=answers, clients=options.clients,
                              seconds=options.seconds)
        found = audit(env["DATABASE_URL"], result.booked)
    print(f"\ngunicorn {options.workers} worker(s) x {options.threads} thread(s); {options.clients} clients "
          f"for {result.seconds:.1f} s; first sessions contested among {CONTESTED_SLOTS} slots")
    report(result, found)
    if not found.ok or result.server_errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
