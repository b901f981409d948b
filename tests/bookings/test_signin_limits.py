"""Sign-in limits stop guessing without locking out the honest (issue 10, item 2).

Failures only are counted: per address, per username from one address, and per username from
anywhere (higher; it does not stop a sign-in from an address the account has used before).
"""

import pytest
from django.test import Client
from django.urls import reverse

from bookings.models import AuditEvent
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import PASSWORD

LOGIN = reverse("staff:login")
LOCKS = "/staff/sign-in-locks/"
CLINIC = "192.0.2.10"
STRANGER = "203.0.113.9"


@pytest.fixture(autouse=True)
def _clock_stands_still(frozen):
    """The counters use fixed windows: a test must not straddle a window's end."""


def sign_in(password: str, *, address: str = CLINIC, username: str = "fran", url: str = LOGIN):
    return Client().post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_correct_sign_ins_never_count_towards_the_limit(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_IP = "3/15m"
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "3/15m"

    responses = [sign_in(PASSWORD) for _ in range(8)]

    assert [response.status_code for response in responses] == [302] * 8


def test_a_strangers_guesses_do_not_lock_the_owner_out(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "3/15m"
    for _ in range(6):
        sign_in("guess", address=STRANGER)

    assert sign_in(PASSWORD, address=STRANGER).status_code == 429  # the guesser is stopped
    assert sign_in(PASSWORD, address=CLINIC).status_code == 302  # the owner is not


def test_guessing_from_many_addresses_locks_the_account_except_where_it_signs_in_from(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_USERNAME_ANYWHERE = "4/15m"
    assert sign_in(PASSWORD, address=CLINIC).status_code == 302  # the desk the account uses
    for n in range(4):
        sign_in("guess", address=f"198.51.100.{n}")

    assert sign_in(PASSWORD, address="198.51.100.200").status_code == 429  # a new address: stopped
    assert sign_in(PASSWORD, address=CLINIC).status_code == 302  # the known desk: still in


def test_a_locked_out_person_is_told_when_to_try_again_and_whom_to_call(settings, front_desk):
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "2/15m"
    for _ in range(2):
        assert sign_in("typo").status_code == 200

    response = sign_in(PASSWORD)

    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many sign-in attempts" in page and "try again after" in page
    assert settings.CLINIC_PHONE in page and "manager" in page


def test_the_admin_sign_in_counts_failures_with_the_staff_one(settings, manager):
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "2/15m"
    sign_in("guess", username="max")
    sign_in("guess", username="max", url=reverse("admin:login"))

    response = sign_in(PASSWORD, username="max", url=reverse("admin:login"))

    assert "Too many sign-in attempts" in response.content.decode()
    assert sign_in(PASSWORD, username="max").status_code == 429


def test_a_manager_lifts_a_lock_and_it_is_recorded(settings, client, front_desk, manager):
    settings.STAFF_LOGIN_RATE_PER_USERNAME = "2/15m"
    for _ in range(3):
        sign_in("typo")
    assert sign_in(PASSWORD).status_code == 429
    client.force_login(manager)

    page = client.get(LOCKS).content.decode()
    response = client.post(LOCKS, {"username": "Fran"}, follow=True)

    assert "fran" in page  # listed as locked
    assert "can sign in again" in response.content.decode()
    assert sign_in(PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="signin_unlocked")
    assert (event.actor, event.subject_kind, event.subject_id) == (manager, "auth.user", front_desk.pk)


def test_lifting_a_lock_also_clears_the_address_it_was_refused_from(settings, client, front_desk, manager):
    settings.STAFF_LOGIN_RATE_PER_IP = "3/15m"
    for n in range(3):
        sign_in("guess", username=f"user{n}")
    assert sign_in(PASSWORD).status_code == 429
    client.force_login(manager)

    client.post(LOCKS, {"username": "fran"})

    assert sign_in(PASSWORD).status_code == 302


def test_only_managers_lift_locks(client, front_desk, ana):
    for user in (front_desk, ana):
        client.force_login(user)
        assert client.get(LOCKS).status_code == 403
        assert client.post(LOCKS, {"username": "fran"}).status_code == 403
    assert not AuditEvent.objects.filter(action="signin_unlocked").exists()


def test_lifting_needs_a_username(client, manager):
    client.force_login(manager)

    response = client.post(LOCKS, {"username": "  "})

    assert response.status_code == 400
    assert "Type the username" in response.content.decode()


def test_with_the_cache_down_and_limits_set_to_fail_closed_sign_in_is_refused(client, settings, front_desk):
    from tests.hardening.test_faults import closed_port

    settings.CACHES = {"default": {
        "BACKEND": "clinic.cache.TolerantRedisCache", "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }}  # fmt: skip
    settings.RATELIMIT_FAIL_OPEN = False  # the failures cannot be counted: refuse rather than allow guessing

    response = sign_in(PASSWORD)

    assert response.status_code == 429
    assert "Too many sign-in attempts" not in response.content.decode()
    assert "cannot check sign-in attempts" in response.content.decode()
