"""Booking a new caller's series by phone in Chromium, at 1280 and 1920 px: a free time in the diary,
registration with the treatment, the plan re-planned live when another time is chosen for a session,
"No" to every question in one tick, booked. Each page passes axe and is saved in test-artifacts/."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Series
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.browser.checks import assert_page_is_accessible as check
from tests.browser.conftest import ARTIFACTS

EVERY_DAY = [(weekday, "08:00", "18:00") for weekday in range(7)]
PASSWORD = "a long enough test password"


@pytest.fixture
def clinic(django_db_serialized_rollback):
    clinic_rules(buffer_minutes=0, min_notice_hours=0, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(
        slug="phone-course", name="Skin needling course", sessions_in_series=4, min_days_between=7, max_days_between=21
    )
    PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    desk = User.objects.create_user("fran", password=PASSWORD, first_name="Fran")
    desk.groups.add(Group.objects.get(name="Front desk"))
    return treatment


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 1920])
def test_a_new_callers_series_is_booked_from_a_free_time_in_the_diary(browser, live_server, clinic, width):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", timezone_id="Europe/London",
        viewport={"width": width, "height": 1000},
    )  # fmt: skip
    context.set_default_timeout(10_000)
    page = context.new_page()

    def shot(name: str):
        check(page)
        page.screenshot(path=f"{ARTIFACTS}/staff-phone-{name}-{width}.png", full_page=True)

    page.goto("/staff/login/")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.goto(f"/staff/?date={tomorrow:%Y-%m-%d}")
    page.get_by_role("link", name=f"Book 10:00 with Dr Ana Silva, {tomorrow:%a} {tomorrow.day} {tomorrow:%b}").click()
    expect(page.get_by_text("Booking the free time picked in the diary")).to_be_visible()
    shot("patients")
    page.get_by_role("link", name="New patient").first.click()
    expect(page.locator("#picked-time")).to_contain_text("10:00 with Dr Ana Silva")
    page.get_by_label("Full name").fill("Noor Newcaller")
    page.get_by_label("Email address").fill("noor@example.com")
    page.get_by_label("Phone number").fill("07700 900303")
    page.get_by_label("Book a series of").select_option(label="Skin needling course")
    shot("register")
    page.get_by_role("button", name="Register patient").click()

    expect(page.get_by_role("heading", name="Skin needling course for Noor Newcaller")).to_be_visible()
    shot("plan")
    session_3 = page.locator("input[name=session_3]:checked").get_attribute("value")
    page.locator("fieldset", has_text="Session 2").locator("input[type=radio]").last.check()
    # The later sessions are planned again in the page (static/js/series-review.js), not on booking.
    expect(page.locator("#plan-status")).to_contain_text("planned again")
    assert page.locator("input[name=session_3]:checked").get_attribute("value") != session_3
    expect(page.locator("input[name=session_2]").last).to_be_focused()
    page.get_by_label("I read out every question above; the patient answered No to each one not marked Yes").check()
    expect(page.locator("input[type=radio][name^=answer_][value=no]:checked")).to_have_count(
        page.locator("input[type=radio][name^=answer_][value=no]").count()
    )
    page.locator("input[name=consent_treatment]").check()
    page.locator("input[name=consent_privacy]").check()
    shot("plan-replanned")
    page.get_by_role("button", name="Book 4 sessions").click()

    expect(page.get_by_text("Booked 4 sessions of Skin needling course for Noor Newcaller")).to_be_visible()
    series = Series.objects.get(patient__email="noor@example.com")
    assert series.appointments.count() == 4 and not series.needs_review
    context.close()
