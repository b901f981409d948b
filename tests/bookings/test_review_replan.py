"""Step 2 re-plans: a choice for one session re-places the later ones, a session that cannot be
placed shows its nearest free times, and a time lost to someone else is named with its replacement."""

import re

from django.urls import reverse

from bookings.models import Series
from tests.bookings.factories import AppointmentFactory, TimeOffFactory, local
from tests.bookings.patient_fixtures import SLUG, details, frozen, key, practitioner, treatment  # noqa: F401

START = reverse("bookings:book", kwargs={"slug": SLUG})
REVIEW = reverse("bookings:review", kwargs={"slug": SLUG})
DETAILS = reverse("bookings:details", kwargs={"slug": SLUG})


def draft_starts(client) -> list[str]:
    return [slot["start"] for slot in client.session["booking:skin-course"]["slots"]]


def only_ten_oclock_on_30_march(practitioner):
    """Tuesday 30 March is full but for 10:00, so session 2's alternatives fall on later Tuesdays."""
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 30, 9), end=local(2027, 3, 30, 10))
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 30, 11), end=local(2027, 3, 30, 17))


def test_choosing_an_alternative_replans_the_later_sessions(client, practitioner):
    only_ten_oclock_on_30_march(practitioner)
    client.post(START, {"slot": key(local(2027, 3, 2, 10), practitioner)})
    offered = client.get(REVIEW).content.decode()
    assert key(local(2027, 4, 13, 10), practitioner) in offered  # an alternative 42 days after session 1

    # Session 3 still shows the suggestion made for the old session 2 (27 April): 14 days after 13 April.
    response = client.post(REVIEW, {"session_2": key(local(2027, 4, 13, 10), practitioner),
                                    "session_3": key(local(2027, 4, 27, 10), practitioner)})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Session 3 Session 3" not in html
    changes = re.search(r'id="plan-changes".*?</div>', html, re.S).group(0)
    assert "Session 3" in changes and "Tuesday 11 May, 10:00 with Dr Ana Silva" in changes
    assert f'value="{key(local(2027, 5, 11, 10), practitioner)}" checked' in html
    # The page now shows a consistent plan: continuing with it goes on to step 3.
    again = client.post(REVIEW, {"session_2": key(local(2027, 4, 13, 10), practitioner),
                                 "session_3": key(local(2027, 5, 11, 10), practitioner)})
    assert again.url == DETAILS
    assert draft_starts(client)[1:] == [local(2027, 4, 13, 10).isoformat(), local(2027, 5, 11, 10).isoformat()]


def test_a_session_that_cannot_be_placed_shows_its_nearest_free_times(client, practitioner):
    client.post(START, {"slot": key(local(2027, 3, 2, 10), practitioner)})
    # Meanwhile the practitioner is away for all of session 2's window (30 March to 13 April).
    TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 29), end=local(2027, 4, 14))

    html = client.get(REVIEW).content.decode()

    assert "We could not find a free time for session 2" in html
    assert "Wednesday 14 April, 09:00 with Dr Ana Silva" in html  # the nearest free time after the window
    assert "Choose another first session" in html


def test_a_time_lost_at_booking_says_what_changed(client, practitioner):
    client.post(START, {"slot": key(local(2027, 3, 2, 10), practitioner)})
    client.post(REVIEW, {"session_2": key(local(2027, 3, 30, 10), practitioner),
                         "session_3": key(local(2027, 4, 27, 10), practitioner)})
    AppointmentFactory(practitioner=practitioner, start=local(2027, 3, 30, 10), end=local(2027, 3, 30, 11))

    assert client.post(DETAILS, details()).url == REVIEW
    html = client.get(REVIEW).content.decode()

    changes = re.search(r'id="plan-changes".*?</div>', html, re.S).group(0)
    assert "Tuesday 30 March, 10:00 with Dr Ana Silva" in changes  # what was lost
    assert "Tuesday 30 March, 09:00 with Dr Ana Silva" in changes  # what replaces it
    assert f'value="{key(local(2027, 3, 30, 9), practitioner)}" checked' in html
    assert not Series.objects.filter(patient__name="Jo Bloggs").exists()


def test_a_missing_choice_names_its_session_once(client, practitioner):
    client.post(START, {"slot": key(local(2027, 3, 2, 10), practitioner)})

    response = client.post(REVIEW, {"session_2": key(local(2027, 3, 30, 10), practitioner)})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Session 3: Please choose a time." in html and "Session 3 Session 3" not in html
