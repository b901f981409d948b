"""The front desk in Chromium: sign in, register a caller, book a series by phone, see it in the day,
reschedule session 2, check the patient in. Every staff page passes axe (WCAG A/AA).

Runs on the real clock (see test_booking_journey.py): the practitioner works every day, so staff
always find free times.
"""

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from bookings.models import Appointment, Series
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.browser.checks import assert_page_is_accessible as check

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]
PASSWORD = "a long enough test password"


@pytest.fixture
def clinic(django_db_serialized_rollback):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(slug="desk-course", name="Microneedling course", sessions_in_series=3)
    PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    user = User.objects.create_user("fran", password=PASSWORD, first_name="Fran")
    user.groups.add(Group.objects.get(name="Front desk"))
    return treatment


def menu_link(page, name: str):
    """A link of the main menu, opening the menu first on a phone (where it is collapsed)."""
    # Before the new page's stylesheets apply, the button counts as visible even on a desktop.
    page.wait_for_load_state("load")
    toggler = page.get_by_role("button", name="Show or hide the menu")
    if toggler.is_visible():
        toggler.click()
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


@pytest.mark.browser
def test_front_desk_books_by_phone_reschedules_and_checks_in(page, clinic):
    page.goto("/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign in")
    check(page)
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("region", name=re.compile("^Diary for the day"))).to_be_visible()
    check(page)
    menu_link(page, "Patients").click()
    check(page)
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("Email address").fill("priya@example.com")
    page.get_by_label("Phone number").fill("07700 900777")
    page.get_by_role("button", name="Register patient").click()

    expect(page.get_by_role("status")).to_contain_text("Priya Shah is registered")
    check(page)
    page.get_by_role("link", name="Book a series").click()
    page.get_by_label("Treatment").select_option(label="Microneedling course")
    page.get_by_role("button", name="Show free times").click()
    check(page)
    page.get_by_role(
        "link", name=re.compile(r"^First session .*, 1[0-5]:00 with Dr Ana Silva$")
    ).first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Microneedling course for Priya Shah")
    check(page)
    for question in QUESTIONS:
        page.get_by_role("group", name=question.text).get_by_label("No").check()
    page.get_by_label(re.compile("I understand what microneedling involves")).check()
    page.get_by_label(re.compile("I agree that the clinic stores")).check()
    page.get_by_role("button", name="Book 3 sessions").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Booked 3 sessions of Microneedling course for Priya Shah"
    )
    check(page)
    series = Series.objects.get(patient__name="Priya Shah")
    assert series.source == Series.Source.PHONE and series.appointments.active().count() == 3

    page.get_by_role("link", name=re.compile("^Session 1:")).click()
    check(page)
    page.get_by_role("link", name=re.compile("^Back to ")).click()
    block = page.get_by_role("region", name=re.compile("^Diary for the day")).get_by_role("listitem")
    expect(block.filter(has_text="Priya Shah")).to_contain_text("session 1 of 3")
    check(page)

    second = series.appointments.get(session_number=2)
    page.goto(f"/staff/appointments/{second.pk}/")
    page.get_by_role("link", name="Reschedule").click()
    check(page)
    page.get_by_role("region", name="Times that keep the other sessions as they are").get_by_role(
        "button", name=re.compile("^Move to ")
    ).last.click()
    expect(page.get_by_role("status")).to_contain_text("Moved session 2")
    check(page)
    moved = Appointment.objects.get(pk=second.pk)
    assert moved.start != second.start
    expect(page.get_by_role("table")).to_contain_text("Moved")

    first = series.appointments.get(session_number=1)
    page.goto(f"/staff/?date={first.start:%Y-%m-%d}")
    page.get_by_role("button", name="Check in Priya Shah").click()
    expect(page.get_by_role("status")).to_contain_text("Priya Shah, session 1: checked in")
    expect(block.filter(has_text="Priya Shah")).to_contain_text("Checked in")
    check(page)
    assert Appointment.objects.get(pk=first.pk).status == Appointment.Status.CHECKED_IN


@pytest.mark.browser
@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_manager_edits_hours_and_sees_them_in_the_week(page, clinic):
    manager = User.objects.create_user("max", password=PASSWORD, first_name="Max")
    manager.groups.add(Group.objects.get(name="Manager"))
    page.goto("/staff/login/")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    menu_link(page, "Hours").click()
    check(page)
    page.get_by_role("link", name="Dr Ana Silva").click()
    check(page)
    page.get_by_label("To, row 1").fill("18:30")
    page.get_by_role("button", name="Save hours and time off").click()

    expect(page.get_by_role("status")).to_contain_text("Saved Dr Ana Silva's hours")
    check(page)
    menu_link(page, "Week").click()
    expect(page.get_by_role("region", name=re.compile("^Diary for the week"))).to_contain_text("18:00")
    check(page)
