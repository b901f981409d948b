"""
Calendar files (RFC 5545) for a series: one VEVENT per session, read the same by every client.

Times are written in UTC ("…Z") with no VTIMEZONE. Every client reads a UTC instant the same way
and shows it on its own clock, which for a patient in London is the clinic's wall clock on both
sides of a daylight-saving change. Time zone definitions are where clients differ: ical.js (behind
Thunderbird) reads only the first onset of a comma-separated RDATE list, and so put every winter
session an hour early. tests/bookings/test_calendar_files.py reads every file with ical.js and
icalendar and checks both against zoneinfo.

Each event's UID comes from the series' public id and the session number, so it stays the same
when the session is moved, cancelled or booked again; SEQUENCE is the appointment's revision
counter (Appointment.sequence: 0, then one more per change), so a calendar only ever replaces its
copy with a newer one. The clinic is the ORGANIZER (its e-mail, its name as CN).

Two kinds of file, the METHOD also named in the Content-Type (`method=`):
- PUBLISH, the whole series (the booking and change e-mails' attachment, the manage link's
  download): each session once, as its booked appointment or, when it has none, as its last
  cancelled one with STATUS:CANCELLED, so importing the file again also cancels what was cancelled.
  A missed session (no-show) is left out: its event, in the past, stays as it was.
- CANCEL, one file per cancelled session (one UID per iTIP message): the cancellation e-mail's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from bookings.models import Appointment, Series

PRODID = "-//Clinic bookings//EN"
PUBLISH = "PUBLISH"
CANCEL = "CANCEL"
STATUS = {Appointment.Status.CANCELLED: "CANCELLED"}  # every other status shown is CONFIRMED


def appointment_uid(appointment: Appointment) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
    return f"{appointment.series.public_id}-session-{appointment.session_number}@{domain}"


def content_type(method: str) -> str:
    """The Content-Type of a file with this METHOD, for downloads and e-mail attachments alike."""
    return f"text/calendar; charset=utf-8; method={method}"


def _organizer() -> vCalAddress:
    organizer = vCalAddress(f"mailto:{settings.CLINIC_EMAIL}")
    organizer.params["cn"] = vText(settings.CLINIC_NAME)
    return organizer


def _event(appointment: Appointment, total: int, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", stamp)
    event.add("sequence", appointment.sequence)
    event.add("status", STATUS.get(appointment.status, "CONFIRMED"))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("organizer", _organizer())
    treatment = appointment.series.treatment.name
    event.add("summary", f"{treatment} — session {appointment.session_number} of {total}")
    event.add("location", settings.CLINIC_ADDRESS)
    if appointment.status == Appointment.Status.CANCELLED:
        description = f"Cancelled. To book it again, use the link in your e-mail or call {settings.CLINIC_PHONE}."
    else:
        description = (
            f"With {appointment.practitioner.name} at {settings.CLINIC_NAME}. "
            f"To move or cancel, use the link in your e-mail or call {settings.CLINIC_PHONE}."
        )
    event.add("description", description)
    return event


def _calendar(method: str, series: Series, appointments: Iterable[Appointment]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME} appointments")
    stamp = timezone.now().astimezone(UTC)
    for appointment in appointments:
        calendar.add_component(_event(appointment, series.treatment.sessions_in_series, stamp))
    return calendar.to_ical()


def shown_sessions(appointments: Iterable[Appointment]) -> list[Appointment]:
    """Per session: its live appointment, else its last cancelled one (no-shows left out)."""
    shown: dict[int, Appointment] = {}
    for appointment in sorted(appointments, key=lambda a: (a.session_number, a.is_active, a.sequence)):
        if appointment.is_active or appointment.status == Appointment.Status.CANCELLED:
            shown[appointment.session_number] = appointment  # the later in this order wins
    return [shown[number] for number in sorted(shown)]


def series_calendar(series: Series, appointments: Iterable[Appointment] | None = None) -> bytes:
    """The PUBLISH file of the series, from `appointments` (every one of the series) or the database."""
    if appointments is None:
        appointments = series.appointments.select_related("practitioner")
    return _calendar(PUBLISH, series, shown_sessions(appointments))


def cancel_calendar(appointment: Appointment) -> bytes:
    """The CANCEL file of one cancelled session (same UID as before, its revision one higher)."""
    return _calendar(CANCEL, appointment.series, [appointment])


def attachment(content: bytes, filename: str, method: str) -> MIMEBase:
    """An e-mail attachment whose Content-Type names its method, as clients expect (RFC 6047)."""
    part = MIMEText(content.decode("utf-8"), "calendar", "utf-8")
    part.replace_header("Content-Type", content_type(method))
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def calendar_filename(series: Series) -> str:
    return f"{series.treatment.slug}-appointments.ics"


def cancel_filename(appointment: Appointment) -> str:
    return f"{appointment.series.treatment.slug}-session-{appointment.session_number}-cancelled.ics"
