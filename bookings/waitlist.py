"""
The series-aware waitlist matcher: who gets a time that has just been freed.

Pure like `availability.py` (no ORM, no clock). Every waitlist in the field is per slot or per day;
here a patient waits for a *session of a series*, and a freed time is only offered when it fits that
session **with every other session of the series still inside its spacing window** — moving later
sessions too where the engine can place them, all or nothing.

Ranking is fair and explainable: first come (the wish's `since`), then the closest fit (fewest later
sessions moved, then the gap nearest the treatment's minimum: the patient asked for *sooner*), then
the earliest start. Because first come decides first, the matcher walks wishes in that order and
stops as soon as it has `limit` offers and no later wish can tie: the expensive re-planning runs for
a handful of wishes, not for the whole list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .availability import (
    PlannedSession,
    Schedule,
    Slot,
    Spacing,
    days_between,
    plan_series,
    replan_after_move,
    slot_problem,
)


@dataclass(frozen=True)
class Wish:
    """A session waiting for a sooner time (or a new patient's first session)."""

    id: int
    since: datetime  # when the patient asked: first come, first served
    number: int  # the session that wants a time (1: a first session)
    sessions: int  # sessions in the series
    current: Mapping[int, Slot] = field(default_factory=dict)  # the series' live sessions
    weekdays: frozenset[int] = frozenset()  # Monday = 0; empty: any day suits
    windows: tuple[tuple[time, time], ...] = ()  # local wall-clock [from, to) that suit; empty: any
    earliest: date | None = None  # from eligibility: no session before this local day
    practitioner_id: int | None = None  # only this practitioner, when the patient asked for one

    def suits(self, slot: Slot, tz) -> bool:
        local = slot.start.astimezone(tz)
        end = slot.end.astimezone(tz)
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        if self.windows and not any(lo <= local.time() and end.time() <= hi for lo, hi in self.windows):
            return False
        if self.earliest is not None and local.date() < self.earliest:
            return False
        return self.practitioner_id is None or self.practitioner_id == slot.practitioner_id


@dataclass(frozen=True)
class Offer:
    wish: Wish
    sessions: tuple[PlannedSession, ...]  # the offered session first, then the later ones it moves
    moved_later: int  # how many later sessions move with it
    gap_miss: int  # days between the new gap and the treatment's minimum (0: the soonest safe gap)

    @property
    def slot(self) -> Slot:
        return self.sessions[0].slot

    def rank(self) -> tuple:
        return (self.wish.since, self.moved_later, self.gap_miss, self.slot.start, self.wish.id)


def candidate_slots(schedule: Schedule, freed: Slot) -> list[Slot]:
    """Session-length slots on the clinic's grid inside the freed time, free in the schedule."""
    tz, step = schedule.tz, schedule.rules.granularity
    slots, start = [], freed.start
    while start + schedule.duration <= freed.end:
        slot = Slot(start.astimezone(tz), (start + schedule.duration).astimezone(tz), freed.practitioner_id, freed.room_id)
        if schedule.is_free(slot):
            slots.append(slot)
        start += step
    return slots


def match(
    schedule: Schedule,
    *,
    freed: Slot,
    wishes: Iterable[Wish],
    spacing: Spacing,
    not_before: datetime,
    last_first_day: date | None = None,
    limit: int = 1,
) -> list[Offer]:
    """The best `limit` offers of the freed time (or part of it), best first.

    `schedule` is the treatment's, with the freed appointment already gone; `not_before` the
    earliest start patients may be offered (notice); `last_first_day` the horizon for first
    sessions. Each offer keeps its whole series inside the spacing windows, or it is not made.
    """
    slots = [slot for slot in candidate_slots(schedule, freed) if slot.start >= not_before]
    if not slots:
        return []
    offers: list[Offer] = []
    for wish in sorted(wishes, key=lambda wish: (wish.since, wish.id)):
        if len(offers) >= limit and wish.since > offers[-1].wish.since:
            break  # first come decides first: nobody later can outrank what we have
        best = None
        for slot in slots:
            offer = _fit(schedule, wish, slot, spacing, not_before, last_first_day)
            if offer is not None and (best is None or offer.rank() < best.rank()):
                best = offer
        if best is not None:
            offers.append(best)
            offers.sort(key=Offer.rank)
    return offers[:limit]


def _fit(
    schedule: Schedule,
    wish: Wish,
    slot: Slot,
    spacing: Spacing,
    not_before: datetime,
    last_first_day: date | None,
) -> Offer | None:
    tz = schedule.tz
    if not wish.suits(slot, tz):
        return None
    current = wish.current.get(wish.number)
    if current is not None and slot.start >= current.start:
        return None  # not sooner than what the patient already has
    others = [other for number, other in wish.current.items() if number != wish.number]
    if any(slot.overlaps(other, schedule.rules.buffer) for other in others):
        return None
    is_first = wish.number == 1
    if slot_problem(schedule, slot, not_before=not_before, last_day=last_first_day if is_first else None):
        return None
    previous = wish.current.get(wish.number - 1)
    if not is_first:
        if previous is None or not spacing.allows(previous.start, slot.start, tz):
            return None
        gap_miss = days_between(previous.start, slot.start, tz) - spacing.min_days
    else:
        gap_miss = 0
    if is_first and not wish.current:
        plan = plan_series(schedule, first=slot, sessions=wish.sessions, spacing=spacing, not_before=not_before)
        if not plan.is_complete:
            return None
        return Offer(wish, tuple(plan.sessions), 0, gap_miss)
    changed = replan_after_move(
        schedule, current=dict(wish.current), number=wish.number, new=slot, spacing=spacing, not_before=not_before
    )
    if any(session.slot is None for session in changed):
        return None  # all or nothing: a later session that cannot follow makes no offer
    return Offer(wish, tuple(changed), len(changed) - 1, gap_miss)



def hours_stretches(
    blocks: Iterable[tuple[int, int, time, time]], *, first_day: date, days: int, tz
) -> list[tuple[int, datetime, datetime]]:
    """Each (practitioner, weekday, start, end) block of working hours as the dated stretches it
    opens over local days [first_day, first_day + days): (practitioner, start, end), aware."""
    stretches = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for practitioner_id, weekday, start, end in blocks:
            if day.weekday() == weekday:
                stretches.append((
                    practitioner_id,
                    datetime.combine(day, start, tzinfo=tz),
                    datetime.combine(day, end, tzinfo=tz),
                ))
    return stretches
