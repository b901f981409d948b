"""Moving a booking in the day diary, in Chromium: dragged with the mouse, or with the keyboard only.
Either way the move page shows the series' later sessions and one Confirm button; after it the diary
shows the block at its new time. Axe-clean at each step. Screenshots (the diary mid-move and the
confirmation, 1280 and 1920 px) go to test-artifacts/ for people to look at."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from bookings.selectors import clinic_zone
from tests.bookings.factories import PractitionerFactory, TreatmentFactory
from tests.bookings.staff_fixtures import book_for
from tests.browser.checks import assert_page_is_accessible as check
from tests.browser.conftest import ARTIFACTS

PASSWORD = "a long enough test password"
EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def series_day(django_db_serialized_rollback):
    """Three days ahead: Kit Mover's 3-session series starts at 10:00 with Dr Ana Silva; Dr Ben Okafor
    works too. Returns the day."""
    treatment = TreatmentFactory(name="Microneedling", sessions_in_series=3)
    ana = PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    PractitionerFactory(name="Dr Ben Okafor", treatments=[treatment], hours=EVERY_DAY)
    day = timezone.localdate() + timedelta(days=3)
    first = datetime.combine(day, time(10), tzinfo=clinic_zone())
    user = User.objects.create_user("fran", password=PASSWORD, first_name="Fran")
    user.groups.add(Group.objects.get(name="Front desk"))
    book_for(treatment, first, ana, name="Kit Mover", email="kit@example.com", by=user)
    return day


def sign_in_on(page, day, width: int = 1280) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"/staff/login/?next=/staff/%3Fdate%3D{day:%Y-%m-%d}")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("region", name=re.compile("^Diary for the day"))).to_be_visible()


def block(page):
    return page.locator(".diary-block").filter(has_text="Kit Mover")


def shoot(page, name: str) -> None:
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1080})
        page.screenshot(path=f"{ARTIFACTS}/diary-move-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})


def confirm_with_later_sessions(page, expected: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change")
    expect(page.get_by_text(expected)).to_be_visible()
    later = page.get_by_role("region", name="Later sessions of the series")
    expect(later.get_by_role("listitem")).to_have_count(2)
    expect(later).to_contain_text("Session 2:")
    expect(later).to_contain_text("Session 3:")
    expect(later).to_contain_text("still fits its window")
    check(page)
    page.get_by_role("button", name=re.compile("^Confirm: move session 1")).click()


@pytest.mark.browser
@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_front_desk_drags_a_booking_to_a_free_time_and_confirms(page, series_day):
    sign_in_on(page, series_day)
    check(page)
    expect(block(page)).to_contain_text("10:00–11:00")
    box = block(page).bounding_box()
    x, y = box["x"] + 24, box["y"] + box["height"] * 0.6  # on the name's line, clear of the button

    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 120, steps=6)
    expect(page.locator(".diary-ghost")).to_contain_text("Move to 12:00")
    page.mouse.move(x, y + 240, steps=6)  # one pixel a minute: four hours down
    expect(page.locator(".diary-ghost")).to_contain_text("Move to 14:00")
    page.mouse.up()

    confirm_with_later_sessions(page, "14:00 with Dr Ana Silva")
    expect(page).to_have_url(re.compile(rf"/staff/\?date={series_day:%Y-%m-%d}$"))
    expect(page.get_by_role("status")).to_contain_text("Moved session 1")
    expect(block(page)).to_contain_text("14:00–15:00")
    ana = page.locator(".diary-column").filter(has=page.get_by_role("heading", name="Dr Ana Silva"))
    expect(ana.locator(".diary-block").filter(has_text="Kit Mover")).to_have_count(1)
    check(page)


@pytest.mark.browser
@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_front_desk_moves_a_booking_with_the_keyboard_only(page, series_day):
    sign_in_on(page, series_day)
    announced = page.locator("#diary-move-status")
    name = page.get_by_role("link", name=re.compile("^Open Kit Mover, 10:00"))
    name.focus()

    page.keyboard.press("m")
    expect(announced).to_contain_text("Moving Kit Mover, now 10:00 with Dr Ana Silva")
    for _ in range(4):  # four steps of the clinic's 30 minutes
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    expect(announced).to_contain_text("12:00 with Dr Ben Okafor")
    expect(page.locator(".diary-ghost")).to_contain_text("Move to 12:00")
    shoot(page, "keyboard")
    page.keyboard.press("Escape")
    expect(announced).to_contain_text("stopped; nothing changed")
    expect(page.locator(".diary-ghost")).to_have_count(0)

    name.focus()
    page.keyboard.press("m")
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change")
    expect(page.get_by_text("12:00 with Dr Ben Okafor")).to_be_visible()
    shoot(page, "confirm")
    # The rest of the journey without a mouse: Tab to the Confirm button, Enter.
    confirm = page.get_by_role("button", name=re.compile("^Confirm: move session 1"))
    for _ in range(40):
        page.keyboard.press("Tab")
        if confirm.evaluate("button => button === document.activeElement"):
            break
    later = page.get_by_role("region", name="Later sessions of the series")
    expect(later).to_contain_text("still fits its window")
    check(page)
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Moved session 1")
    ben = page.locator(".diary-column").filter(has=page.get_by_role("heading", name="Dr Ben Okafor"))
    expect(ben.locator(".diary-block").filter(has_text="Kit Mover")).to_contain_text("12:00–13:00")
    check(page)


@pytest.mark.browser
@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_on_a_phone_the_diary_says_how_to_move_and_which_view_is_shown(page, series_day):
    sign_in_on(page, series_day, width=360)

    expect(page.get_by_text("To move a booking, drag it")).to_be_visible()
    views = page.get_by_role("navigation", name="Diary view")
    expect(views.get_by_role("link", name="By practitioner")).to_have_attribute("aria-current", "page")
    expect(block(page).get_by_role("link", name=re.compile("^Move Kit Mover"))).to_be_attached()
    check(page)
    views.get_by_role("link", name="By room").click()
    expect(views.get_by_role("link", name="By room")).to_have_attribute("aria-current", "page")
    check(page)
