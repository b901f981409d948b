"""The Content-Security-Policy in Chromium: pages work, nothing is refused, no inline script needed."""

import re

import pytest
from playwright.sync_api import expect

from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.browser.conftest import browser, browser_tools, page  # noqa: F401

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def course(django_db_serialized_rollback):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(slug="csp-course", name="Microneedling course", sessions_in_series=3)
    PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    return treatment


@pytest.fixture
def refusals(page):
    """Console messages in which Chromium reports something the policy refused."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    return seen


@pytest.mark.browser
@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_pages_run_under_the_policy_without_a_refusal(page, course, refusals):
    for path in ["/", "/treatments/", "/treatments/microneedling/faq/", "/admin/login/", "/staff/login/"]:
        response = page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
    # JSON-LD is data, not a script the policy runs: it is still there for crawlers to read.
    page.goto("/treatments/microneedling/faq/")
    structured = page.evaluate(
        "() => [...document.querySelectorAll('script[type=\"application/ld+json\"]')].map(s => JSON.parse(s.text))"
    )
    assert structured and all("@context" in item or "@graph" in item for item in structured)
    page.goto(f"/book/{course.slug}/")
    page.get_by_role("button", name=re.compile(r", 1[0-5]:00 with Dr Ana Silva$")).first.click()
    page.get_by_role("button", name="Continue with these times").click()
    page.get_by_role("button", name=re.compile("^Book my 3 sessions")).click()  # everything empty

    # The error summary takes the focus: static/js/focus-error.js ran, as a file the policy allows.
    expect(page.locator("#error-summary")).to_be_focused()
    assert refusals == []
