"""Issue 11's "done means": a patient on a phone books a 4-session series from the home page, then
moves a session from the manage link. Prints the clicks and each page's height; screenshots every
step into test-artifacts/ (at 360 and 1280 px: the journey runs at both sizes); axe on every step.

Step 1 and the move page stay within two screen heights (1,600 px) and no page shows more than 40
time buttons. Runs on the real clock (see test_booking_journey.py): everyone works every day.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bookings.models import Appointment, Room, Series
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory, clinic_rules
from tests.browser.checks import assert_page_is_accessible as check
from treatments.models import Treatment

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]
MAX_HEIGHT = 1600
MAX_TIME_BUTTONS = 40
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def clinic(django_db_serialized_rollback):
    """The shipped microneedling treatment (4 sessions, 28 to 42 days apart, needs a room)."""
    clinic_rules(buffer_minutes=15, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = Treatment.objects.get(slug="microneedling")
    Room.objects.create(name="Room 1").treatments.add(treatment)
    for name in ("Dr Ana Silva", "Dr Ben Okafor"):
        PractitionerFactory(name=name, treatments=[treatment], hours=EVERY_DAY)
    return treatment


class Journey:
    """Counts clicks, measures and photographs each page, and checks it with axe."""

    def __init__(self, page, size: str):
        self.page, self.size, self.clicks, self.steps = page, size, 0, 0
        ARTIFACTS.mkdir(exist_ok=True)

    def click(self, locator) -> None:
        locator.click()
        self.clicks += 1

    def record(self, name: str) -> int:
        page = self.page
        page.wait_for_load_state("load")
        height = page.evaluate("document.documentElement.scrollHeight")
        buttons = page.locator("button[name=slot]").count()
        self.steps += 1
        page.screenshot(path=ARTIFACTS / f"journey-{self.size}-{self.steps:02d}-{name}.png", full_page=True)
        print(f"[{self.size}] {name}: {height} px tall, {buttons} time buttons, {self.clicks} clicks so far")
        check(page)
        assert buttons <= MAX_TIME_BUTTONS, f"{name} shows {buttons} time buttons"
        return height


@pytest.mark.browser
def test_a_phone_books_a_four_session_series_from_the_home_page_and_moves_one(page, clinic, request):
    size = request.node.callspec.params["page"]
    journey = Journey(page, size)
    print()

    page.goto("/")
    journey.record("home")
    # The home page lists every treatment with its own Book button (issue 11, item 3).
    journey.click(page.get_by_role("main").get_by_role("link", name="Book microneedling").first)

    expect(page.get_by_role("heading", level=1)).to_contain_text("choose your first session")
    assert journey.record("step-1") <= MAX_HEIGHT
    # Another day, loaded in place (static/js/calendar.js), then an afternoon time.
    days = page.locator("#calendar a[data-calendar-nav=day]")
    chosen = days.nth(2)
    label = chosen.get_attribute("aria-label").removesuffix(": free times")
    page.evaluate("window.samePage = true")  # gone if the page were loaded again
    journey.click(chosen)
    expect(page.locator("#calendar-times-heading")).to_have_text(label)
    expect(page.locator("#calendar-times-heading")).to_be_focused()
    assert page.evaluate("window.samePage === true")
    assert journey.record("step-1-day") <= MAX_HEIGHT
    journey.click(page.get_by_role("button", name=re.compile(r", 14:00 with Dr ")))

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your Microneedling series")
    journey.record("step-2")
    session_4 = page.get_by_role("group", name="Session 4")
    suggested_4 = session_4.get_by_role("radio", checked=True).get_attribute("value")
    # The latest alternative for session 3 re-plans session 4 in place (static/js/series-review.js).
    page.evaluate("window.samePage = true")
    journey.click(page.get_by_role("group", name="Session 3").get_by_role("radio").last)  # the latest
    expect(page.locator("#plan-changes")).to_contain_text("Session 4:")
    assert page.evaluate("window.samePage === true")
    assert session_4.get_by_role("radio", checked=True).get_attribute("value") != suggested_4
    journey.record("step-2-replanned")
    journey.click(page.get_by_role("button", name="Continue with these times"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    page.get_by_label("Full name").fill("Jo Bloggs")
    page.get_by_label("Email address").fill("jo@example.com")
    page.get_by_label("Phone number").fill("07700 900123")
    for question in QUESTIONS:
        journey.click(page.get_by_role("group", name=question.text).get_by_label("No"))
    for consent in page.get_by_role("group", name="Consent").get_by_role("checkbox").all():
        journey.click(consent)
    journey.record("step-3")
    journey.click(page.get_by_role("button", name=re.compile("^Book my 4 sessions")))

    expect(page.get_by_role("heading", level=1)).to_have_text("Your Microneedling series is booked")
    journey.record("booked")
    series = Series.objects.get(patient__name="Jo Bloggs")
    starts = [a.start for a in series.appointments.active().order_by("session_number")]
    assert len(starts) == 4 and all(28 <= (b - a).days <= 42 for a, b in zip(starts, starts[1:]))
    journey.click(page.get_by_role("link", name="See, move or cancel your sessions"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Your Microneedling series")
    journey.record("manage")
    journey.click(page.get_by_role("link", name="Move session 2"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Move session 2")
    assert journey.record("move") <= MAX_HEIGHT
    journey.click(page.locator("#calendar a[data-calendar-nav=day]").last)
    expect(page.locator("#calendar-times-heading")).to_be_focused()
    assert journey.record("move-day") <= MAX_HEIGHT
    journey.click(page.locator("#calendar").get_by_role("button", name=re.compile(r"^Move to ")).first)

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change")
    journey.record("move-check")
    journey.click(page.get_by_role("button", name=re.compile(r"^Move (session 2|these \d sessions)$")))

    expect(page.get_by_role("status")).to_contain_text("we moved session 2")
    journey.record("moved")
    assert series.appointments.get(session_number=2, status=Appointment.Status.BOOKED).start != starts[1]
    print(f"[{size}] {journey.clicks} clicks from the home page to a booked and moved series")


@pytest.mark.browser
@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_step_1_of_the_demo_clinic_fits_two_phone_screens(page, django_db_serialized_rollback):
    """What `make run` shows: the demo's three practitioners, their hours and bookings, both treatments.
    The busiest first day of each treatment's step 1 stays within two screen heights on a phone."""
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    for treatment in Treatment.objects.filter(is_published=True):
        page.goto(f"/book/{treatment.slug}/")
        height = page.evaluate("document.documentElement.scrollHeight")
        buttons = page.locator("button[name=slot]").count()
        print(f"\n[phone, demo] step 1 of {treatment.name}: {height} px tall, {buttons} time buttons")
        check(page)
        assert height <= MAX_HEIGHT and buttons <= MAX_TIME_BUTTONS
