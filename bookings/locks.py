"""
Row locks for changes to bookings: one explicit, small lock per series, taken first, with a timeout.

Every service that changes a series (books, moves, cancels, marks, re-plans its e-mails) takes
`series_lock` before anything else, so two changes to one series (two tabs, the patient and the
front desk, a status and a cancel) run one after the other and each sees the other's result;
changes to other series never wait for it. Then, in this order: the practitioners' and rooms'
rows (services._lock_resources), the series' appointments, its outbox rows. One order everywhere
means no two services can deadlock.

Why `of=("self",)`: a FOR UPDATE over a join locks every joined row. Locking a series with its
treatment joined locks the treatment too, and then every booking of that treatment waits (a new
series' foreign key needs a share lock on the treatment row) for as long as this change lasts.

A lock not granted within BOOKING_LOCK_TIMEOUT_SECONDS (PostgreSQL's lock_timeout, set for the
rest of the transaction) is refused with code "busy" and a sentence, never a long wait or a 500.
(pretix's lock_objects does the same for its quotas.)
"""

from __future__ import annotations

from django.conf import settings
from django.db import OperationalError, connection

from bookings.errors import BUSY, BookingError, Code
from bookings.models import Practitioner, Room, Series

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


SET_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', %s, true)"  # true: SET LOCAL, this transaction


def _lock_timeout() -> str:
    return f"{max(1, int(settings.BOOKING_LOCK_TIMEOUT_SECONDS * 1000))}ms"


def lock_timeout_set() -> None:
    """From here to the end of the transaction, waiting for any lock longer than the setting fails."""
    with connection.cursor() as cursor:
        cursor.execute(SET_LOCK_TIMEOUT, [_lock_timeout()])


def resources_lock(*, practitioner_ids: list[int], room_ids: list[int]) -> None:
    """Lock these practitioners' and rooms' rows until the transaction ends, under the lock timeout.

    One round trip (the timeout, then the practitioners, then the rooms, each by id): the order
    is the same everywhere, so two bookings locking the same resources cannot deadlock. Why the
    services lock them at all: see services._lock_resources.
    """
    statements, params = [SET_LOCK_TIMEOUT], [_lock_timeout()]
    for model, ids in ((Practitioner, practitioner_ids), (Room, room_ids)):
        if ids:
            table = model._meta.db_table
            statements.append(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE")
            params.append(sorted(ids))
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(statements), params)


def is_lock_timeout(exc: Exception) -> bool:
    return getattr(exc.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE


def busy() -> BookingError:
    return BookingError(BUSY, code=Code.BUSY)


def series_lock(series_id: int) -> Series:
    """Lock this series' row (its row only) until the transaction ends; refuse with "busy" after a while.

    Returns the series as it is now, with its treatment (read, not locked).
    """
    lock_timeout_set()
    try:
        return Series.objects.select_for_update(of=("self",)).select_related("treatment").get(pk=series_id)
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise busy() from exc
        raise
