"""
Which between-session e-mails a series should get, and when: a pure function, like availability.py.

The caller (bookings/outbox.py) passes the series as plain data and the clinic's timings; the plan
comes back as `Planned` messages, each named by a key built from what it is about (kind, series,
session, and the start it was planned from). The same series always plans the same keys, so:

- replanning is a diff: keys that appeared are new rows, keys that went away are stale rows;
- a session that moves plans new keys (its start changed), so every message planned for the
  old time is stale: cancelled by the replan, and refused by the send task if it raced ahead;
- the send task asks "is this key still in the plan?" to know whether a message may still go.

Day-based times are wall-clock arithmetic in the clinic's zone: "2 days before a 10:00 session"
is 10:00 local two days earlier, whatever daylight saving did in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Kinds (the values of OutboxMessage.Kind; plain strings so this module needs no database).
REMINDER = "reminder"
REMINDER_MORNING = "reminder_morning"
AFTERCARE = "aftercare"
AFTERCARE_FOLLOWUP = "aftercare_followup"
NEXT_SESSION = "next_session"
NUDGE = "nudge"
FRONT_DESK_ALERT = "front_desk_alert"
PLANNED_KINDS = (
    REMINDER,
    REMINDER_MORNING,
    AFTERCARE,
    AFTERCARE_FOLLOWUP,
    NEXT_SESSION,
    NUDGE,
    FRONT_DESK_ALERT,
)

# Session statuses (Appointment.Status values) that still get e-mails about the session.
UPCOMING = "booked"
HELD = ("booked", "checked_in", "completed")  # the patient came (or will): aftercare applies

# Limits that keep a message sensible when a session starts early or ends late.
MORNING_REMINDER_LEAD = timedelta(hours=1)
AFTERCARE_DELAY = timedelta(hours=1)
# The days-before reminder invites the patient to move or cancel online, which closes at the
# cancellation cutoff: it arrives at least this long before, so the invitation still holds.
REMINDER_CUTOFF_MARGIN = timedelta(hours=12)


@dataclass(frozen=True)
class Timings:
    """The clinic's settings for these e-mails (ClinicRules), as plain values."""

    reminder_days_before: int = 2
    cancellation_cutoff_hours: int = 48
    reminder_morning_time: time | None = time(8)
    aftercare_evening_time: time | None = time(19)
    aftercare_followup_days: int = 3
    next_session_days_before: int = 7
    alert_days_before_window_closes: int = 7
    message_time: time = time(10)


@dataclass(frozen=True)
class Session:
    """One live appointment of the series."""

    number: int
    appointment_id: int
    start: datetime
    end: datetime
    status: str


@dataclass(frozen=True)
class SeriesState:
    series_id: int
    active: bool
    sessions_in_series: int
    min_days_between: int
    max_days_between: int
    sessions: tuple[Session, ...]  # live appointments only (booked, checked in, completed)


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str
    session_number: int
    appointment_id: int | None
    anchor_at: datetime
    due_at: datetime


def message_key(kind: str, series_id: int, session_number: int, anchor_at: datetime) -> str:
    """The message's identity: the same message planned twice has the same key (unique in the table)."""
    anchor = anchor_at.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    return f"{kind}:{series_id}:{session_number}:{anchor}"


def at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """`clock` on local `day`. A time skipped by a spring-forward change resolves to the later side."""
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=tz)
    # zoneinfo keeps a non-existent wall time as written; a round trip through UTC moves it to
    # the first real instant after the gap (01:30 on the change day becomes 02:30 BST).
    return aware.astimezone(ZoneInfo("UTC")).astimezone(tz)


def plan(state: SeriesState, timings: Timings, tz: ZoneInfo) -> list[Planned]:
    """Every between-session e-mail the series should get, past ones included, in due order."""
    planned: list[Planned] = []

    def add(kind: str, session: int, appointment_id: int | None, anchor: datetime, due: datetime) -> None:
        key = message_key(kind, state.series_id, session, anchor)
        planned.append(Planned(key, kind, session, appointment_id, anchor, due))

    by_number = {session.number: session for session in state.sessions}
    for session in sorted(state.sessions, key=lambda s: s.number):
        start, end = session.start.astimezone(tz), session.end.astimezone(tz)
        day = start.date()
        if session.status == UPCOMING:
            if timings.reminder_days_before:
                due = reminder_due(start, timings, tz)
                add(REMINDER, session.number, session.appointment_id, session.start, due)
            if timings.reminder_morning_time is not None:
                due = min(at(day, timings.reminder_morning_time, tz), start - MORNING_REMINDER_LEAD)
                add(REMINDER_MORNING, session.number, session.appointment_id, session.start, due)
            previous = by_number.get(session.number - 1)
            if timings.next_session_days_before and previous is not None:
                due = at(day - timedelta(days=timings.next_session_days_before), timings.message_time, tz)
                if due > previous.end:  # only between sessions: never before the previous one
                    add(NEXT_SESSION, session.number, session.appointment_id, session.start, due)
        if session.status in HELD:
            if timings.aftercare_evening_time is not None:
                due = max(at(day, timings.aftercare_evening_time, tz), end + AFTERCARE_DELAY)
                add(AFTERCARE, session.number, session.appointment_id, session.start, due)
            if timings.aftercare_followup_days:
                due = at(day + timedelta(days=timings.aftercare_followup_days), timings.message_time, tz)
                add(AFTERCARE_FOLLOWUP, session.number, session.appointment_id, session.start, due)

    missing = first_unbooked(state)
    if missing is not None:
        previous = by_number[missing - 1]
        opens, closes = window(previous.start, state.min_days_between, state.max_days_between, tz)
        add(NUDGE, missing, None, previous.start, at(opens, timings.message_time, tz))
        alert_day = max(opens, closes - timedelta(days=timings.alert_days_before_window_closes))
        add(FRONT_DESK_ALERT, missing, None, previous.start, at(alert_day, timings.message_time, tz))

    return sorted(planned, key=lambda message: (message.due_at, message.session_number, message.kind))


def reminder_due(start: datetime, timings: Timings, tz: ZoneInfo) -> datetime:
    """At the session's time of day, `reminder_days_before` days before it, or as many more days as
    it takes to arrive REMINDER_CUTOFF_MARGIN before the cancellation cutoff (counted in real hours:
    a local day across a clock change is 23 or 25 hours long)."""
    # In UTC: arithmetic on datetimes sharing a ZoneInfo is wall-clock arithmetic, not real hours.
    latest = start.astimezone(UTC) - timedelta(hours=timings.cancellation_cutoff_hours) - REMINDER_CUTOFF_MARGIN
    lead = timedelta(hours=timings.cancellation_cutoff_hours) + REMINDER_CUTOFF_MARGIN
    days = max(timings.reminder_days_before, -(-lead // timedelta(days=1)))  # whole days, rounded up
    due = at(start.date() - timedelta(days=days), start.time(), tz)
    while due > latest:  # at most once more: a spring-forward day in between
        days += 1
        due = at(start.date() - timedelta(days=days), start.time(), tz)
    return due


def first_unbooked(state: SeriesState) -> int | None:
    """The first session with no live appointment whose previous session has one (active series only)."""
    if not state.active:
        return None
    numbers = {session.number for session in state.sessions}
    for number in range(2, state.sessions_in_series + 1):
        if number not in numbers and number - 1 in numbers:
            return number
    return None


def window(previous_start: datetime, min_days: int, max_days: int, tz: ZoneInfo) -> tuple[date, date]:
    """The local days the next session may fall on, counted from the previous session's day."""
    day = previous_start.astimezone(tz).date()
    return day + timedelta(days=min_days), day + timedelta(days=max_days)
