"""Bad dates in the diary's URL are named in a sentence; the page still shows today."""

import pytest
from django.urls import reverse

from tests.bookings.staff_fixtures import *


@pytest.mark.parametrize("view", ["staff:day", "staff:week"])
@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("2026-02-30", "“2026-02-30” is not a date (use YYYY-MM-DD, like 2027-03-01): showing today."),
        ("yesterday", "“yesterday” is not a date (use YYYY-MM-DD, like 2027-03-01): showing today."),
        ("9999-01-01", "Choose a date within ten years of today: showing today."),
    ],
)
def test_a_bad_date_is_named_and_today_is_shown(client, front_desk, practitioner, view, value, sentence):
    client.force_login(front_desk)

    response = client.get(reverse(view), {"date": value})

    page = response.content.decode()
    assert response.status_code == 200
    assert sentence.replace("“", "&ldquo;") in page or sentence in page
    assert "1 March" in page or "1 Mar" in page  # today (the fixtures' frozen Monday)


def test_a_good_date_has_no_sentence(client, front_desk, practitioner):
    client.force_login(front_desk)

    page = client.get(reverse("staff:day"), {"date": "2027-03-02"}).content.decode()

    assert "is not a date" not in page
    assert "Tuesday 2 March 2027" in page
