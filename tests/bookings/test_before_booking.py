"""Everything a patient needs to decide is on the page before "Book my N sessions"."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings import selectors
from bookings.templatetags.booking_info import cancellation_policy, hours_in_words
from tests.bookings.factories import PractitionerFactory, RoomFactory, clinic_rules
from tests.bookings.test_treatment_wording import put_in_draft
from tests.bookings.patient_fixtures import frozen  # noqa: F401
from tests.treatments.helpers import visible_text
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

PEEL = "chemical-peel"


@pytest.fixture
def peel(frozen):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48, horizon_days=90)
    treatment = Treatment.objects.get(slug=PEEL)
    PractitionerFactory(treatments=[treatment])
    RoomFactory(treatments=[treatment])
    return treatment


def plan_slots(peel):
    first = selectors.available_slots(treatment=peel, start_date=date(2027, 3, 2), days=7)[0]
    return selectors.series_plan(treatment=peel, first=first).slots


def test_details_step_shows_price_policy_preparation_and_privacy_before_the_book_button(client, peel):
    put_in_draft(client, PEEL, plan_slots(peel))

    html = client.get(reverse("bookings:details", kwargs={"slug": PEEL})).content.decode()
    text = visible_text(html)

    button = text.index("Book my 3 sessions")
    for fact in [
        "£95 per session, £255 for 3 sessions",
        "About 45 minutes",
        "until 48 hours (2 days) before it starts",
        "For 5 to 7 days before a peel, stop retinoid creams",
        "Read the privacy notice",
    ]:
        assert -1 < text.find(fact) < button, fact
    assert html.count(f'href="{reverse("privacy")}"') >= 3  # the consent, the block and the footer


def test_consent_to_privacy_links_to_the_notice(client, peel):
    put_in_draft(client, PEEL, plan_slots(peel))

    html = client.get(reverse("bookings:details", kwargs={"slug": PEEL})).content.decode()

    label = html[html.index('for="id_consent_privacy"'):]
    label = label[: label.index("</label>")]
    assert f'<a href="{reverse("privacy")}"' in label


@pytest.mark.parametrize("step", ["book", "review"])
def test_first_two_steps_show_the_price_and_the_policy(client, peel, step):
    put_in_draft(client, PEEL, plan_slots(peel)[:1])

    text = visible_text(client.get(reverse(f"bookings:{step}", kwargs={"slug": PEEL})).content.decode())

    assert "£95 per session, £255 for 3 sessions" in text
    assert "until 48 hours (2 days) before it starts" in text
    assert "For 5 to 7 days before a peel" in text
    assert "read the privacy notice" in text


def test_the_policy_follows_the_clinics_cutoff(client, peel):
    clinic_rules(cancellation_cutoff_hours=24)

    text = visible_text(client.get(reverse("bookings:book", kwargs={"slug": PEEL})).content.decode())

    assert "until 24 hours before it starts" in text
    assert "48 hours" not in text


def test_a_treatment_without_a_price_says_to_ask(client, peel):
    Treatment.objects.filter(pk=peel.pk).update(price_per_session=None, price_per_series=None)
    put_in_draft(client, PEEL, plan_slots(peel))

    text = visible_text(client.get(reverse("bookings:details", kwargs={"slug": PEEL})).content.decode())

    assert "Please ask us: call +44 20 7946 0321" in text
    assert "£" not in text


@pytest.mark.parametrize(
    "hours, words",
    [(48, "48 hours (2 days)"), (72, "72 hours (3 days)"), (24, "24 hours"), (36, "36 hours"), (1, "1 hour")],
)
def test_cutoff_in_words(hours, words):
    assert hours_in_words(hours) == words


def test_no_cutoff_says_until_the_session_starts():
    assert "until it starts" in cancellation_policy(0)


@pytest.mark.parametrize(
    "per_session, per_series, sessions, shown",
    [
        (Decimal("180"), None, 4, "£180 per session, £720 for 4 sessions"),
        (Decimal("95"), Decimal("255"), 3, "£95 per session, £255 for 3 sessions"),
        (Decimal("99.50"), None, 2, "£99.50 per session, £199 for 2 sessions"),
        (Decimal("1250"), None, 1, "£1,250 per session"),
        (None, Decimal("600"), 3, "£600 for 3 sessions"),
        (None, None, 3, ""),
    ],
)
def test_price_display(per_session, per_series, sessions, shown):
    treatment = Treatment(
        price_per_session=per_session, price_per_series=per_series, sessions_in_series=sessions
    )

    assert treatment.price_display == shown


def test_price_follows_the_currency_setting(settings):
    treatment = Treatment(price_per_session=Decimal("180"), sessions_in_series=4)

    settings.CURRENCY = "EUR"
    assert treatment.price_display == "€180 per session, €720 for 4 sessions"
    settings.CURRENCY = "CHF"
    assert treatment.price_display == "CHF 180 per session, CHF 720 for 4 sessions"


def test_home_page_has_a_book_button_and_the_price_for_each_treatment(client):
    html = client.get("/").content.decode()

    for slug, name, price in [
        ("microneedling", "microneedling", "£180 per session, £720 for 4 sessions"),
        (PEEL, "chemical peel", "£95 per session, £255 for 3 sessions"),
    ]:
        assert f'href="/book/{slug}/">Book {name}</a>' in html
        assert price in html
    assert 'href="#treatments-heading">Book a treatment</a>' in html


def test_treatment_page_has_a_book_button_price_and_preparation(client):
    text = visible_text(client.get(f"/treatments/{PEEL}/").content.decode())
    html = client.get(f"/treatments/{PEEL}/").content.decode()

    assert f'href="/book/{PEEL}/"' in html
    assert "£95 per session, £255 for 3 sessions" in text
    assert "For 5 to 7 days before a peel" in text


def test_privacy_notice_says_what_why_how_long_who_and_how_to_ask(client, settings):
    settings.PATIENT_RETENTION_DAYS = 3650
    settings.MANAGE_LINK_VALID_DAYS = 30

    response = client.get(reverse("privacy"))
    text = visible_text(response.content.decode())

    assert response.status_code == 200
    for words in [
        "name, e-mail address and phone number",  # what
        "your answers to the safety questions",
        "To plan and deliver the treatment",  # why
        "about 10 years (3,650 days) after your last appointment",  # how long, from the setting
        "stops working 30 days after your series ends",
        "the practitioners who treat you",  # who sees the health answers
        "not the answers themselves",  # the front desk sees the review flag only (test_who_sees_what)
        "ask for a copy",  # a copy or deletion
        "deleted",
        settings.CLINIC_EMAIL,
    ]:
        assert words in text, words


def test_every_page_links_to_the_privacy_notice_in_its_footer(client):
    for path in ["/", "/treatments/", f"/treatments/{PEEL}/faq/"]:
        assert f'<a href="{reverse("privacy")}">Privacy notice</a>' in client.get(path).content.decode()
