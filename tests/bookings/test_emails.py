"""Patient e-mails: sent after commit, text + HTML, local times, the manage link, the .ics."""

import logging
import smtplib

from django.core.mail.backends.base import BaseEmailBackend
from icalendar import Calendar

from bookings import notifications
from bookings.ics import appointment_uid
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


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def calendar_of(message):
    (name, content, mimetype), = message.attachments
    assert mimetype == "text/calendar" and name.endswith(".ics")
    return Calendar.from_ical(content)


def test_booking_e_mail_is_sent_only_after_commit(treatment, practitioner, django_capture_on_commit_callbacks,
                                                  mailoutbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        book(treatment, local(2027, 3, 9, 10), practitioner)

    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_booking_e_mail_is_multipart_with_local_times_link_and_phone(series, mailoutbox):
    notifications.series_booked(series.pk)

    message = mailoutbox[0]
    html, mimetype = message.alternatives[0]
    assert message.to == ["jo@example.com"]
    assert mimetype == "text/html"
    for part in (message.body, html):
        assert "Tuesday 6 April 2027, 10:00" in part  # 09:00 UTC: shown on the clinic's clock
        assert absolute_manage_url(series) in part
        assert "+44 20 7946 0321" in part
    assert "<table" not in message.body and "&amp;" not in message.body


def test_booking_calendar_has_one_event_per_session_with_the_right_times(series, mailoutbox):
    notifications.series_booked(series.pk)

    events = calendar_of(mailoutbox[0]).walk("VEVENT")
    appointments = list(series.appointments.order_by("session_number"))
    assert len(events) == 3
    assert [event.decoded("dtstart") for event in events] == [a.start for a in appointments]
    assert [event.decoded("dtend") for event in events] == [a.end for a in appointments]
    assert [str(event["uid"]) for event in events] == [appointment_uid(a) for a in appointments]
    assert str(events[0]["location"]) == "12 Example Street, London"
    assert "session 1 of 3" in str(events[0]["summary"])
    assert events[1]["dtstart"].params["TZID"] == "Europe/London"
    assert [str(zone["tzid"]) for zone in calendar_of(mailoutbox[0]).walk("VTIMEZONE")] == ["Europe/London"]


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

    notifications.series_booked(series.pk)

    assert "Are you pregnant or breastfeeding?" in mailoutbox[0].body
    assert "practitioner will review" in mailoutbox[0].body


def test_change_e_mails_list_what_changed(series, mailoutbox):
    second = series.appointments.get(session_number=2)

    notifications.appointments_rescheduled([second.pk])
    notifications.appointments_cancelled([second.pk])

    moved, cancelled = mailoutbox
    assert "Session 2: now Tuesday 6 April 2027, 10:00" in moved.body and moved.attachments
    assert "cancelled" in cancelled.subject and "Session 2: Tuesday 6 April 2027, 10:00" in cancelled.body


def test_a_mail_failure_is_logged_not_raised(series, settings, caplog):
    settings.EMAIL_BACKEND = "tests.bookings.test_emails.BrokenBackend"

    with caplog.at_level(logging.ERROR, logger="bookings.notifications"):
        notifications.series_booked(series.pk)

    assert "Could not send the series_booked e-mail" in caplog.text


def test_a_mail_failure_never_breaks_the_booking_page(client, settings, treatment, practitioner,
                                                      django_capture_on_commit_callbacks):
    from tests.bookings.test_flow import DETAILS, reach_details
    from tests.bookings.patient_fixtures import details

    settings.EMAIL_BACKEND = "tests.bookings.test_emails.BrokenBackend"
    reach_details(client, practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DETAILS, details())

    assert response.status_code == 302
    assert treatment.series.count() == 1
