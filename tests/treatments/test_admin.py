"""Staff editing a treatment: mistakes are explained, never a server error."""

import pytest
from django.urls import reverse

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
