"""Before a session the patient's new answers run through the same engine as at booking (issue 13 §1)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import EligibilityFlag, Questionnaire
from bookings.questionnaire import QUESTIONS
from staff.selectors import worklist
from tests.bookings.factories import eligibility_rules, local
from tests.bookings.patient_fixtures import (  # noqa: F401
    frozen,
    manage_url,
    practitioner,
    series,
    time_buttons,
    treatment,
)
from tests.bookings.staff_fixtures import front_desk  # noqa: F401
from tests.bookings.test_manage_answers import answers_url, days_before_session_2  # noqa: F401

NO = {f"answer_{question.key}": "no" for question in QUESTIONS}


@pytest.fixture
def rules(treatment):
    return eligibility_rules(treatment)


def tell(client, manage_url, number=2, **answers):
    return client.post(answers_url(manage_url, number), {**NO, **answers, "answer": "changed", "new_answers": "1"})


def test_a_new_answer_that_rules_the_session_out_proposes_the_first_eligible_time_and_tells_the_front_desk(
    client, series, manage_url, rules, days_before_session_2, front_desk
):
    # Sunday 4 April: toxin on 1 April -> from Thursday 15 April; session 2 is Tuesday 6 April.
    response = tell(client, manage_url, answer_toxin="yes", date_toxin="2027-04-01")

    html = response.content.decode()
    second = series.appointments.get(session_number=2)
    assert response.status_code == 200
    assert "From Thursday 15 April 2027: two weeks after toxin injections." in html
    assert "The first time we can offer from Thursday 15 April is" in html
    assert second.needs_review and second.start == local(2027, 4, 6, 10)  # nothing moved without the patient
    assert Questionnaire.objects.filter(series=series).count() == 2  # the new answers are kept
    flag = EligibilityFlag.objects.get()
    assert (flag.appointment, flag.earliest.isoformat()) == (second, "2027-04-15")
    assert [f.appointment for f in worklist(now=local(2027, 4, 4, 9)).ineligible] == [second]
    client.force_login(front_desk)
    assert "New safety answers rule out a session (1)" in client.get(reverse("staff:worklist")).content.decode()


def test_the_move_page_then_offers_nothing_before_the_eligible_day(
    client, series, manage_url, rules, days_before_session_2
):
    tell(client, manage_url, answer_toxin="yes", date_toxin="2027-04-01")

    html = client.get(f"{manage_url}sessions/2/move/").content.decode()

    buttons = time_buttons(html)
    assert buttons
    assert not any(f" {day} April," in button for button in buttons for day in range(4, 15))


def test_answers_that_still_allow_the_session_keep_it_and_hold_it_for_review(
    client, series, manage_url, rules, days_before_session_2
):
    response = tell(client, manage_url, answer_toxin="yes", date_toxin="2027-03-01")

    assert response.status_code == 302
    assert series.appointments.get(session_number=2).needs_review
    assert not EligibilityFlag.objects.exists()


def test_a_call_us_answer_tells_the_patient_and_the_front_desk(client, series, manage_url, rules, days_before_session_2):
    response = tell(client, manage_url, answer_pregnant="yes")

    assert "please call us to book" in response.content.decode()
    assert EligibilityFlag.objects.get().outcome == "call_us"


def test_new_answers_are_checked_like_at_booking(client, series, manage_url, rules, days_before_session_2):
    response = tell(client, manage_url, answer_toxin="yes")

    assert response.status_code == 400
    assert "please give the date" in response.content.decode()
    assert not series.appointments.get(session_number=2).needs_review


def test_no_move_puts_a_flagged_session_before_its_eligible_day_staff_included(
    client, series, manage_url, rules, days_before_session_2, front_desk
):
    """The move calendar hides the days before; the service refuses them too (a staff move, the API)."""
    from bookings import services
    from bookings.errors import BookingError
    from bookings.selectors import as_slot

    tell(client, manage_url, answer_toxin="yes", date_toxin="2027-04-01")
    second = series.appointments.get(session_number=2)
    one_day_later = as_slot(second)
    one_day_later = type(one_day_later)(
        one_day_later.start + timedelta(days=1), one_day_later.end + timedelta(days=1),
        one_day_later.practitioner_id, one_day_later.room_id,
    )

    with pytest.raises(BookingError) as refused:
        services.appointments_reschedule(moves=[(second, one_day_later)], by=front_desk, for_staff=True)

    assert refused.value.code == "not_eligible_yet"
    assert "Thursday 15 April" in str(refused.value)
    second.refresh_from_db()
    assert second.start == local(2027, 4, 6, 10)
