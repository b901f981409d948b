"""
E-mails that follow a change to a booking: what the services call, inside their transaction.

Each change writes rows to the outbox (bookings/outbox.py) in the service's own transaction, so a
change that rolls back plans and enqueues nothing. Confirmations are handed to a worker as soon
as the transaction commits; reminders, aftercare and nudges wait as rows for the dispatcher.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F

from bookings import outbox, tasks
from bookings.models import Appointment, ClinicRules, OutboxMessage, Series

Kind = OutboxMessage.Kind


def series_booked(
    *, series: Series, appointments: list[Appointment], rules: ClinicRules, now: datetime
) -> None:
    """A new series: its confirmation and every planned e-mail, written at once (nothing to replan)."""
    message = outbox.series_first_plan(series=series, appointments=appointments, rules=rules, now=now)
    send_on_commit([message.pk])


def appointments_rescheduled(*, appointments: Iterable[Appointment], now: datetime) -> None:
    appointments = list(appointments)
    _revise(appointments)
    _changed(Kind.RESCHEDULED, appointments, now=now)


def appointments_cancelled(*, appointments: Iterable[Appointment], now: datetime) -> None:
    appointments = list(appointments)
    _revise(appointments)
    _changed(Kind.CANCELLED, appointments, now=now)


def session_rebooked(*, appointment: Appointment, now: datetime) -> None:
    """A cancelled session booked again: a confirmation with the series' calendar, its reminders planned."""
    _changed(Kind.REBOOKED, [appointment], now=now)


def appointment_marked(*, appointment: Appointment, now: datetime) -> None:
    """A check-in, completion or no-show: no e-mail now, but the plan changes (no aftercare for a no-show)."""
    outbox.series_replan(series=appointment.series, now=now)


def _revise(appointments: list[Appointment]) -> None:
    """A change the patient is told about is a new revision of the event in their calendar.

    Bumps each appointment's calendar SEQUENCE (bookings/ics.py) in the service's transaction,
    which holds these rows locked, so the in-memory counters stay true too.
    """
    Appointment.objects.filter(pk__in=[a.pk for a in appointments]).update(sequence=F("sequence") + 1)
    for appointment in appointments:
        appointment.sequence += 1


def _changed(kind: str, appointments: list[Appointment], *, now: datetime) -> None:
    if not appointments:
        return
    series = appointments[0].series
    message = outbox.confirmation_add(kind=kind, series=series, appointments=appointments, now=now)
    outbox.series_replan(series=series, now=now)
    send_on_commit([message.pk])


def time_freed_on_commit(freed, *, exclude_entries=()) -> None:
    """Once the transaction commits, offer each freed time to the waitlist (bookings/waitlist_services).

    `freed`: (practitioner id, room id, start, end) per stretch. Never inside the transaction that
    freed it: the matcher reads and locks other series, and must see the time free.
    robust=True, as for e-mails: a broker that is down must not undo the change that freed it.
    """
    stretches = [(p, room, start.isoformat(), end.isoformat()) for p, room, start, end in freed]
    if not stretches:
        return
    exclude = sorted(exclude_entries)

    def enqueue_match() -> None:
        for practitioner_id, room_id, start, end in stretches:
            tasks.waitlist_time_freed.delay(practitioner_id, room_id, start, end, exclude)

    transaction.on_commit(enqueue_match, robust=True)


def hours_opened(blocks, *, now: datetime) -> None:
    """Working hours added or changed: their dated stretches up to the booking horizon go to the
    waitlist once the change commits (free time there may suit someone waiting)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from bookings.waitlist import hours_stretches

    tz = ZoneInfo(settings.TIME_ZONE)
    stretches = hours_stretches(
        [(block.practitioner_id, block.weekday, block.start, block.end) for block in blocks],
        first_day=now.astimezone(tz).date() + timedelta(days=1),
        days=ClinicRules.load().horizon_days,
        tz=tz,
    )
    time_freed_on_commit([(practitioner, None, start, end) for practitioner, start, end in stretches])


def appointments_freed(appointments: Iterable[Appointment]) -> None:
    """These appointments no longer take their time (cancelled, moved away, no-show): offer it."""
    time_freed_on_commit([(a.practitioner_id, a.room_id, a.start, a.end) for a in appointments])


def send_on_commit(ids: list[int]) -> None:
    """Enqueue the send once the transaction commits (never for one that rolls back).

    robust=True: a broker that is down must not turn a saved booking into an error page. The row
    is safe in the database; the dispatcher sends it within a minute of the broker coming back.
    """

    def enqueue_send_now() -> None:
        tasks.send_now.delay(ids)

    transaction.on_commit(enqueue_send_now, robust=True)
