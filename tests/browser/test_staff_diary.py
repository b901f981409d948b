"""The diary in Chromium with 3 practitioners and 20 appointments today: a working day on one 1080 px
screen, a free place booked from the keyboard, rooms and everyone's week; axe-clean at each step.
Screenshots at 1280 and 1920 px go to test-artifacts/ (looked at by people, not compared)."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from bookings.selectors import clinic_zone
from tests.bookings.factories import (
    AppointmentFactory,
    PractitionerFactory,
    RoomFactory,
    SeriesFactory,
    TreatmentFactory,
)
from tests.browser.checks import assert_page_is_accessible as check
from tests.browser.conftest import ARTIFACTS

PASSWORD = "a long enough test password"
EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def busy_day(django_db_serialized_rollback):
    """Today: 3 practitioners, 2 rooms, 20 visits of 30, 60 and 90 minutes over three treatments."""
    treatments = [
        TreatmentFactory(name=name, session_minutes=minutes)
        for name, minutes in [("Microneedling", 60), ("Skin check", 30), ("Peel", 90)]
    ]
    rooms = [RoomFactory(name="Laser room"), RoomFactory(name="Bed 2")]
    names = ["Dr Ana Silva", "Dr Ben Okafor", "Dr Cy Lee"]
    practitioners = [PractitionerFactory(name=name, treatments=treatments, hours=EVERY_DAY) for name in names]
    PractitionerFactory(name="Dr Not Today", hours=[])
    today = timezone.localdate()
    plan = [  # (practitioner, start, treatment)
        (0, "09:00", 1), (0, "09:30", 0), (0, "10:30", 2), (0, "12:00", 1), (0, "13:00", 0), (0, "14:00", 1),
        (0, "15:00", 0), (1, "09:00", 0), (1, "10:00", 1), (1, "10:30", 1), (1, "11:00", 2), (1, "13:30", 0),
        (1, "15:30", 1), (2, "09:30", 2), (2, "11:00", 0), (2, "12:00", 1), (2, "13:00", 1), (2, "14:00", 0),
        (2, "15:00", 2), (2, "16:30", 1),
    ]
    for n, (who, at, what) in enumerate(plan):
        start = datetime.combine(today, time.fromisoformat(at), tzinfo=clinic_zone())
        treatment = treatments[what]
        AppointmentFactory(
            series=SeriesFactory(treatment=treatment, patient__name=f"Patient {chr(65 + n)} Example"),
            practitioner=practitioners[who],
            start=start,
            end=start + timedelta(minutes=treatment.session_minutes),
            room=rooms[who] if who < 2 and what != 1 else None,
        )
    user = User.objects.create_user("fran", password=PASSWORD, first_name="Fran")
    user.groups.add(Group.objects.get(name="Front desk"))


def shoot(page, name: str) -> None:
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1080})
        page.screenshot(path=f"{ARTIFACTS}/diary-{name}-{width}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_front_desk_sees_the_day_on_one_screen_and_books_a_free_place(page, busy_day):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/staff/login/")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    diary = page.get_by_role("region", name=re.compile("^Diary for the day"))
    expect(diary).to_be_visible()
    check(page)
    headings = diary.get_by_role("heading", level=2)
    expect(headings).to_have_count(3)
    expect(diary).not_to_contain_text("Dr Not Today")
    box = diary.bounding_box()
    assert box["y"] + box["height"] <= 1080, f"the day ends at {box['y'] + box['height']}px"
    short = diary.get_by_role("listitem").filter(has_text="Patient A Example")
    expect(short.get_by_role("button", name=re.compile("^Check in Patient A Example"))).to_be_visible()
    shoot(page, "day")

    free = diary.get_by_role("link", name=re.compile(r"^Book 16:00 with Dr Ana Silva"))
    free.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Booking the free time picked in the diary")).to_be_visible()
    check(page)

    page.goto("/staff/?by=room")
    expect(page.get_by_role("region", name="Diary for the day, one column per room")).to_contain_text("Laser room")
    check(page)
    shoot(page, "rooms")

    page.goto("/staff/week/?practitioner=all")
    expect(page.get_by_role("table")).to_contain_text("Dr Cy Lee")
    check(page)
    shoot(page, "week-all")

    page.goto("/staff/week/")
    check(page)
    shoot(page, "week")
