"""
What each e-mail says: one OutboxMessage in, one multipart message (plain text + HTML) out.

Written from templates/emails/<kind>.txt|html on the shared base and footer: times on the
clinic's wall clock, the patient's manage link, the clinic's phone. Building reads the series as
it is now, so a message shows today's sessions even if it was planned weeks ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings import ics, reminders, selectors
from bookings.models import Appointment, ClinicRules, OutboxMessage, Series
from bookings.questionnaire import QUESTIONS_BY_KEY, questions_for
from bookings.tokens import manage_token, manage_url
from clinic.context_processors import clinic as clinic_context

Kind = OutboxMessage.Kind


@dataclass(frozen=True)
class Wording:
    template: str
    subject: str  # formatted with the context: {treatment}, {number}, {patient}
    calendar: bool = False
    to_front_desk: bool = False


WORDING = {
    Kind.SERIES_BOOKED: Wording("series_booked", "Your {treatment} series is booked", calendar=True),
    # Change confirmations pick singular or plural below; the updated .ics replaces the old events.
    Kind.RESCHEDULED: Wording("appointments_rescheduled", "", calendar=True),
    Kind.CANCELLED: Wording("appointments_cancelled", ""),
    Kind.REBOOKED: Wording("appointments_rebooked", "", calendar=True),
    Kind.REMINDER: Wording("reminder", "Reminder: your {treatment} session {number} is coming up"),
    Kind.REMINDER_MORNING: Wording("reminder", "Today: your {treatment} session {number}"),
    Kind.AFTERCARE: Wording("aftercare", "Caring for your skin after today's session"),
    Kind.AFTERCARE_FOLLOWUP: Wording("aftercare", "How is your skin? Aftercare for the next few days"),
    Kind.NEXT_SESSION: Wording("next_session", "Your next {treatment} session"),
    Kind.NUDGE: Wording("nudge", "Time to book session {number} of your {treatment} series"),
    Kind.FRONT_DESK_ALERT: Wording(
        "front_desk_alert", "Unbooked: session {number} for {patient}", to_front_desk=True
    ),
    Kind.WAITLIST_OFFER: Wording("waitlist_offer", "A sooner time for your {treatment} session {number}"),
}
CHANGE_SUBJECTS = {
    Kind.RESCHEDULED: ("Your appointment has moved", "Your appointments have moved"),
    Kind.CANCELLED: ("Your appointment is cancelled", "Your appointments are cancelled"),
    Kind.REBOOKED: ("Your session is booked", "Your sessions are booked"),
}


def message_id(message: OutboxMessage) -> str:
    """A Message-ID fixed per row: if a crash makes us send a row twice, mail software can tell."""
    domain = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
    return f"<outbox-{message.key.replace(':', '.')}@{domain}>"


def build(
    message: OutboxMessage, *, appointments: list[Appointment], rules: ClinicRules
) -> EmailMultiAlternatives:
    """The e-mail for `message`, given every appointment of its series (with practitioners)."""
    series: Series = message.series
    wording = WORDING[message.kind]
    zone = ZoneInfo(settings.TIME_ZONE)
    live = sorted((a for a in appointments if a.is_active), key=lambda a: a.session_number)
    by_pk = {appointment.pk: appointment for appointment in appointments}
    session = by_pk.get(message.appointment_id)
    token = manage_token(series)
    context = {
        "kind": message.kind,
        "series": series,
        "patient": series.patient,
        "treatment": series.treatment,
        "sessions": live,
        "session": session,
        "number": message.session_number,
        "manage_url": manage_url(series),
        "cutoff_hours": rules.cancellation_cutoff_hours,
        **clinic_context(None),  # the same name, phone and address as the pages
    }
    if message.kind == Kind.SERIES_BOOKED:
        questionnaire = series.questionnaires.first()
        keys = questionnaire.flagged if questionnaire else []
        context["flagged"] = [QUESTIONS_BY_KEY[key] for key in keys if key in QUESTIONS_BY_KEY]
        context["details_note"] = selectors.details_note(series)
    elif message.kind in CHANGE_SUBJECTS:
        context["changed"] = [by_pk[pk] for pk in message.appointment_ids if pk in by_pk]
    elif message.kind in (Kind.REMINDER, Kind.REMINDER_MORNING):
        context["today"] = message.kind == Kind.REMINDER_MORNING
        if session is not None:  # moving or cancelling online closes at the cutoff (the reminder comes before)
            context["change_deadline"] = session.start - timedelta(hours=rules.cancellation_cutoff_hours)
        context["questions"] = questions_for(series.treatment)
        context["answers_url"] = settings.SITE_URL + reverse(
            "bookings:manage_answers", kwargs={"token": token, "number": message.session_number}
        )
    elif message.kind in (Kind.AFTERCARE, Kind.AFTERCARE_FOLLOWUP):
        context["followup"] = message.kind == Kind.AFTERCARE_FOLLOWUP
        context["next_session"] = next((a for a in live if a.session_number > message.session_number), None)
    elif message.kind in (Kind.NUDGE, Kind.FRONT_DESK_ALERT):
        previous = next((a for a in live if a.session_number == message.session_number - 1), None)
        treatment = series.treatment
        if previous is not None:
            context["window"] = reminders.window(
                previous.start, treatment.min_days_between, treatment.max_days_between, zone
            )
        context["worklist_url"] = settings.SITE_URL + reverse("staff:worklist")
    elif message.kind == Kind.WAITLIST_OFFER:
        from bookings import waitlist_services  # it imports the services, which import this module

        offer = waitlist_services.offer_of(message)
        if offer is not None:
            names = {a.practitioner_id: a.practitioner.name for a in appointments}
            context["offer"] = offer
            context["claim_url"] = waitlist_services.claim_url(offer)
            context["offered"] = [
                {"number": number, "start": start, "end": end, "practitioner": names.get(practitioner_id, "")}
                for number, start, end, practitioner_id in waitlist_services.proposed_slots(offer)
            ]
            context["current"] = {a.session_number: a for a in live}

    if message.kind in CHANGE_SUBJECTS:
        one, many = CHANGE_SUBJECTS[message.kind]
        subject = one if len(context["changed"]) == 1 else many
    else:
        subject = wording.subject.format(
            treatment=series.treatment.name, number=message.session_number, patient=series.patient.name
        )
        if message.kind == OutboxMessage.Kind.SERIES_BOOKED and series.treatment.sessions_in_series == 1:
            subject = f"Your {series.treatment.name} is booked"  # one visit (a consultation): no "series"
    # Patients read times on the clinic's wall clock, whatever zone the worker runs in.
    with timezone.override(zone):
        text = render_to_string(f"emails/{wording.template}.txt", context)
        html = render_to_string(f"emails/{wording.template}.html", context)
    email = EmailMultiAlternatives(
        subject=f"{subject} — {settings.CLINIC_NAME}",
        body=text,
        to=[settings.FRONT_DESK_EMAIL if wording.to_front_desk else series.patient.email],
        reply_to=[settings.CLINIC_EMAIL],
        headers={"Message-ID": message_id(message)},
    )
    email.attach_alternative(html, "text/html")
    if wording.calendar:
        content = ics.series_calendar(series, appointments)
        email.attach(ics.attachment(content, ics.calendar_filename(series), ics.PUBLISH))
    if message.kind == Kind.CANCELLED:
        # One CANCEL file per cancelled session, so the patient's calendar removes each event.
        for appointment in context["changed"]:
            if appointment.status == Appointment.Status.CANCELLED:
                content = ics.cancel_calendar(appointment)
                email.attach(ics.attachment(content, ics.cancel_filename(appointment), ics.CANCEL))
    return email
