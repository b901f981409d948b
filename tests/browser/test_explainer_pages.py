"""The explainer pages in a real browser, at phone and desktop widths."""

import pytest

from tests.browser.checks import assert_page_is_accessible

EXPLAINER_PAGES = [
    "/",
    "/treatments/",
    "/treatments/microneedling/",
    "/treatments/microneedling/how-it-works/",
    "/treatments/microneedling/faq/",
    "/treatments/chemical-peel/",
    "/treatments/chemical-peel/how-it-works/",
    "/treatments/chemical-peel/faq/",
    "/privacy/",
]


@pytest.mark.browser
@pytest.mark.parametrize("path", EXPLAINER_PAGES)
def test_explainer_page_opens_fits_the_screen_and_passes_axe(page, path):
    response = page.goto(path)

    assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"
    assert_page_is_accessible(page)
