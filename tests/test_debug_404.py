"""Under `make run` (DEBUG on) a missing page is the site's own 404 page, as in production: Django's
debug 404 relies on an inline <style> that our Content-Security-Policy refuses, and has no viewport,
so on a phone it was a wall of tiny unstyled text."""

import pytest

pytestmark = pytest.mark.django_db

OUR_PAGE = "We could not find that page"


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


def test_an_address_no_url_matches_is_our_404_page_under_debug(client, debug_on):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert OUR_PAGE in page and 'name="viewport"' in page
    assert "<style" not in page  # nothing the CSP would refuse
    assert "Content-Security-Policy" in response.headers


def test_a_view_raising_not_found_is_our_404_page_under_debug(client, debug_on):
    response = client.get("/treatments/no-such-treatment/")

    assert response.status_code == 404
    assert OUR_PAGE in response.content.decode()


def test_a_missing_trailing_slash_still_redirects_under_debug(client, debug_on):
    response = client.get("/treatments")

    assert response.status_code == 301
    assert response["Location"] == "/treatments/"


def test_the_api_keeps_its_json_404_under_debug(client, debug_on):
    response = client.get("/api/no-such-endpoint/")

    assert response.status_code == 404
