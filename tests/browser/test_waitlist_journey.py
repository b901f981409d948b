"""In Chromium: a patient asks for a sooner session; another patient cancels; the first gets the offer
e-mail, takes the time in one click, and sees the new time and the later session moved. Axe-clean.

Runs on the real clock (as test_manage_rebook_journey.py): the practitioner works every day. E-mails
land in Django's test outbox (Celery runs eagerly in the live server's thread after each commit).
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment
from bookings.tokens import manage_path
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.bookings.waitlist_fixtures import book_at as book
from tests.browser.checks import assert_page_is_accessible as check

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def clinic(django_db_serialized_rollback):
    """Jo's sessions 2 and 3 are 42 days apart (late in the window); Sam's first is 28 days after Jo's."""
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(slug="waitlist-course", name="Microneedling course", sessions_in_series=3)
    practitioner = PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    first = timezone.localdate() + timedelta(days=10)
    jo = book(treatment, practitioner, [at(first, 10), at(first + timedelta(days=42), 10),
                                        at(first + timedelta(days=84), 10)], "Jo Bloggs", "jo@example.com")
    sam = book(treatment, practitioner, [at(first + timedelta(days=28), 10), at(first + timedelta(days=56), 10),
                                         at(first + timedelta(days=84), 14)], "Sam Carter", "sam@example.com")
    return jo, sam, first


@pytest.mark.browser
def test_asking_for_sooner_then_taking_the_offered_time(page, clinic, mailoutbox):
    jo, sam, first = clinic
    # Jo asks for session 2 sooner, any day and time.
    page.goto(manage_path(jo))
    check(page)
    page.get_by_role("link", name="Sooner if possible").nth(1).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A sooner time for session 2")
    check(page)
    page.get_by_role("button", name="Put session 2 on the waitlist").click()
    expect(page.get_by_role("status").first).to_contain_text("You are on the waitlist for a sooner session 2")
    check(page)

    # Sam cancels session 1: that time goes to Jo once the cancel commits.
    page.goto(manage_path(sam))
    page.get_by_role("link", name="Cancel session 1", exact=True).click()
    page.get_by_role("button", name="Cancel session 1").click()
    expect(page.get_by_role("status").first).to_be_visible()

    offer_mail = next(mail for mail in mailoutbox if mail.to == ["jo@example.com"] and "sooner time" in mail.subject)
    freed = first + timedelta(days=28)
    assert f"Session 2: {freed:%A} {freed.day} {freed:%B %Y}, 10:00–11:00" in offer_mail.body
    claim = re.search(r"https?://\S+(/bookings/offers/\S+/)", offer_mail.body).group(1)

    page.goto(claim)
    expect(page.get_by_role("heading", level=1)).to_contain_text("A sooner time")
    check(page)
    page.get_by_role("button", name="Take this time").click()

    expect(page.get_by_role("status").first).to_contain_text("the sooner time is yours")
    check(page)
    session2 = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Session 2"))
    expect(session2).to_contain_text(f"{freed:%A} {freed.day} {freed:%B %Y}, 10:00")
    moved = {a.session_number: a.start.astimezone(timezone.get_current_timezone()).date()
             for a in jo.appointments.filter(status=Appointment.Status.BOOKED)}
    assert moved[2] == freed
    assert moved[3] != first + timedelta(days=84)  # session 3 moved into its window after the new session 2
    assert 28 <= (moved[3] - moved[2]).days <= 42
    session3 = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Session 3"))
    expect(session3).to_contain_text(f"{moved[3]:%A} {moved[3].day} {moved[3]:%B %Y}")
