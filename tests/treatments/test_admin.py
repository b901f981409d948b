"""Staff editing a treatment: mistakes are explained, never a server error."""

import pytest
from django.urls import reverse

from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PractitionerFactory, RoomFactory
from tests.treatments.helpers import form_data
from treatments.models import Treatment

pytestmark = pytest.mark.django_db


def submit(admin_client, **changes):
    treatment = Treatment.objects.get(slug="microneedling")
    url = reverse("admin:treatments_treatment_change", args=[treatment.pk])
    data = form_data(admin_client.get(url).content.decode(), "treatment_form")
    return admin_client.post(url, {**data, **changes, "_save": "Save"})


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"min_days_between": "50", "max_days_between": "30"},
            "The longest gap between sessions cannot be shorter than the shortest gap (50 days).",
        ),
        ({"sessions_in_series": "0"}, "A series needs at least one session."),
        ({"session_minutes": "2"}, "A session must be at least 5 minutes long."),
    ],
)
def test_impossible_booking_settings_are_refused_with_a_reason(admin_client, changes, message):
    response = submit(admin_client, **changes)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Treatment.objects.get(slug="microneedling").sessions_in_series == 4


def test_every_explainer_item_is_edited_inline_on_the_treatment(admin_client):
    treatment = Treatment.objects.get(slug="microneedling")
    html = admin_client.get(reverse("admin:treatments_treatment_change", args=[treatment.pk])).content.decode()

    for prefix in ["benefits", "steps", "faqs", "images"]:
        assert f'name="{prefix}-TOTAL_FORMS"' in html
    assert 'name="series_explanation"' in html


def save_peel(admin_client, **changes):
    treatment = Treatment.objects.get(slug="chemical-peel")
    url = reverse("admin:treatments_treatment_change", args=[treatment.pk])
    data = form_data(admin_client.get(url).content.decode(), "treatment_form")
    return admin_client.post(url, {**data, **changes, "_save": "Save"}, follow=True)


def test_saving_a_published_treatment_nobody_can_book_warns_and_says_what_is_missing(admin_client):
    html = save_peel(admin_client).content.decode()

    assert "“Chemical peel” is published but patients cannot book it online yet" in html
    assert "no active practitioner performs it" in html
    assert "it needs a room and no active room is linked to it" in html


def test_the_warning_names_only_what_is_still_missing(admin_client):
    peel = Treatment.objects.get(slug="chemical-peel")
    PractitionerFactory(treatments=[peel], hours=[])
    RoomFactory(treatments=[peel])

    html = save_peel(admin_client).content.decode()

    assert "none of its practitioners has working hours" in html
    assert "no active practitioner performs it" not in html
    assert "no active room" not in html


def test_a_bookable_or_unpublished_treatment_saves_without_a_warning(admin_client):
    peel = Treatment.objects.get(slug="chemical-peel")
    PractitionerFactory(treatments=[peel])
    RoomFactory(treatments=[peel])
    assert "cannot book it online" not in save_peel(admin_client).content.decode()

    Treatment.objects.filter(slug="microneedling").update(is_published=False)
    microneedling = Treatment.objects.get(slug="microneedling")
    url = reverse("admin:treatments_treatment_change", args=[microneedling.pk])
    data = form_data(admin_client.get(url).content.decode(), "treatment_form")
    data.pop("is_published", None)
    html = admin_client.post(url, {**data, "_save": "Save"}, follow=True).content.decode()
    assert "cannot book it online" not in html


def test_changelist_shows_and_filters_which_treatments_can_be_booked(admin_client):
    peel = Treatment.objects.get(slug="chemical-peel")
    PractitionerFactory(treatments=[peel])
    RoomFactory(treatments=[peel])
    url = reverse("admin:treatments_treatment_changelist")

    page = admin_client.get(url).content.decode()
    bookable = admin_client.get(url, {"bookable": "yes"}).context["cl"].result_list
    unbookable = admin_client.get(url, {"bookable": "no"}).context["cl"].result_list

    assert "Can be booked online" in page and "£95 per session, £255 for 3 sessions" in page
    assert [t.slug for t in bookable] == ["chemical-peel"]
    assert [t.slug for t in unbookable] == ["microneedling"]


def test_a_negative_price_is_refused_with_a_reason(admin_client):
    response = submit(admin_client, price_per_session="-5")

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()


def test_staff_choose_which_safety_questions_a_treatment_asks(admin_client):
    treatment = Treatment.objects.get(slug="microneedling")
    url = reverse("admin:treatments_treatment_change", args=[treatment.pk])
    data = form_data(admin_client.get(url).content.decode(), "treatment_form")
    assert len(data["safety_questions"]) == len(QUESTIONS)  # never chosen: every question, all ticked

    admin_client.post(url, {**data, "safety_questions": ["pregnant", "keloid"], "_save": "Save"})

    assert Treatment.objects.get(pk=treatment.pk).safety_questions == ["pregnant", "keloid"]


def test_a_consultation_first_is_chosen_in_the_admin_and_a_wrong_one_explained(admin_client):
    treatment = Treatment.objects.get(slug="microneedling")
    peel = Treatment.objects.get(slug="chemical-peel")  # a series, not a single visit
    url = reverse("admin:treatments_treatment_change", args=[treatment.pk])
    data = form_data(admin_client.get(url).content.decode(), "treatment_form")

    series_page = admin_client.post(url, {**data, "prerequisite": peel.pk, "_save": "Save"})
    itself = admin_client.post(url, {**data, "prerequisite": treatment.pk, "_save": "Save"})
    peel.sessions_in_series = 1
    peel.save()
    saved = admin_client.post(url, {**data, "prerequisite": peel.pk, "prerequisite_days_before": "2", "_save": "Save"})

    assert "is a series: choose a single-visit consultation" in series_page.content.decode()
    assert "A treatment cannot be its own consultation." in itself.content.decode()
    assert saved.status_code == 302
    treatment.refresh_from_db()
    assert (treatment.prerequisite, treatment.prerequisite_days_before) == (peel, 2)
