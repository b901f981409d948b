"""The header's menu button on a phone (static/js/menu.js, in place of Bootstrap's JavaScript bundle)."""

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_no_axe_violations


@pytest.mark.browser
@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_menu_button_shows_and_hides_the_menu_on_a_phone(page):
    page.goto("/treatments/microneedling/faq/")
    button = page.get_by_role("button", name="Show or hide the menu")
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Treatments")

    expect(link).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(link).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    assert_no_axe_violations(page)
    button.click()
    expect(link).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")


@pytest.mark.browser
def test_pages_load_no_bootstrap_javascript(page):
    scripts = []
    page.on("request", lambda request: request.resource_type == "script" and scripts.append(request.url))

    page.goto("/")

    assert scripts and not [url for url in scripts if "bootstrap" in url], scripts
