"""The staff pages of the staff app in Chromium at 1280 and 1920 px: worklist, history, patient
records, booking a missing session again. Each passes axe (WCAG A/AA) and is saved as a screenshot
in test-artifacts/ to look at."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from bookings import selectors, services
from bookings.models import OutboxMessage, Patient
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.browser.checks import assert_page_is_accessible as check
from tests.browser.conftest import ARTIFACTS

EVERY_DAY = [(weekday, "08:00", "18:00") for weekday in range(7)]
PASSWORD = "a long enough test password"


@pytest.fixture
def records(django_db_serialized_rollback):
    """A series with session 2 cancelled (its window closing soon), a failed e-mail, a duplicate."""
    clinic_rules(buffer_minutes=0, min_notice_hours=0, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(
        slug="desk-course",
        name="Microneedling course",
        sessions_in_series=3,
        min_days_between=1,
        max_days_between=6,
    )
    PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    first_day = timezone.localdate() + timedelta(days=1)
    slots = selectors.available_slots(treatment=treatment, start_date=first_day, days=1, for_staff=True)
    plan = selectors.series_plan(treatment=treatment, first=slots[0], for_staff=True)
    series = services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name="Priya Shah", email="priya@example.com", phone="07700 900777"),
        slots=plan.slots,
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
        for_staff=True,
    )
    manager = User.objects.create_user("max", password=PASSWORD, first_name="Max", is_staff=True)
    manager.groups.add(Group.objects.get(name="Manager"))
    services.appointment_cancel(
        appointment=series.appointments.get(session_number=2),
        by=manager,
        for_staff=True,
        reason="patient unwell",
    )
    OutboxMessage.objects.filter(series=series, kind=OutboxMessage.Kind.SERIES_BOOKED).update(
        status="failed", attempts=5, last_error="550 5.1.1 mailbox unavailable"
    )
    Patient.objects.create(name="Priya S.", email="PRIYA@example.com", phone="07700 900 778")
    return series


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 1920])
def test_staff_app_pages_are_accessible_at_desktop_widths(browser, live_server, records, width):
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
        viewport={"width": width, "height": 1000},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()

    def shot(name: str):
        check(page)
        page.screenshot(path=f"{ARTIFACTS}/staff-{name}-{width}.png", full_page=True)

    page.goto("/staff/login/")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/staff/?date=2026-02-30")
    expect(page.get_by_role("alert")).to_contain_text("“2026-02-30” is not a date")
    shot("day-bad-date")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist").click()
    expect(page.get_by_text("550 5.1.1 mailbox unavailable")).to_be_visible()
    shot("worklist")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(page.get_by_text("patient unwell")).to_be_visible()
    shot("history")
    page.get_by_label("Kind").select_option(label="Cancelled")
    page.get_by_label("From").fill("2020-01-01")
    page.get_by_role("button", name="Show").click()
    shot("history-filtered")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Name, e-mail or phone").fill("priya")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text(re.compile(r"session 1 of 3 next"))).to_be_visible()
    shot("patients-search")

    page.get_by_role("link", name="Priya Shah").click()
    shot("patient")
    page.get_by_role("link", name="Book session 2 again").click()
    shot("rebook")
    page.go_back()
    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Phone number").fill("07700 900778")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("alert")).to_contain_text("already ha")
    shot("patient-edit-duplicate")
    page.get_by_role("link", name="merge the records").click()
    shot("patient-merge")

    page.goto("/staff/patients/new/")
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("Email address").fill("priya.shah@work.example")  # another address, the same phone
    page.get_by_label("Phone number").fill("07700 900777")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("button", name=re.compile("Register anyway"))).to_be_visible()
    shot("patient-new-duplicate")
    context.close()
