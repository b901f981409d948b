"""The front desk's morning worklist: windows closing, reviews, failed e-mails (sent again), answers."""

import time_machine
from django.urls import reverse

from bookings import services
from bookings.models import OutboxMessage
from tests.bookings.factories import local
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for
from tests.bookings.test_emails import send

Kind = OutboxMessage.Kind
URL = "/staff/worklist/"


def failed_message(series, error="550 mailbox unavailable") -> OutboxMessage:
    message = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", attempts=5, last_error=error)
    return message


def test_the_front_desk_alert_links_to_the_worklist_not_the_admin(series, settings, mailoutbox):
    settings.FRONT_DESK_EMAIL = "desk@clinic.example"
    services.appointment_cancel(appointment=series.appointments.get(session_number=2))
    send(series, Kind.FRONT_DESK_ALERT)

    text, (html, _) = mailoutbox[-1].body, mailoutbox[-1].alternatives[0]
    link = settings.SITE_URL + URL
    assert link in text and f'href="{link}"' in html
    assert "/admin/" not in text and "/admin/" not in html


def test_roles_reach_the_worklist(client, front_desk, manager, ana, series):
    assert client.get(URL).url.startswith(reverse("staff:login"))  # anonymous: sign in first
    for user, status in ((front_desk, 200), (manager, 200), (ana, 403)):
        client.force_login(user)
        assert client.get(URL).status_code == status


def test_a_closing_window_is_listed_with_a_book_button(client, front_desk, series):
    services.appointment_cancel(appointment=series.appointments.get(session_number=2), for_staff=True)
    # Session 1 on Tue 9 March, session 3 on Tue 4 May (28 to 42 days apart): session 2 fits only
    # Tue 6 April, beside both. Seen on Wed 31 March.
    with time_machine.travel(local(2027, 3, 31, 8), tick=False):
        client.force_login(front_desk)
        page = client.get(URL).content.decode()

    assert "Jo Bloggs" in page and "session 2 of 3" in page
    assert "Tue 6 Apr – Tue 6 Apr 2027" in page and "closes in 6 days" in page
    assert reverse("staff:rebook", args=[series.pk, 2]) in page


def test_a_window_far_from_closing_is_not_listed(client, front_desk, series):
    services.appointment_cancel(appointment=series.appointments.get(session_number=2), for_staff=True)
    client.force_login(front_desk)

    page = client.get(URL).content.decode()  # 1 March: the window closes on 20 April

    assert "session 2 of 3" not in page


def test_reviews_and_unconfirmed_answers_coming_up(client, front_desk, treatment, practitioner):
    flagged = book_for(
        treatment,
        local(2027, 3, 3, 10),
        practitioner,
        name="Rev Iew",
        email="r@example.com",
        flagged=("pregnant",),
        by=None,
    )
    client.force_login(front_desk)

    page = client.get(URL).content.decode()

    assert flagged.needs_review
    reviews = page.split('id="review-heading"')[1].split("</section>")[0]
    answers = page.split('id="answers-heading"')[1].split("</section>")[0]
    assert "Rev Iew" in reviews
    assert "Rev Iew" in answers  # Wed 3 March: within the 3 days answers are re-confirmed


def test_failed_e_mails_show_their_error_and_go_again_in_one_click(
    client, front_desk, series, django_capture_on_commit_callbacks
):
    message = failed_message(series, "550 5.1.1 mailbox unavailable")
    client.force_login(front_desk)
    page = client.get(URL).content.decode()
    assert "550 5.1.1 mailbox unavailable" in page
    assert reverse("staff:resend", args=[message.pk]) in page

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("staff:resend", args=[message.pk]), follow=True)

    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 0
    assert len(callbacks) == 1  # handed to a worker once the row is committed
    assert "is being sent again" in response.content.decode()


def test_sending_again_a_message_that_did_not_fail_says_so(client, front_desk, series):
    message = series.outbox_messages.get(kind=Kind.SERIES_BOOKED)
    client.force_login(front_desk)

    response = client.post(reverse("staff:resend", args=[message.pk]), follow=True)

    assert "has not failed" in response.content.decode()
    assert client.post(reverse("staff:resend", args=[999999])).status_code == 404


def test_send_again_needs_csrf_and_the_role(front_desk, ana, series):
    from django.test import Client

    message = failed_message(series)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(front_desk)
    assert strict.post(reverse("staff:resend", args=[message.pk])).status_code == 403
    strict.force_login(ana)
    strict.get(reverse("staff:day"))
    token = strict.cookies["csrftoken"].value
    assert strict.post(reverse("staff:resend", args=[message.pk]), HTTP_X_CSRFTOKEN=token).status_code == 403
    message.refresh_from_db()
    assert message.status == "failed"


def test_the_worklist_keeps_its_query_ceiling(
    client, front_desk, treatment, practitioner, django_assert_max_num_queries
):
    for day in (2, 3, 4, 5, 8, 9, 10, 11, 12, 15):  # weekdays
        one = book_for(
            treatment,
            local(2027, 3, day, 9),
            practitioner,
            name=f"P {day}",
            email=f"p{day}@example.com",
            flagged=("pregnant",) if day % 2 else (),
        )
        services.appointment_cancel(appointment=one.appointments.get(session_number=2), for_staff=True)
        failed_message(one)
    client.force_login(front_desk)

    with django_assert_max_num_queries(13):  # 10, the waitlist's entries and open offers, and the sessions new safety answers rule out (issue 13)
        response = client.get(URL)

    assert response.status_code == 200
    assert response.content.decode().count("Send again</button>") == 10
