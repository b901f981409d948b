"""
Shared by the benchmarks: a benchmark database, a project server under gunicorn, and a bounded
load generator (threads, each with a keep-alive http.client connection, for a fixed duration).
"""

import http.client
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dj_database_url  # noqa: E402
import psycopg2  # noqa: E402
import redis  # noqa: E402
from psycopg2 import sql  # noqa: E402

from tests.servers import GUNICORN, free_port, manage, production_env, serve  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clinic_bench"


def django_for_bench(env_name: str, default_url: str) -> str:
    """Set up Django in this process on the bench database named by `env_name`; return its URL.

    Never DATABASE_URL: in-process benchmarks empty the bookings tables of their database.
    """
    database_url = os.environ.get(env_name, default_url)
    os.environ.update(
        DATABASE_URL=database_url, DEBUG="1", DJANGO_SETTINGS_MODULE="clinic.settings", LOG_LEVEL="WARNING"
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    return database_url
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


@contextmanager
def bench_site() -> Iterator[dict[str, str]]:
    """
    The environment of a migrated, collected production-like site for one run.

    The run's cache keys carry a prefix of their own, so it starts cold, never reads pages a
    previous run stored, and removes what it stored when it ends.
    """
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as var_dir:
        env = production_env(
            DJANGO_SETTINGS_MODULE="bench._settings",
            DATABASE_URL=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            REDIS_URL=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
            CACHE_KEY_PREFIX=f"bench-{secrets.token_hex(4)}",
            CLINIC_VAR_DIR=var_dir,
            SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback
            LOG_LEVEL="WARNING",
        )
        print(f"Preparing {env['DATABASE_URL']} (migrate, collectstatic)...", flush=True)
        site_prepare(env)
        try:
            yield env
        finally:
            cache_keys_delete(env)


def cache_keys_delete(env: dict[str, str]) -> None:
    """Delete the run's keys (Django stores them as <prefix>:<version>:<key>)."""
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=f"{env['CACHE_KEY_PREFIX']}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def database_create_if_missing(url: str) -> None:
    """Create the PostgreSQL database named in `url` unless it exists."""
    config = dj_database_url.parse(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    finally:
        connection.close()


def site_prepare(env: dict[str, str]) -> None:
    """What a deploy does before serving: database, migrations, hashed static files."""
    database_create_if_missing(env["DATABASE_URL"])
    manage("migrate", "--noinput", env=env, timeout=300)
    manage("collectstatic", "--noinput", env=env, timeout=300)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int, threads: int) -> Iterator[tuple[str, int]]:
    """Serve the project with gunicorn on a free loopback port; yield (host, port); always stop it."""
    port = free_port()
    argv = [
        GUNICORN,
        "clinic.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--graceful-timeout", "5",
    ]  # fmt: skip
    with serve(argv, port=port, env=env):
        yield "127.0.0.1", port


@dataclass
class Tally:
    """Requests answered for one target, over all the rounds it ran."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    headers_seen: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """The latency within which `fraction` of the requests were answered, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def hammer(
    host: str, port: int, path: str, *, seconds: float, concurrency: int, tally: Tally, watch_header: str = ""
) -> float:
    """Send GET `path` from `concurrency` threads for `seconds`; add the answers to `tally`, return req/s."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        latencies, errors, seen = [], 0, 0
        try:
            while (start := time.monotonic()) < deadline:
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    errors += 1
                    connection.close()  # reconnects on the next request
                    continue
                if response.status != 200:
                    errors += 1
                    continue
                latencies.append(time.monotonic() - start)
                seen += bool(watch_header and response.getheader(watch_header))
        finally:
            connection.close()
        with lock:
            tally.latencies.extend(latencies)
            tally.errors += errors
            if watch_header:
                tally.headers_seen[watch_header] = tally.headers_seen.get(watch_header, 0) + seen

    answered_before = len(tally.latencies)
    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - started
    tally.seconds += elapsed
    return (len(tally.latencies) - answered_before) / elapsed


def fetch(host: str, port: int, path: str) -> bytes:
    """GET `path` once; the body, or an error naming the status."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}:\n{body[:2000].decode(errors='replace')}")
    return body
