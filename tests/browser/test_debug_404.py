"""The 404 page a newcomer meets under `make run` (DEBUG on), in Chromium at a phone's width."""

from pathlib import Path

import pytest

from tests.browser.checks import assert_page_is_accessible

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "debug-404-phone.png"


@pytest.mark.browser
@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_a_missing_page_under_debug_is_styled_and_fits_a_phone(page, settings):
    settings.DEBUG = True

    response = page.goto("/no-such-page/")

    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "We could not find that page"
    # Our stylesheet applied (Bootstrap's body font, not the browser's default serif).
    assert "serif" != page.evaluate("getComputedStyle(document.body).fontFamily").strip()
    assert_page_is_accessible(page)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)  # to look at: test-artifacts/
