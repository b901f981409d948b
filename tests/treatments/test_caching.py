"""Whole-page caching of the explainer, and its invalidation when staff save in the admin."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.treatments.factories import (
    BenefitFactory,
    FAQItemFactory,
    HowItWorksStepFactory,
    TreatmentFactory,
)
from tests.treatments.helpers import form_data
from treatments import caching
from treatments.models import ImageRendition, Treatment, TreatmentImage

pytestmark = pytest.mark.django_db

FAQ = "/treatments/microneedling/faq/"
PAGES = ["/", "/treatments/", "/treatments/microneedling/", "/treatments/microneedling/how-it-works/", FAQ]


def post_admin_change(client, treatment: Treatment, *, remove=(), **changes) -> None:
    """Submit the treatment's admin change form as staff would, with `changes` typed in."""
    url = reverse("admin:treatments_treatment_change", args=[treatment.pk])
    data = form_data(client.get(url).content.decode(), "treatment_form")
    for name in remove:
        del data[name]  # e.g. an unticked checkbox, which browsers do not submit
    data.update(changes, _save="Save")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response


@pytest.fixture
def admin_save(admin_client, django_capture_on_commit_callbacks):
    """Save a treatment in the admin as staff would, and commit (run the on-commit callbacks)."""

    def save(treatment: Treatment, **changes) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            post_admin_change(admin_client, treatment, **changes)

    return save


@pytest.mark.parametrize("path", PAGES)
def test_second_visit_is_served_from_the_cache_without_queries(client, path, django_assert_num_queries):
    first = client.get(path)

    with django_assert_num_queries(0):
        second = client.get(path)

    assert second.status_code == 200
    assert second["X-Explainer-Cache"] == "hit"
    assert second.content == first.content
    assert not second.cookies


def test_query_string_does_not_create_another_copy(client, django_assert_num_queries):
    client.get(FAQ)

    with django_assert_num_queries(0):
        assert client.get(FAQ + "?utm_source=newsletter")["X-Explainer-Cache"] == "hit"


def test_visitors_with_a_session_get_a_freshly_rendered_page(client):
    client.get(FAQ)
    client.cookies["sessionid"] = "anything"

    assert "X-Explainer-Cache" not in client.get(FAQ)


def test_not_found_pages_are_not_cached(client):
    client.get("/treatments/nothing-here/")

    assert "X-Explainer-Cache" not in client.get("/treatments/nothing-here/")


@pytest.mark.parametrize(
    "page, fixtures",
    [
        ("treatments:detail", ["benefits", "hero_images", "benefit_images"]),
        ("treatments:how_it_works", ["steps", "how_images"]),
        ("treatments:faq", ["faqs"]),
    ],
)
def test_uncached_page_runs_at_most_four_queries_however_many_items(
    client, page, fixtures, django_assert_max_num_queries
):
    treatment = TreatmentFactory()
    BenefitFactory.create_batch(25, treatment=treatment)
    HowItWorksStepFactory.create_batch(25, treatment=treatment)
    FAQItemFactory.create_batch(25, treatment=treatment)
    for number, role in enumerate(TreatmentImage.Role.values * 5):
        image = TreatmentImage.objects.create(
            treatment=treatment, image=f"treatments/originals/{number}.jpg", width=2000, height=1000,
            alt_text=f"Picture {number}", role=role,
        )
        for width in (480, 960, 1440):
            for fmt in ("webp", "jpeg"):
                ImageRendition.objects.create(
                    image=image, width=width, height=width // 2, format=fmt, file=f"r/{number}-{width}.{fmt}"
                )

    with django_assert_max_num_queries(4):
        response = client.get(reverse(page, kwargs={"slug": treatment.slug}))

    assert response.status_code == 200
    assert "X-Explainer-Cache" not in response
    html = response.content.decode()
    if "faqs" in fixtures:
        assert html.count('class="faq-item') == 25
    if "benefits" in fixtures:
        assert html.count("<picture>") == 10  # hero and benefit images
    if "steps" in fixtures:
        assert html.count("<picture>") == 5


@pytest.mark.parametrize("path", ["/", "/treatments/"])
def test_index_pages_run_at_most_four_queries_however_many_treatments(
    client, path, django_assert_max_num_queries
):
    TreatmentFactory.create_batch(20)

    with django_assert_max_num_queries(4):
        response = client.get(path)

    assert response.content.decode().count('class="treatment-card') == 22  # and the two shipped ones


def cached_text(client, path: str) -> str:
    """Visit twice so the page is certainly in the cache, and return its text."""
    client.get(path)
    response = client.get(path)
    assert response["X-Explainer-Cache"] == "hit"
    return response.content.decode()


def fresh_response(client, path: str):
    response = client.get(path)
    assert "X-Explainer-Cache" not in response, "still served the cached copy"
    return response


def microneedling() -> Treatment:
    return Treatment.objects.get(slug="microneedling")


def test_admin_inline_faq_edit_shows_on_the_next_visit(client, admin_save):
    assert "Does microneedling hurt?" in cached_text(client, FAQ)

    admin_save(microneedling(), **{"faqs-0-question": "Will it sting?"})

    html = fresh_response(client, FAQ).content.decode()
    assert "Will it sting?" in html
    assert "Does microneedling hurt?" not in html


def test_admin_inline_delete_removes_the_item_from_the_cached_page(client, admin_save):
    path = "/treatments/microneedling/"
    assert "Stretch marks" in cached_text(client, path)
    deleted = microneedling().benefits.get(title="Stretch marks")
    index = list(microneedling().benefits.all()).index(deleted)

    admin_save(microneedling(), **{f"benefits-{index}-DELETE": "on"})

    assert "Stretch marks" not in fresh_response(client, path).content.decode()


def test_admin_field_edit_refreshes_the_treatment_list_too(client, admin_save):
    cached_text(client, "/treatments/")
    cached_text(client, "/")

    admin_save(microneedling(), summary="A brand new summary.")

    assert "A brand new summary." in fresh_response(client, "/treatments/").content.decode()
    assert "A brand new summary." in fresh_response(client, "/").content.decode()


def test_unpublishing_in_the_admin_takes_the_cached_pages_down(client, admin_save):
    cached_text(client, FAQ)

    admin_save(microneedling(), remove=["is_published"])

    assert client.get(FAQ).status_code == 404


def test_renaming_the_slug_stops_serving_the_old_address(client, admin_save):
    cached_text(client, FAQ)

    admin_save(microneedling(), slug="micro-needling")

    assert client.get(FAQ).status_code == 404
    assert client.get("/treatments/micro-needling/faq/").status_code == 200


def test_pages_are_only_invalidated_once_the_save_commits(
    client, admin_client, django_capture_on_commit_callbacks
):
    cached_text(client, FAQ)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_admin_change(admin_client, microneedling(), **{"faqs-0-question": "Will it sting?"})
    # Until the admin's transaction commits, visitors keep the page they had.
    assert client.get(FAQ)["X-Explainer-Cache"] == "hit"

    for callback in callbacks:
        callback()
    assert "Will it sting?" in fresh_response(client, FAQ).content.decode()


def test_pages_still_render_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    response = client.get(FAQ)

    assert response.status_code == 200
    assert "Does microneedling hurt?" in response.content.decode()


def test_a_recent_page_is_served_from_process_memory_without_asking_redis(client, monkeypatch):
    cached_text(client, FAQ)  # the second visit confirmed the version with Redis

    def refuse(*args, **kwargs):
        raise AssertionError("asked the shared cache")

    monkeypatch.setattr(caching.cache, "get_many", refuse)
    assert client.get(FAQ)["X-Explainer-Cache"] == "hit"


def test_a_save_in_another_process_is_seen_once_the_local_copy_is_a_second_old(client, monkeypatch):
    cached_text(client, FAQ)
    cache.set(caching.version_key("microneedling"), "bumped elsewhere")  # as another web process would

    assert client.get(FAQ)["X-Explainer-Cache"] == "hit"  # still within the second

    later = time.monotonic() + 1.1
    monkeypatch.setattr(caching.time, "monotonic", lambda: later)
    fresh_response(client, FAQ)


def test_a_new_release_does_not_serve_pages_cached_by_the_old_one(client, monkeypatch):
    cached_text(client, FAQ)
    caching.local_pages_clear()  # a freshly started process

    monkeypatch.setattr(caching, "release", lambda: "the-next-deploy")

    fresh_response(client, FAQ)


def test_release_fingerprint_follows_the_templates(settings, tmp_path):
    (tmp_path / "page.html").write_text("one")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    caching.release.cache_clear()
    first = caching.release()

    (tmp_path / "page.html").write_text("two")
    caching.release.cache_clear()

    assert caching.release() != first
    caching.release.cache_clear()
