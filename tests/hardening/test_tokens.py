"""Manage links: bound to one series, unforgeable, and expiring some days after the series is over."""

import re
from datetime import UTC, timedelta

import pytest
from django.urls import get_resolver

from bookings import services
from bookings.tokens import link_expires_at, manage_path, manage_token, series_for_token
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import book, frozen, practitioner, series, treatment  # noqa: F401

LAST_SESSION_END = local(2027, 5, 4, 11)  # the fixture's third session, Tue 4 May 10:00–11:00


def test_a_link_works_until_its_valid_days_after_the_last_session(client, series, frozen, settings):
    settings.MANAGE_LINK_VALID_DAYS = 30
    url = manage_path(series)

    assert link_expires_at(series) == LAST_SESSION_END + timedelta(days=30)
    frozen.move_to(LAST_SESSION_END + timedelta(days=29))
    assert client.get(url).status_code == 200
    frozen.move_to(LAST_SESSION_END + timedelta(days=30, seconds=1))
    response = client.get(url)

    assert response.status_code == 410
    html = response.content.decode()
    assert "This booking link has expired" in html and "+44 20 7946 0321" in html
    for action in ("move", "cancel", "cancel-rest", "answers"):
        assert client.get(f"{url}sessions/2/{action}/").status_code == 410
    assert client.get(f"{url}calendar.ics").status_code == 410


def test_a_cancelled_series_link_expires_counted_from_the_cancellation(client, series, frozen, settings):
    settings.MANAGE_LINK_VALID_DAYS = 30
    services.series_cancel_remaining(series=series, from_session=1, reason="moving away")  # on 1 March, 08:00

    assert link_expires_at(series) == local(2027, 3, 1, 8).astimezone(UTC) + timedelta(days=30)
    frozen.move_to(local(2027, 3, 31, 9))
    assert series_for_token(manage_token(series)) is None
    assert client.get(manage_path(series)).status_code == 410


def test_the_validity_is_a_setting(series, settings):
    settings.MANAGE_LINK_VALID_DAYS = 3

    assert link_expires_at(series) == LAST_SESSION_END + timedelta(days=3)


@pytest.mark.parametrize("change", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t.upper(), lambda t: t[:20]])
def test_a_tampered_link_is_a_friendly_404_not_an_error(client, series, change):
    response = client.get(f"/bookings/manage/{change(manage_token(series))}/")

    assert response.status_code == 404
    assert "This booking link does not work" in response.content.decode()


def test_a_token_names_its_own_series_only(treatment, practitioner):
    first = book(treatment, local(2027, 3, 9, 10), practitioner)
    second = book(treatment, local(2027, 3, 9, 12), practitioner, name="Sam Other", email="sam@example.com")

    assert series_for_token(manage_token(first)) == first
    assert series_for_token(manage_token(second)) == second
    assert manage_token(first) != manage_token(second)
    assert manage_token(first).split(":")[0] == first.public_id.hex  # the random UUID, not the id


def test_public_urls_hold_no_enumerable_ids():
    public = [route for route in _all_routes(get_resolver()) if not route.startswith(("staff/", "admin/"))]

    assert "bookings/manage/<str:token>/" in public
    assert not [route for route in public if re.search(r"<(int:)?(pk|id)>", route)]
    assert not [route for route in public if "<int:" in route and "sessions/" not in route], public


def _all_routes(resolver, prefix: str = "") -> list[str]:
    routes = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            routes += _all_routes(pattern, route)
        else:
            routes.append(route)
    return routes
