"""Patient e-mails: planned as outbox rows, sent after commit, text + HTML, local times, the manage link."""

import smtplib
from datetime import timedelta

from django.core.mail.backends.base import BaseEmailBackend
from icalendar import Calendar

from bookings import emails, outbox, services
from bookings.ics import appointment_uid
from bookings.models import OutboxMessage
from bookings.tokens import manage_url as absolute_manage_url
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import (  # noqa: F401
    book,
    frozen,
    manage_url,
    practitioner,
    series,
    treatment,
)

Kind = OutboxMessage.Kind


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def send(series, kind) -> None:
    """Send the series' pending rows of `kind` now, as a worker would (claim, then send the claim)."""
    ids = list(series.outbox_messages.filter(kind=kind, status="pending").values_list("pk", flat=True))
    claim = outbox.messages_claim(ids=ids)
    assert claim is not None, f"no pending {kind} e-mail"
    outbox.messages_send(claim=claim)


def calendar_of(message):
    (part,) = message.attachments
    assert part.get_content_type() == "text/calendar" and part.get_filename().endswith(".ics")
    return Calendar.from_ical(part.get_payload(decode=True))


def parts(message) -> tuple[str, str]:
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    return message.body, html


def test_booking_e_mail_is_sent_only_after_commit(
    treatment, practitioner, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        book(treatment, local(2027, 3, 9, 10), practitioner)

    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1
    assert OutboxMessage.objects.get(kind=Kind.SERIES_BOOKED).status == "sent"


def test_booking_e_mail_is_multipart_with_local_times_link_and_phone(series, mailoutbox):
    send(series, Kind.SERIES_BOOKED)

    message = mailoutbox[0]
    assert message.to == ["jo@example.com"]
    for part in parts(message):
        assert "Tuesday 6 April 2027, 10:00" in part  # 09:00 UTC: shown on the clinic's clock
        assert absolute_manage_url(series) in part
        assert "+44 20 7946 0321" in part
    assert "<table" not in message.body and "&amp;" not in message.body


def test_booking_calendar_has_one_event_per_session_with_the_right_times(series, mailoutbox):
    send(series, Kind.SERIES_BOOKED)

    events = calendar_of(mailoutbox[0]).walk("VEVENT")
    appointments = list(series.appointments.order_by("session_number"))
    assert len(events) == 3
    assert [event.decoded("dtstart") for event in events] == [a.start for a in appointments]
    assert [event.decoded("dtend") for event in events] == [a.end for a in appointments]
    assert [str(event["uid"]) for event in events] == [appointment_uid(a) for a in appointments]
    assert str(events[0]["location"]) == "12 Example Street, London"
    assert "session 1 of 3" in str(events[0]["summary"])
    # UTC instants, no VTIMEZONE: the one form every client reads the same (bookings/ics.py).
    assert events[1]["dtstart"].to_ical() == b"20270406T090000Z"
    assert calendar_of(mailoutbox[0]).walk("VTIMEZONE") == []


def test_event_uid_survives_a_move(series, client, manage_url, practitioner, mailoutbox):
    from tests.bookings.test_manage import confirm

    before = calendar_of_series(client, manage_url)
    confirm(client, manage_url, 2, local(2027, 4, 6, 14), practitioner)
    after = calendar_of_series(client, manage_url)

    assert [e["uid"] for e in before] == [e["uid"] for e in after]
    assert after[1].decoded("dtstart") == local(2027, 4, 6, 14)


def calendar_of_series(client, manage_url):
    return Calendar.from_ical(client.get(f"{manage_url}calendar.ics").content).walk("VEVENT")


def test_review_flag_is_explained_in_the_e_mail(series, mailoutbox):
    questionnaire = series.questionnaires.get()
    questionnaire.flagged = ["pregnant", "retired-question"]
    questionnaire.save()

    send(series, Kind.SERIES_BOOKED)

    assert "Are you pregnant or breastfeeding?" in mailoutbox[0].body
    assert "practitioner will review" in mailoutbox[0].body


def test_change_e_mails_list_what_changed(series, practitioner, mailoutbox):
    from tests.bookings.factories import slot

    second = series.appointments.get(session_number=2)
    services.appointments_reschedule(moves=[(second, slot(local(2027, 4, 6, 14), practitioner))])
    services.appointment_cancel(appointment=second)
    send(series, Kind.RESCHEDULED)
    send(series, Kind.CANCELLED)

    moved, cancelled = mailoutbox
    assert "Session 2: now Tuesday 6 April 2027, 14:00" in moved.body and moved.attachments
    assert moved.subject.startswith("Your appointment has moved")
    assert "cancelled" in cancelled.subject and "Session 2: Tuesday 6 April 2027, 14:00" in cancelled.body


def test_reminder_asks_to_reconfirm_the_safety_answers_with_one_link(series, mailoutbox):
    send(series, Kind.REMINDER)

    message = mailoutbox[0]
    assert message.subject.startswith("Reminder: your Microneedling session 1")
    for part in parts(message):
        assert "Tuesday 9 March 2027, 10:00" in part
        assert "Are you pregnant or breastfeeding?" in part
        assert f"{absolute_manage_url(series)}sessions/1/answers/" in part
        assert "+44 20 7946 0321" in part


def test_the_reminder_comes_while_its_move_or_cancel_link_works_and_says_until_when(series, mailoutbox):
    first = series.appointments.get(session_number=1)  # Tuesday 9 March 2027, 10:00; 48-hour cutoff
    row = series.outbox_messages.get(kind=Kind.REMINDER, session_number=1)

    send(series, Kind.REMINDER)

    assert first.start - row.due_at >= timedelta(hours=48 + 12)
    text, html = parts(mailoutbox[0])
    assert "move or cancel this session online until Sunday 7 March, 10:00" in text
    assert "move or cancel this session online until <strong>Sunday 7 March, 10:00</strong>" in html


def test_the_morning_reminder_says_to_call_to_change_today(series, mailoutbox):
    send(series, Kind.REMINDER_MORNING)

    for part in parts(mailoutbox[0]):
        assert "To change today's session, please call us" in part
        assert "online until" not in part


def test_aftercare_gives_the_aftercare_facts_and_the_next_session(series, mailoutbox):
    send(series, Kind.AFTERCARE)

    text, html = parts(mailoutbox[0])
    for part in (text, html):
        assert "No make-up for 24 hours" in part
        assert "sunscreen" in part and "sauna" in part
        assert "Tuesday 6 April 2027, 10:00" in part  # the next session
    assert "signs of infection" in text


def test_front_desk_alert_goes_to_the_front_desk_with_the_patients_details(series, settings, mailoutbox):
    settings.FRONT_DESK_EMAIL = "desk@clinic.example"
    services.appointment_cancel(appointment=series.appointments.get(session_number=2))
    send(series, Kind.FRONT_DESK_ALERT)

    message = mailoutbox[-1]
    assert message.to == ["desk@clinic.example"]
    assert "Jo Bloggs has no session 2 booked" in message.body
    assert "Tuesday 20 April 2027" in message.body  # 42 days after 9 March: the window closes
    assert "07700 900123" in message.body
    assert absolute_manage_url(series) not in message.body  # the patient's private link stays theirs


def test_nudge_tells_the_patient_the_window_for_the_missing_session(series, mailoutbox):
    services.appointment_cancel(appointment=series.appointments.get(session_number=2))
    send(series, Kind.NUDGE)

    text, html = parts(mailoutbox[-1])
    for part in (text, html):
        assert "Session 2 of your Microneedling series is not booked yet" in part
        assert "Tuesday 6 April" in part and "Tuesday 20 April 2027" in part


def test_every_row_has_its_own_fixed_message_id(series, mailoutbox):
    send(series, Kind.SERIES_BOOKED)
    send(series, Kind.REMINDER)

    ids = [message.extra_headers["Message-ID"] for message in mailoutbox]
    rows = series.outbox_messages.filter(status="sent")
    assert len(set(ids)) == len(mailoutbox) == rows.count() == 4  # the confirmation, three reminders
    assert set(ids) == {emails.message_id(row) for row in rows}


def test_a_mail_failure_is_recorded_on_the_row_not_raised_at_the_patient(
    client, settings, treatment, practitioner, django_capture_on_commit_callbacks
):
    from tests.bookings.patient_fixtures import details
    from tests.bookings.test_flow import DETAILS, reach_details

    settings.EMAIL_BACKEND = "tests.bookings.test_emails.BrokenBackend"
    reach_details(client, practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DETAILS, details())

    assert response.status_code == 302
    assert treatment.series.count() == 1
    confirmation = OutboxMessage.objects.get(kind=Kind.SERIES_BOOKED)
    assert (confirmation.status, confirmation.attempts) == ("sending", 1)  # waiting for its retry
    assert "mail server went away" in confirmation.last_error
