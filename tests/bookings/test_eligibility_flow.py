"""Eligibility in the patient's booking flow: dated answers, and the calendar that starts later and says why."""

import pytest

from bookings.models import Series
from tests.bookings.factories import eligibility_rules, local
from tests.bookings.patient_fixtures import (  # noqa: F401
    details,
    frozen,
    practitioner,
    time_buttons,
    treatment,
)
from tests.bookings.test_flow import DETAILS, START, reach_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(treatment):
    return eligibility_rules(treatment)


def test_a_recent_peel_sends_the_patient_back_to_a_calendar_that_starts_later_and_says_why(
    client, practitioner, rules
):
    reach_details(client, practitioner)  # first session Tuesday 2 March

    response = client.post(DETAILS, details(answer_peel_laser="yes", date_peel_laser="2027-02-25"))
    calendar = client.get(response["Location"])

    assert response.status_code == 302 and response["Location"] == START
    html = calendar.content.decode()
    assert "Times from Thursday 11 March 2027" in html
    assert "From Thursday 11 March 2027: two weeks after a chemical peel, laser or IPL in the area." in html
    buttons = time_buttons(html)
    assert buttons and all("March" in button for button in buttons)
    assert "Thursday 11 March, 09:00 with Dr Ana Silva" in buttons  # the first day shown is the earliest
    assert not any(f" {day} March," in button for button in buttons for day in range(2, 11))
    assert not Series.objects.exists()
    assert client.get(DETAILS).status_code in (200, 302)  # what was typed is kept in the draft


def test_the_calendar_says_when_the_earliest_day_is_beyond_online_booking(client, practitioner, rules):
    reach_details(client, practitioner)

    client.post(DETAILS, details(answer_isotretinoin="yes", date_isotretinoin="2027-02-01"))
    html = client.get(START).content.decode()

    assert "Times from Sunday 1 August 2027" in html
    assert "six months after your last isotretinoin dose" in html
    assert "further ahead than we take online bookings" in html
    assert not time_buttons(html)


def test_an_answer_a_practitioner_decides_is_refused_on_the_details_page(client, practitioner, rules):
    reach_details(client, practitioner)

    response = client.post(DETAILS, details(answer_pregnant="yes"))

    assert response.status_code == 400
    assert "please call us to book" in response.content.decode()
    assert not Series.objects.exists()


@pytest.mark.parametrize(("changes", "message"), [
    ({"answer_isotretinoin": "yes"}, "please give the date"),
    ({"answer_isotretinoin": "yes", "date_isotretinoin": "2027-03-05"}, "Give a date in the past"),
    ({"answer_isotretinoin": "yes", "date_isotretinoin": "2025-01-01"}, "please answer No to it"),
    ({"answer_toxin": "yes", "date_toxin": "not a date"}, "Give the date as day, month and year"),
    ({"answer_active_skin_condition": "yes", "date_active_skin_condition": "2027-02-01"}, "from today onwards"),
])
def test_dates_with_a_yes_are_checked_with_a_sentence(client, practitioner, rules, changes, message):
    reach_details(client, practitioner)

    response = client.post(DETAILS, details(**changes))

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_date_given_with_a_no_is_ignored_and_the_series_records_the_rules_version(client, practitioner, rules):
    reach_details(client, practitioner)

    response = client.post(DETAILS, details(date_isotretinoin="2027-02-01"))

    assert response.status_code == 302
    series = Series.objects.get()
    assert series.eligibility_rules == rules and series.questionnaires.get().dates == {}


def test_the_api_refuses_a_first_session_too_soon_with_the_code_the_date_and_the_reasons(client, practitioner, rules):
    from tests.bookings.test_api import body, nothing_written, post

    too_soon = post(client, body(answers={**body()["answers"], "toxin": True}, dates={"toxin": "2027-02-27"}))
    call_us = post(client, body(answers={**body()["answers"], "blood_thinners": True}))
    bad_date = post(client, body(answers={**body()["answers"], "toxin": True}, dates={"toxin": 3}))

    assert too_soon.status_code == 400
    assert too_soon.json()["code"] == "not_eligible_yet"
    assert too_soon.json()["earliest"] == "2027-03-13"
    assert "two weeks after toxin injections" in too_soon.json()["reasons"][0]
    assert (call_us.status_code, call_us.json()["code"]) == (400, "call_us")
    assert bad_date.status_code == 400 and "dates.toxin" in bad_date.json()["errors"]
    assert nothing_written()
