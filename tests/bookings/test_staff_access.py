"""Who may open and do what in the staff workspace: login, roles, CSRF, and the login rate limit."""

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from bookings.models import Appointment, AuditEvent
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local
from tests.bookings.staff_fixtures import PASSWORD, staff_user

LOGIN = reverse("staff:login")


def first_of(series) -> Appointment:
    return series.appointments.get(session_number=1)


def staff_pages(series) -> list[str]:
    appointment, patient = first_of(series), series.patient
    return [
        reverse("staff:day"),
        reverse("staff:week"),
        reverse("staff:appointment", args=[appointment.pk]),
        reverse("staff:move", args=[appointment.pk]),
        reverse("staff:patients"),
        reverse("staff:patient_new"),
        reverse("staff:patient", args=[patient.pk]),
        reverse("staff:book", args=[patient.pk]),
        reverse("staff:book_plan", args=[patient.pk, series.treatment.slug]),
    ]


def test_groups_exist_with_their_roles(db):
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert {"change_appointment", "add_series", "view_all_diaries"} <= codenames("Front desk")
    assert not {"change_workinghours", "change_timeoff", "change_clinicrules", "clear_review"} & codenames(
        "Front desk"
    )
    assert {"mark_appointment", "clear_review"} <= codenames("Practitioner")
    assert not {"change_appointment", "view_all_diaries", "add_series"} & codenames("Practitioner")
    assert {"change_workinghours", "change_timeoff", "change_clinicrules", "view_all_diaries"} <= codenames(
        "Manager"
    )
    assert not {"add_auditevent", "change_auditevent", "delete_auditevent"} & codenames("Manager")


def test_anonymous_people_are_sent_to_the_staff_login(client, series):
    for url in staff_pages(series):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(f"{LOGIN}?next="), url


def test_anonymous_posts_change_nothing(client, series):
    appointment = first_of(series)

    response = client.post(reverse("staff:action", args=[appointment.pk, "check-in"]))

    assert response.status_code == 302 and response.url.startswith(LOGIN)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_a_user_without_a_role_is_refused(client, series):
    client.force_login(staff_user("nobody", None))

    assert client.get(reverse("staff:day")).status_code == 403
    assert client.post(reverse("staff:action", args=[first_of(series).pk, "check-in"])).status_code == 403


@pytest.mark.parametrize(
    ("url_name", "extra"),
    [("action", ["check-in"]), ("action", ["clear-review"]), ("cancel", []), ("move", [])],
)
def test_every_post_needs_the_csrf_token(front_desk, manager, series, url_name, extra):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    appointment = first_of(series)

    response = client.post(reverse(f"staff:{url_name}", args=[appointment.pk, *extra]), {"reason": "x"})

    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_booking_and_registering_need_the_csrf_token(manager, series):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    assert client.post(reverse("staff:patient_new"), {"name": "A B"}).status_code == 403
    assert (
        client.post(reverse("staff:book_plan", args=[series.patient.pk, series.treatment.slug])).status_code
        == 403
    )


def test_practitioner_cannot_open_another_practitioners_patient_or_appointment(
    client, ana, series, colleague_series
):
    client.force_login(ana)

    assert client.get(reverse("staff:patient", args=[series.patient.pk])).status_code == 200
    assert client.get(reverse("staff:patient", args=[colleague_series.patient.pk])).status_code == 404
    assert client.get(reverse("staff:appointment", args=[first_of(colleague_series).pk])).status_code == 404


def test_practitioner_search_finds_only_their_own_patients(client, ana, series, colleague_series):
    client.force_login(ana)

    page = client.get(reverse("staff:patients"), {"q": "example.com"}).content.decode()

    assert "Jo Bloggs" in page and "Sam Other" not in page


def test_practitioner_checks_in_their_own_patient_but_not_another(client, ana, series, colleague_series):
    client.force_login(ana)

    with time_machine.travel(local(2027, 3, 9, 9, 30), tick=False):  # check-in opens 2 hours before
        client.post(reverse("staff:action", args=[first_of(series).pk, "check-in"]))
        theirs = client.post(reverse("staff:action", args=[first_of(colleague_series).pk, "check-in"]))

    assert first_of(series).status == Appointment.Status.CHECKED_IN
    assert theirs.status_code == 404
    assert first_of(colleague_series).status == Appointment.Status.BOOKED


@pytest.mark.parametrize("url_name", ["cancel", "move"])
def test_practitioner_cannot_cancel_or_reschedule(client, ana, series, url_name):
    client.force_login(ana)

    response = client.post(
        reverse(f"staff:{url_name}", args=[first_of(series).pk]), {"reason": "x", "slot": "x"}
    )

    assert response.status_code == 403
    assert first_of(series).status == Appointment.Status.BOOKED


def test_practitioner_cannot_mark_a_no_show_or_book(client, ana, series):
    client.force_login(ana)

    assert client.post(reverse("staff:action", args=[first_of(series).pk, "no-show"])).status_code == 403
    assert client.get(reverse("staff:book", args=[series.patient.pk])).status_code == 403
    assert client.get(reverse("staff:patient_new")).status_code == 403


def test_front_desk_cannot_clear_a_review_flag(client, front_desk, series):
    client.force_login(front_desk)

    response = client.post(reverse("staff:action", args=[first_of(series).pk, "clear-review"]))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="review_cleared").exists()


def test_front_desk_cannot_edit_hours_or_reach_the_admin(client, front_desk, practitioner):
    client.force_login(front_desk)

    response = client.get(reverse("admin:bookings_practitioner_change", args=[practitioner.pk]))

    assert response.status_code == 302  # not staff: the admin sends them to its login


def test_manager_edits_hours_in_the_admin(client, manager, practitioner):
    client.force_login(manager)

    response = client.get(reverse("admin:bookings_practitioner_change", args=[practitioner.pk]))

    assert response.status_code == 200
    assert "Working hours" in response.content.decode() and "Time off" in response.content.decode()


def test_audit_trail_is_read_only_in_the_admin(client, manager, series):
    client.force_login(manager)
    event = AuditEvent.objects.first()

    assert client.get(reverse("admin:bookings_auditevent_changelist")).status_code == 200
    page = client.get(reverse("admin:bookings_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        client.post(reverse("admin:bookings_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- Signing in -------------------------------------------------------------------------------------


def test_staff_sign_in_goes_to_today(client, front_desk):
    page = client.get(LOGIN)
    assert page.status_code == 200 and "Staff sign in" in page.content.decode()

    response = client.post(LOGIN, {"username": "fran", "password": PASSWORD})

    assert response.status_code == 302 and response.url == reverse("staff:day")


def test_a_wrong_password_gets_a_sentence(client, front_desk):
    response = client.post(LOGIN, {"username": "fran", "password": "guess"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_guessing_one_username_is_stopped_even_from_fresh_sessions(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "3/15m"
    for _ in range(3):
        assert Client().post(LOGIN, {"username": "Fran", "password": "guess"}).status_code == 200

    client = Client()
    response = client.post(LOGIN, {"username": "fran", "password": PASSWORD})  # even the right password

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_guessing_from_one_address_is_stopped_across_usernames(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_IP = "4/15m"
    for n in range(4):
        Client().post(LOGIN, {"username": f"user{n}", "password": "guess"}, REMOTE_ADDR="203.0.113.9")

    blocked = Client().post(LOGIN, {"username": "fran", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    elsewhere = Client().post(LOGIN, {"username": "fran", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")

    assert blocked.status_code == 429
    assert elsewhere.status_code == 302


def test_sign_out_needs_a_post(client, front_desk):
    client.force_login(front_desk)

    assert client.get(reverse("staff:logout")).status_code == 405
    response = client.post(reverse("staff:logout"))

    assert response.url == LOGIN
    assert client.get(reverse("staff:day")).status_code == 302


def test_the_admin_sign_in_shares_the_limit(settings, manager):
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "2/15m"
    for _ in range(2):
        Client().post(LOGIN, {"username": "max", "password": "guess"})

    response = Client().post(reverse("admin:login"), {"username": "max", "password": PASSWORD})

    assert response.status_code == 200  # the admin's own page, with the sentence instead of a session
    assert "Too many sign-in attempts" in response.content.decode()
    assert "sessionid" not in response.cookies


def test_demo_logins_get_their_roles(db, settings, client):
    settings.DEBUG = True
    call_command("load_demo")

    assert client.login(username="frontdesk", password="frontdesk")
    assert client.get(reverse("staff:day")).status_code == 200
    amara = User.objects.get(username="amara")
    assert amara.has_perm("bookings.mark_appointment") and not amara.has_perm("bookings.view_all_diaries")


def test_behind_a_proxy_the_limit_counts_each_client_not_the_proxy(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_IP = "2/15m"
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    for n in range(2):
        Client().post(
            LOGIN, {"username": f"user{n}", "password": "guess"}, HTTP_X_FORWARDED_FOR="spoof, 203.0.113.9"
        )

    blocked = Client().post(
        LOGIN, {"username": "fran", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    colleague = Client().post(
        LOGIN, {"username": "fran", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert blocked.status_code == 429
    assert colleague.status_code == 302  # same proxy (REMOTE_ADDR), another client


def test_refusals_are_pages_for_people(client, front_desk, series):
    client.force_login(front_desk)

    forbidden = client.post(reverse("staff:action", args=[first_of(series).pk, "clear-review"]))
    expired = Client(enforce_csrf_checks=True)
    expired.force_login(front_desk)
    no_token = expired.post(reverse("staff:action", args=[first_of(series).pk, "check-in"]))

    assert "ask a clinic manager to change your role" in forbidden.content.decode()
    assert no_token.status_code == 403 and "That form has expired" in no_token.content.decode()


def test_the_login_page_sends_a_signed_in_user_to_the_diary(client, front_desk):
    client.force_login(front_desk)

    assert client.get(LOGIN).url == reverse("staff:day")
