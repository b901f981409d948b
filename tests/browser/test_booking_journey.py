"""The whole patient journey in Chromium: book a series, open the manage link, move, cancel.

Runs on the real clock (the live server shares the process, so freezing time would freeze the
browser's timeouts too): the practitioner works every day, so free times always exist.
"""

import re

import pytest
from playwright.sync_api import expect

from bookings.models import Appointment, Series
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.browser.checks import assert_page_is_accessible as check

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def course(django_db_serialized_rollback):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(slug="journey-course", name="Microneedling course", sessions_in_series=3)
    PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    return treatment


@pytest.mark.browser
def test_patient_books_moves_and_cancels_with_axe_clean_pages(page, course):
    page.goto(f"/book/{course.slug}/")
    check(page)
    page.get_by_role("button", name=re.compile(r", 1[0-5]:00 with Dr Ana Silva$")).first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your Microneedling course series")
    check(page)
    page.get_by_role("button", name="Continue with these times").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    page.get_by_role("button", name=re.compile("^Book my 3 sessions")).click()  # everything empty
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    check(page)  # the error state is accessible too
    page.get_by_label("Full name").fill("Jo Bloggs")
    page.get_by_label("Email address").fill("jo@example.com")
    page.get_by_label("Phone number").fill("07700 900123")
    for question in QUESTIONS:
        page.get_by_role("group", name=question.text).get_by_label("No").check()
    page.get_by_label(re.compile("I understand what this treatment involves")).check()  # its default consent
    page.get_by_label(re.compile("I agree that the clinic stores")).check()
    page.get_by_role("button", name=re.compile("^Book my 3 sessions")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your Microneedling course series is booked")
    check(page)
    series = Series.objects.get(treatment=course)
    assert series.appointments.active().count() == 3
    page.get_by_role("link", name="See, move or cancel your sessions").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your Microneedling course series")
    check(page)
    before = series.appointments.get(session_number=2).start
    page.get_by_role("link", name="Move session 2").click()

    expect(page).to_have_url(re.compile(r"/sessions/2/move/$"))
    check(page)
    # The last time of the day that keeps the other sessions where they are (no "Session 3 moves too").
    page.locator("#calendar button[name=slot]:not([aria-describedby])").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change")
    check(page)
    page.get_by_role("button", name="Move session 2").click()

    expect(page.get_by_role("status")).to_contain_text("we moved session 2")
    check(page)
    assert series.appointments.get(session_number=2).start != before
    page.get_by_role("link", name="Cancel session 3", exact=True).click()

    expect(page).to_have_url(re.compile(r"/sessions/3/cancel/$"))
    check(page)
    page.get_by_role("button", name="Cancel session 3").click()

    expect(page.get_by_role("status")).to_contain_text("we cancelled session 3")
    check(page)
    assert series.appointments.get(session_number=3).status == Appointment.Status.CANCELLED
