"""
Calendar files (RFC 5545) for a series: one VEVENT per booked session.

Times are written in the clinic's zone with its VTIMEZONE, so a calendar shows 10:00 as 10:00
on both sides of a daylight-saving change. Each event's UID is derived from the series' public
id and the session number, so it stays the same when the session is moved: importing the file
again updates the event instead of adding a second one.
"""

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from bookings.models import Appointment, Series

PRODID = "-//Clinic bookings//EN"


def appointment_uid(appointment: Appointment) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
    return f"{appointment.series.public_id}-session-{appointment.session_number}@{domain}"


def _event(appointment: Appointment, total: int, stamp: datetime) -> Event:
    zone = ZoneInfo(settings.TIME_ZONE)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", stamp)
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    treatment = appointment.series.treatment.name
    event.add("summary", f"{treatment} — session {appointment.session_number} of {total}")
    event.add("location", settings.CLINIC_ADDRESS)
    event.add(
        "description",
        f"With {appointment.practitioner.name} at {settings.CLINIC_NAME}. "
        f"To move or cancel, use the link in your e-mail or call {settings.CLINIC_PHONE}.",
    )
    # Bumped on every change, so calendar apps take the newer copy of a moved session.
    event.add("sequence", int(appointment.updated_at.timestamp()) if appointment.updated_at else 0)
    return event


def series_calendar(series: Series) -> bytes:
    """The .ics file for every active session of a series."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME} appointments")
    appointments = series.appointments.active().select_related("practitioner").order_by("session_number")
    stamp = timezone.now()
    for appointment in appointments:
        calendar.add_component(_event(appointment, series.treatment.sessions_in_series, stamp))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def calendar_filename(series: Series) -> str:
    return f"{series.treatment.slug}-appointments.ics"
