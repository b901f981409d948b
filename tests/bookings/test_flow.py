"""The patient booking flow, step by step, with the Django test client."""

import pytest
from django.urls import reverse

from bookings.models import Appointment, Patient, Questionnaire, Series
from bookings.questionnaire import WORDING_VERSION
from tests.bookings.factories import AppointmentFactory, local
from tests.bookings.patient_fixtures import (  # noqa: F401
    SLUG,
    details,
    frozen,
    key,
    practitioner,
    time_buttons,
    treatment,
)

START = reverse("bookings:book", kwargs={"slug": SLUG})
REVIEW = reverse("bookings:review", kwargs={"slug": SLUG})
DETAILS = reverse("bookings:details", kwargs={"slug": SLUG})
DONE = reverse("bookings:done", kwargs={"slug": SLUG})


def pick_first(client, practitioner, start=None):
    return client.post(START, {"slot": key(start or local(2027, 3, 2, 10), practitioner)})


def review_choices(practitioner) -> dict:
    # Planned 28 days apart at the same wall-clock time, across the change to summer time.
    return {"session_2": key(local(2027, 3, 30, 10), practitioner),
            "session_3": key(local(2027, 4, 27, 10), practitioner)}


def reach_details(client, practitioner):
    pick_first(client, practitioner)
    return client.post(REVIEW, review_choices(practitioner))


def test_calendar_lists_free_slots_with_accessible_names(client, practitioner):
    response = client.get(START)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Tuesday 2 March, 09:00 with Dr Ana Silva" in time_buttons(html)  # the first free day, chosen
    assert 'href="?month=2027-03&amp;day=2027-03-02" data-calendar-nav="day" aria-label="Tuesday 2 March: free times" aria-current="date"' in html
    assert "Monday 1 March: free times" not in html  # inside the minimum notice: not a link
    assert "Saturday 6 March: free times" not in html  # the practitioner does not work weekends
    assert "<h1" in html and html.count("<h1") == 1
    assert "<table" in html and '<th scope="col"><abbr title="Monday">Mo</abbr></th>' in html


def test_calendar_moves_by_month_and_day_and_ignores_bad_values(client, practitioner):
    other_day = client.get(START, {"month": "2027-03", "day": "2027-03-08"}).content.decode()
    next_month = client.get(START, {"month": "2027-04"}).content.decode()
    old_link = client.get(START, {"week": "2027-03-08"}).content.decode()
    nonsense = client.get(START, {"month": "13-2027", "day": "not-a-date", "practitioner": "abc"})

    assert "Monday 8 March, 09:00 with Dr Ana Silva" in time_buttons(other_day)
    assert "April 2027" in next_month and "Thursday 1 April, 09:00 with Dr Ana Silva" in time_buttons(next_month)
    assert "Monday 8 March, 09:00 with Dr Ana Silva" in time_buttons(old_link)  # links of the week calendar
    assert nonsense.status_code == 200
    assert "Tuesday 2 March, 09:00 with Dr Ana Silva" in time_buttons(nonsense.content.decode())


def test_calendar_refuses_a_time_that_is_not_free(client, practitioner):
    response = client.post(START, {"slot": key(local(2027, 3, 2, 10, 15), practitioner)})

    assert response.status_code == 400
    assert "That time is no longer free" in response.content.decode()
    assert not client.session.get("booking:skin-course")


def test_review_proposes_the_series_at_the_same_local_time(client, practitioner):
    pick_first(client, practitioner)

    response = client.get(REVIEW)

    html = response.content.decode()
    assert "Tuesday 2 March, 10:00 with Dr Ana Silva" in html
    assert "Tuesday 30 March, 10:00 with Dr Ana Silva" in html  # summer time, still 10:00
    assert "Tuesday 27 April, 10:00 with Dr Ana Silva" in html


def test_review_refuses_a_time_outside_the_offered_ones(client, practitioner):
    pick_first(client, practitioner)

    response = client.post(REVIEW, {**review_choices(practitioner), "session_2": "20270330T0900-999"})

    assert response.status_code == 400
    assert "That time is no longer free" in response.content.decode()


def test_review_without_a_first_session_goes_back_to_the_calendar(client, practitioner):
    assert client.get(REVIEW).url == START
    assert client.get(DETAILS).url == START


def test_whole_flow_books_the_series_with_questionnaire_and_consents(
    client, practitioner, django_capture_on_commit_callbacks, mailoutbox
):
    reach_details(client, practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DETAILS, details())

    assert response.url == DONE
    series = Series.objects.get()
    starts = [a.start for a in series.appointments.order_by("session_number")]
    assert starts == [local(2027, 3, 2, 10), local(2027, 3, 30, 10), local(2027, 4, 27, 10)]
    questionnaire = Questionnaire.objects.get()
    assert questionnaire.consent_treatment and questionnaire.consent_privacy
    assert questionnaire.wording_version == WORDING_VERSION
    assert questionnaire.submitted_at is not None
    assert not series.needs_review
    assert len(mailoutbox) == 1
    page = client.get(DONE).content.decode()
    assert "Your Microneedling series is booked" in page
    assert "/bookings/manage/" in page


def test_contraindicating_answer_marks_the_series_for_review_and_says_so(client, practitioner):
    reach_details(client, practitioner)

    client.post(DETAILS, details(answer_pregnant="yes"))

    assert Series.objects.get().needs_review
    page = client.get(DONE).content.decode()
    assert "A practitioner will review your answers" in page
    assert "Are you pregnant or breastfeeding?" in page


BAD_DETAILS = [
    ("name", "", "Enter your full name."),
    ("name", "   ", "Enter your full name."),
    ("email", "", "Enter your email address."),
    ("email", "not-an-email", "Enter an email address like name@example.com."),
    ("phone", "", "Enter a phone number so we can reach you"),
    ("phone", "call me", "Enter a phone number we can call"),
    ("phone", "123", "Enter a phone number we can call"),
    ("answer_pregnant", None, "Please answer yes or no."),
    ("answer_keloid", "maybe", "Please answer yes or no."),
    ("consent_treatment", None, "Please confirm you understand and agree to the treatment."),
    ("consent_privacy", None, "Please agree to the privacy notice"),
]



@pytest.mark.parametrize(("field", "value", "message"), BAD_DETAILS)
def test_bad_details_show_a_clear_error_and_write_nothing(client, practitioner, field, value, message):
    reach_details(client, practitioner)

    response = client.post(DETAILS, details(**{field: value}))

    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "There is a problem" in html and "<title>Error:" in html
    assert 'aria-invalid="true"' in html or "is-invalid" in html
    assert not Series.objects.exists() and not Patient.objects.exists()


def test_going_back_keeps_choices_and_what_was_typed(client, practitioner):
    reach_details(client, practitioner)
    client.post(DETAILS, details(email="broken"))

    review = client.get(REVIEW).content.decode()
    again = client.get(DETAILS).content.decode()

    assert f'value="{review_choices(practitioner)["session_2"]}" checked' in review
    assert 'value="Jo Bloggs"' in again and 'value="broken"' in again


def test_a_time_taken_meanwhile_offers_fresh_times_and_keeps_details(client, practitioner):
    reach_details(client, practitioner)
    AppointmentFactory(practitioner=practitioner, session_number=1,
                       start=local(2027, 3, 30, 10), end=local(2027, 3, 30, 11))

    response = client.post(DETAILS, details())

    assert response.url == REVIEW
    review = client.get(REVIEW).content.decode()
    assert "That time was just taken" in review
    assert Series.objects.count() == 1  # only the factory's own series
    assert Appointment.objects.count() == 1
    assert 'value="Jo Bloggs"' in client.get(DETAILS).content.decode()


def test_a_first_session_taken_meanwhile_returns_to_its_week(client, practitioner):
    pick_first(client, practitioner)
    AppointmentFactory(practitioner=practitioner, session_number=1,
                       start=local(2027, 3, 2, 10), end=local(2027, 3, 2, 11))

    response = client.get(REVIEW)

    assert response.url == f"{START}?month=2027-03&day=2027-03-02"
    assert "That time was just taken" in client.get(response.url).content.decode()


def test_unknown_treatment_is_a_404(client, db):
    assert client.get("/book/no-such-thing/").status_code == 404


def test_calendar_filters_by_practitioner(client, practitioner, treatment):
    from tests.bookings.factories import PractitionerFactory

    other = PractitionerFactory(name="Dr Ben Okafor", treatments=[treatment])

    everyone = client.get(START).content.decode()
    only_ben = client.get(START, {"practitioner": other.pk}).content.decode()

    # One button per time for any practitioner: 09:00 to 16:00 every half hour, not twice that.
    assert everyone.count('name="slot"') == 15
    assert "Tuesday 2 March, 09:00 with Dr Ana Silva" in time_buttons(everyone)
    assert only_ben.count('name="slot"') == 15
    assert "Tuesday 2 March, 09:00 with Dr Ben Okafor" in time_buttons(only_ben) and not any("Dr Ana Silva" in name for name in time_buttons(only_ben))
    assert f'<option value="{other.pk}" selected>Dr Ben Okafor</option>' in only_ben


def test_calendar_stops_at_the_booking_horizon(client, practitioner):
    response = client.get(START, {"month": "2030-01"})

    html = response.content.decode()
    assert '<h2 class="h5 mb-0" id="calendar-caption" tabindex="-1">May 2027</h2>' in html  # 90 days: 30 May
    assert "Next month" not in html and "Previous month, April 2027" in html
    assert "Friday 28 May: free times" in html and "Monday 31 May: free times" not in html


def test_dates_name_the_year_only_when_it_is_not_this_year(frozen):
    from datetime import date

    from bookings.forms import day_label

    assert day_label(date(2027, 3, 2)) == "Tuesday 2 March"
    assert day_label(date(2028, 1, 4)) == "Tuesday 4 January 2028"


@pytest.mark.parametrize("session_3", [None, "", "garbage", "20270427T0900-999999999999999999999"])
def test_review_refuses_a_missing_or_made_up_session_3(client, practitioner, session_3):
    pick_first(client, practitioner)
    choices = {**review_choices(practitioner), "session_3": session_3}

    response = client.post(REVIEW, {name: value for name, value in choices.items() if value is not None})

    assert response.status_code == 400
    assert "Please choose a time." in response.content.decode() or "no longer free" in response.content.decode()
    assert len(client.session["booking:skin-course"]["slots"]) == 1


def test_choosing_another_first_session_keeps_what_was_typed(client, practitioner):
    reach_details(client, practitioner)
    client.post(DETAILS, details(phone=""))

    pick_first(client, practitioner, start=local(2027, 3, 3, 11))
    client.post(REVIEW, {"session_2": key(local(2027, 3, 31, 11), practitioner),
                         "session_3": key(local(2027, 4, 28, 11), practitioner)})
    page = client.get(DETAILS).content.decode()

    assert "Wednesday 3 March, 11:00 with Dr Ana Silva" in page
    assert 'value="Jo Bloggs"' in page and 'value="jo@example.com"' in page
