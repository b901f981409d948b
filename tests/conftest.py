"""Shared test set-up: the suite runs on the real PostgreSQL and Redis (see `make test`)."""

import os

import pytest
from django.conf import settings


def pytest_configure(config):
    # Each xdist worker gets its own Redis database (REDIS_URL's number plus the worker's), so
    # one worker's cache.clear() (FLUSHDB) never wipes another's keys.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0)
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        base, _, number = cache["LOCATION"].rpartition("/")
        cache["LOCATION"] = f"{base}/{int(number or 0) + index}"
    # The Celery broker of the worker tests: another database (eight further on), never the one
    # the cache fixture flushes, and a queue of this run's own (tests/bookings/test_email_worker.py).
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        base, _, number = settings.CELERY_BROKER_URL.rpartition("/")
        settings.CELERY_BROKER_URL = f"{base}/{(int(number or 0) + index + 8) % 16}"
    settings.CELERY_TASK_DEFAULT_QUEUE = f"clinic-tests-{worker}-{os.getpid()}"


def pytest_collection_modifyitems(items):
    """Every transactional test restores the migrated data (content types, shipped content).

    A transactional test without serialized rollback flushes the database and lets post_migrate
    re-create content types and permissions; a serialized-rollback test after it on the same
    xdist worker then collides with them (duplicate key on django_content_type). Making all of
    them serialized keeps the suite independent of the order tests land on workers.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            # In front (append=False): pytest-django reads the closest marker, and a marker written
            # on the test function itself would otherwise come first and hide this one.
            serialized = pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True})
            item.add_marker(serialized, append=False)


@pytest.fixture(autouse=True, scope="session")
def _require_real_services():
    """Refuse to run without the machine's PostgreSQL (not `make run`'s embedded one): `make test`."""
    if not os.environ.get("DATABASE_URL"):
        pytest.exit("The test suite runs on the machine's PostgreSQL: use `make test` (it sets DATABASE_URL).", 2)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache (Redis in `make test`)."""
    from django.core.cache import cache

    from treatments.caching import local_pages_clear

    cache.clear()
    local_pages_clear()  # the explainer's in-process copies of cached pages
    yield


@pytest.fixture(autouse=True)
def _celery_tasks_inline():
    """In-process tests run Celery tasks inline (eager), so an e-mail sent after commit lands in
    `mailoutbox`. The broker and the worker are tested for real in tests/bookings/test_email_worker.py."""
    from clinic.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
