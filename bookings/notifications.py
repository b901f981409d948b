"""
E-mails to patients about their series: booked, moved, cancelled.

Services register these with `after_commit`, so nothing is sent for a change that rolls back.
Each function takes ids and re-reads the rows (ready to become a Celery task behind an outbox).
Sending is synchronous for now; a mail server failure is logged and never reaches the patient
as an error page, because the booking itself has already been saved.
"""

import logging
import smtplib
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bookings import ics
from bookings.models import Appointment, ClinicRules, Series
from bookings.questionnaire import QUESTIONS_BY_KEY
from bookings.tokens import manage_url

logger = logging.getLogger(__name__)


def after_commit(send, *args) -> None:
    """Send once the current transaction commits (immediately outside one)."""
    transaction.on_commit(partial(send, *args))


def _series(series_id: int) -> Series:
    return Series.objects.select_related("patient", "treatment").get(pk=series_id)


def _appointments(ids: list[int]) -> list[Appointment]:
    appointments = Appointment.objects.filter(pk__in=ids).select_related("practitioner")
    return list(appointments.order_by("session_number"))


def _send(*, series: Series, template: str, subject: str, context: dict, calendar: bool) -> None:
    context = {
        "series": series,
        "patient": series.patient,
        "treatment": series.treatment,
        "sessions": series.appointments.active().select_related("practitioner").order_by("session_number"),
        "manage_url": manage_url(series),
        "cutoff_hours": ClinicRules.load().cancellation_cutoff_hours,
        "clinic": {
            "name": settings.CLINIC_NAME,
            "phone": settings.CLINIC_PHONE,
            "email": settings.CLINIC_EMAIL,
            "address": settings.CLINIC_ADDRESS,
        },
        **context,
    }
    # Patients read times on the clinic's wall clock, whatever zone the server runs in.
    with timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=f"{subject} — {settings.CLINIC_NAME}",
        body=text,
        to=[series.patient.email],
        reply_to=[settings.CLINIC_EMAIL],
    )
    message.attach_alternative(html, "text/html")
    if calendar:
        message.attach(ics.calendar_filename(series), ics.series_calendar(series), "text/calendar")
    try:
        message.send()
    except (smtplib.SMTPException, OSError, ValueError):
        # ValueError: a header the mail library refuses. The change is saved either way; staff
        # see the failure in the logs (the Celery outbox will retry these).
        logger.exception("Could not send the %s e-mail for series %s", template, series.public_id)


def series_booked(series_id: int) -> None:
    series = _series(series_id)
    questionnaire = series.questionnaires.first()
    keys = questionnaire.flagged if questionnaire else []
    _send(
        series=series,
        template="series_booked",
        subject=f"Your {series.treatment.name} series is booked",
        context={"flagged": [QUESTIONS_BY_KEY[key] for key in keys if key in QUESTIONS_BY_KEY]},
        calendar=True,
    )


def _changed(appointment_ids: list[int], *, template: str, subjects: tuple[str, str], calendar: bool) -> None:
    changed = _appointments(appointment_ids)
    if not changed:
        return
    one, many = subjects
    _send(
        series=_series(changed[0].series_id),
        template=template,
        subject=one if len(changed) == 1 else many,
        context={"changed": changed},
        calendar=calendar,
    )


def appointments_rescheduled(appointment_ids: list[int]) -> None:
    _changed(
        appointment_ids,
        template="appointments_rescheduled",
        subjects=("Your appointment has moved", "Your appointments have moved"),
        calendar=True,  # the updated file replaces the old events (same UIDs)
    )


def appointments_cancelled(appointment_ids: list[int]) -> None:
    _changed(
        appointment_ids,
        template="appointments_cancelled",
        subjects=("Your appointment is cancelled", "Your appointments are cancelled"),
        calendar=False,
    )
