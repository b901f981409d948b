"""Abuse limits: each one triggers after its count and says so, as a page or as JSON."""

import json

import pytest

from bookings.tokens import manage_path
from tests.bookings.patient_fixtures import SLUG, frozen, practitioner, series, treatment  # noqa: F401


def over_the_limit(send, settings, name: str, limit: int = 3):
    """The responses to `limit` allowed requests, then the one beyond the limit."""
    setattr(settings, name, f"{limit}/10m")
    allowed = [send() for _ in range(limit)]
    return allowed, send()


def assert_page_refusal(allowed, refused):
    assert all(response.status_code != 429 for response in allowed)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    html = refused.content.decode()
    assert "Please wait a few minutes" in html and "+44 20 7946 0321" in html


@pytest.mark.parametrize("step", ["book", "series", "details"])
def test_booking_steps_limit_posts_per_client(client, settings, practitioner, step):
    path = {"book": f"/book/{SLUG}/", "series": f"/book/{SLUG}/series/", "details": f"/book/{SLUG}/details/"}[step]

    allowed, refused = over_the_limit(lambda: client.post(path, {"slot": "nonsense"}), settings, "BOOKING_POST_RATE")

    assert_page_refusal(allowed, refused)
    assert client.get(f"/book/{SLUG}/").status_code == 200  # reading the calendar is not limited


def test_manage_link_limits_reads_and_writes(client, settings, series):
    url = manage_path(series)

    allowed, refused = over_the_limit(lambda: client.get(url), settings, "MANAGE_LINK_RATE")

    assert_page_refusal(allowed, refused)
    assert client.post(f"{url}sessions/1/cancel/").status_code == 429


def test_manage_link_limit_counts_guessed_tokens_too(client, settings, db):
    allowed, refused = over_the_limit(
        lambda: client.get("/bookings/manage/guess/"), settings, "MANAGE_LINK_RATE"
    )

    assert [response.status_code for response in allowed] == [404, 404, 404]
    assert refused.status_code == 429


def test_availability_api_answers_429_in_json(client, settings, practitioner):
    query = {"treatment": SLUG, "start": "2027-03-02", "days": 1}

    allowed, refused = over_the_limit(
        lambda: client.get("/api/availability/", query), settings, "AVAILABILITY_API_RATE"
    )

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "wait" in refused.json()["error"]
    assert int(refused["Retry-After"]) > 0


def test_booking_api_answers_429_in_json(client, settings, practitioner):
    def send():
        return client.post("/api/series/", json.dumps({"treatment": SLUG}), content_type="application/json")

    allowed, refused = over_the_limit(send, settings, "API_BOOKING_RATE")

    assert [response.status_code for response in allowed] == [400, 400, 400]
    assert refused.status_code == 429
    assert "wait" in refused.json()["error"]


def test_limits_count_each_client_address_apart(client, settings, practitioner):
    settings.AVAILABILITY_API_RATE = "1/10m"
    query = {"treatment": SLUG, "start": "2027-03-02", "days": 1}

    first = client.get("/api/availability/", query, REMOTE_ADDR="192.0.2.1")
    second = client.get("/api/availability/", query, REMOTE_ADDR="192.0.2.2")

    assert (first.status_code, second.status_code) == (200, 200)
    assert client.get("/api/availability/", query, REMOTE_ADDR="192.0.2.1").status_code == 429


def test_default_limits_leave_room_for_a_person(settings):
    for name in ("BOOKING_POST_RATE", "API_BOOKING_RATE", "AVAILABILITY_API_RATE", "MANAGE_LINK_RATE"):
        count = int(getattr(settings, name).split("/")[0])
        assert count >= 30, name
