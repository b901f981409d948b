"""
The month calendar as a page shows it (templates/bookings/_calendar.html): the query string it
reads, and the context it renders. Shared by booking step 1, the manage link and staff moves.

Everything travels in plain links and forms (?month=YYYY-MM&day=YYYY-MM-DD&practitioner=ID), so
the calendar works without JavaScript; static/js/calendar.js only swaps the part that changes.
"""

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.dateformat import format as date_format

from bookings import calendar
from bookings.availability import Slot
from bookings.calendar import MonthCalendar, TimeChoice
from bookings.models import Appointment, Practitioner
from bookings.forms import clinic_zone, day_label, parse_slot_key, slot_key, slot_label

PERIODS = [("Morning", 0, 12), ("Afternoon", 12, 17), ("Evening", 17, 24)]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass
class CalendarQuery:
    month: date | None = None
    day: date | None = None
    practitioner_id: int | None = None


def performing(treatment) -> list[tuple[int, str]]:
    """(id, name) of the practitioners offering `treatment`: the calendar's filter and its names."""
    return list(Practitioner.objects.performing(treatment).order_by("name").values_list("pk", "name"))


def _date(value: str, pattern: str) -> date | None:
    try:
        return datetime.strptime(value, pattern).date()
    except (TypeError, ValueError):
        return None


def calendar_query(query, practitioner_ids) -> CalendarQuery:
    """The month, day and practitioner asked for; anything unreadable is simply left out.

    `week=YYYY-MM-DD` (the links of the former week calendar) is read as that day.
    """
    month = _date(query.get("month", ""), "%Y-%m")
    day = _date(query.get("day", "") or query.get("week", ""), "%Y-%m-%d")
    try:
        practitioner_id = int(query.get("practitioner", ""))
    except ValueError:
        practitioner_id = None
    return CalendarQuery(month, day, practitioner_id if practitioner_id in practitioner_ids else None)


def posted_day(key: str) -> date | None:
    """The local day of the slot a time button posted, to recompute that day's choices."""
    parsed = parse_slot_key(key)
    return parsed[0].astimezone(clinic_zone()).date() if parsed else None


def day_query(day: date, practitioner_id: int | None = None) -> str:
    values = {"month": f"{day:%Y-%m}", "day": f"{day:%Y-%m-%d}"}
    if practitioner_id:
        values["practitioner"] = practitioner_id
    return "?" + urlencode(values)


def slot_day_query(slot: Slot) -> str:
    return day_query(slot.start.astimezone(clinic_zone()).date())


def _month_query(month: date, practitioner_id: int | None) -> str:
    values = {"month": f"{month:%Y-%m}"}
    if practitioner_id:
        values["practitioner"] = practitioner_id
    return "?" + urlencode(values)


def _pushes_note(choice: TimeChoice, names: dict[int, str]) -> str:
    return "; ".join(
        f"session {session.number} moves to {slot_label(session.slot, names)}" for session in choice.pushes
    )


def _time(choice: TimeChoice, names: dict[int, str], prefix: str) -> dict:
    local = choice.slot.start.astimezone(clinic_zone())
    numbers = ", ".join(str(session.number) for session in choice.pushes)
    plural = len(choice.pushes) > 1
    return {
        "key": slot_key(choice.slot),
        "time": f"{local:%H:%M}",
        "hour": local.hour,
        "practitioner": names.get(choice.slot.practitioner_id, ""),
        "label": f"{prefix}{slot_label(choice.slot, names)}",
        "before": f"{prefix}{day_label(local.date())}, ",  # read, not shown: the day is the heading
        # Shown under the button and read as its description: the later sessions it moves.
        "note": f"Session{'s' if plural else ''} {numbers} move{'' if plural else 's'} too" if choice.pushes else "",
        "note_detail": _pushes_note(choice, names),
        "note_shown": True,
    }


def calendar_context(
    calendar: MonthCalendar,
    *,
    query: CalendarQuery,
    practitioners: list[tuple[int, str]],
    prefix: str = "",
    fits_sentence: str = "",
    left_out_reason: str = "",
    today: date,
) -> dict:
    """What templates/bookings/_calendar.html renders."""
    names = dict(practitioners)
    practitioner_id = query.practitioner_id
    weeks = []
    for week in calendar.weeks:
        row = []
        for day in week:
            in_month = day.month == calendar.month.month
            free = in_month and day in calendar.free_days
            row.append({
                "number": day.day if in_month else "",
                "query": day_query(day, practitioner_id) if free else "",
                "label": f"{day_label(day)}: free times" if free else "",
                "selected": free and day == calendar.day,
                "today": in_month and day == today,
            })
        weeks.append(row)
    times = [_time(choice, names, prefix) for choice in calendar.times]
    # When every time of the day moves the same later sessions, one sentence says so, not each button.
    notes = {time["note"] for time in times}
    day_note = notes.pop() if len(notes) == 1 else ""
    if day_note:
        for time in times:
            time["note_shown"] = False
    periods = [
        {"name": name, "times": [t for t in times if start <= t["hour"] < end]}
        for name, start, end in PERIODS
    ]
    left_out = [
        choice.slot.start.astimezone(clinic_zone()).strftime("%H:%M") for choice in calendar.left_out
    ]
    return {
        "month_label": date_format(calendar.month, "F Y"),
        "month_value": f"{calendar.month:%Y-%m}",
        "day_value": f"{calendar.day:%Y-%m-%d}" if calendar.day else "",
        "day_label": day_label(calendar.day) if calendar.day else "",
        "previous": {
            "query": _month_query(calendar.previous_month, practitioner_id),
            "label": date_format(calendar.previous_month, "F Y"),
        } if calendar.previous_month else None,
        "next": {
            "query": _month_query(calendar.next_month, practitioner_id),
            "label": date_format(calendar.next_month, "F Y"),
        } if calendar.next_month else None,
        "weekdays": WEEKDAYS,
        "weeks": weeks,
        "periods": [period for period in periods if period["times"]],
        "time_count": len(times),
        "day_note": f"{day_note} at every time on this day." if day_note else "",
        "left_out": left_out,
        "left_out_reason": left_out_reason or (calendar.left_out[0].problem if calendar.left_out else ""),
        "fits_sentence": fits_sentence,
        "practitioners": practitioners,
        "practitioner_id": practitioner_id,
        "action": day_query(calendar.day, practitioner_id) if calendar.day else "",
        "has_free_days": bool(calendar.free_days),
    }


def offered_slot(month: MonthCalendar, key: str) -> Slot | None:
    """The free slot a time button posted, if it starts at a time the calendar offers that day."""
    offered = {choice.slot.start for choice in month.times}
    return {slot_key(slot): slot for slot in month.day_slots if slot.start in offered}.get(key)


def rebook_month(query_dict, series, number: int, *, posted_key: str = ""):
    """The calendar of the manage link's "book again" page, as asked for (or the posted time's day)."""
    practitioners = performing(series.treatment)
    query = calendar_query(query_dict, {pk for pk, _ in practitioners})
    if posted_key and (day := posted_day(posted_key)):
        query.month, query.day = None, day

    def build(month, day):
        return calendar.rebook_calendar(
            series=series, number=number, month=month, day=day, practitioner_id=query.practitioner_id
        )

    shown = calendar.month_with_free_times(build, month=query.month, day=query.day)
    return shown, calendar_context(shown, query=query, practitioners=practitioners, prefix="Book ",
                                   today=timezone.localdate())


def move_month(
    query_dict, appointment: Appointment, *, for_staff: bool, posted_key: str = "", earliest=None
) -> tuple[MonthCalendar, CalendarQuery, list[tuple[int, str]]]:
    """The move calendar asked for by the query string (or the day of a posted time); `earliest`: the
    first day the patient's new answers allow (nothing before it is offered)."""
    practitioners = performing(appointment.series.treatment)
    query = calendar_query(query_dict, {pk for pk, _ in practitioners})
    if posted_key and (day := posted_day(posted_key)):
        query.month, query.day = None, day

    def build(month, day):
        return calendar.move_calendar(
            appointment=appointment, month=month, day=day, practitioner_id=query.practitioner_id,
            for_staff=for_staff, earliest=earliest,
        )

    return calendar.month_with_free_times(build, month=query.month, day=query.day), query, practitioners


def move_calendar_context(month, query, practitioners, *, later: str) -> dict:
    """The calendar of a move page (manage link or staff): times inside the session's window."""
    return calendar_context(
        month,
        query=query,
        practitioners=practitioners,
        prefix="Move to ",
        fits_sentence=(
            f"A time that moves {later} too keeps the gap between sessions; "
            "you see their new times before anything changes."
        ) if any(choice.pushes for choice in month.times) else "",
        left_out_reason=f"From these times {later} could not be placed again.",
        today=timezone.localdate(),
    )
