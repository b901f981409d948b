"""sitemap.xml, robots.txt and the health check."""

import re

import pytest

from tests.treatments.factories import TreatmentFactory

pytestmark = pytest.mark.django_db


def sitemap_locations(client) -> list[str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    return re.findall(r"<loc>(.*?)</loc>", response.content.decode())


def test_sitemap_lists_home_list_and_every_page_of_each_published_treatment(client):
    TreatmentFactory(slug="gentle-facial")

    assert sorted(sitemap_locations(client)) == sorted(
        f"http://testserver{path}"
        for path in [
            "/",
            "/treatments/",
            "/treatments/microneedling/",
            "/treatments/microneedling/how-it-works/",
            "/treatments/microneedling/faq/",
            "/treatments/chemical-peel/",
            "/treatments/chemical-peel/how-it-works/",
            "/treatments/chemical-peel/faq/",
            "/treatments/gentle-facial/",
            "/treatments/gentle-facial/how-it-works/",
            "/treatments/gentle-facial/faq/",
        ]
    )


def test_sitemap_leaves_out_unpublished_treatments(client):
    TreatmentFactory(slug="draft-peel", is_published=False)

    assert not [location for location in sitemap_locations(client) if "draft-peel" in location]


def test_sitemap_gives_the_treatment_pages_a_last_modified_date(client):
    # Three pages for each of the two shipped treatments.
    assert client.get("/sitemap.xml").content.decode().count("<lastmod>") == 6


def test_robots_txt_keeps_crawlers_out_of_admin_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Disallow: /admin/" in body
    assert "Sitemap: http://testserver/sitemap.xml" in body


def test_health_check_reports_database_cache_and_broker_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
