"""Before each session the reminder links here: one click confirms the safety answers, or flags a change."""

import pytest

from bookings import services
from tests.bookings.factories import clinic_rules, local
from tests.bookings.patient_fixtures import (  # noqa: F401
    frozen,
    manage_url,
    practitioner,
    series,
    treatment,
)


def answers_url(manage_url, number):
    return f"{manage_url}sessions/{number}/answers/"


@pytest.fixture
def days_before_session_2(frozen):
    """Sunday 4 April 2027: session 2 (Tuesday 6 April) is near enough to re-confirm its answers."""
    frozen.move_to(local(2027, 4, 4, 9))


def test_the_page_lists_the_safety_questions_and_two_buttons(client, manage_url, days_before_session_2):
    html = client.get(answers_url(manage_url, 2)).content.decode()

    assert "Before session 2: have your answers changed?" in html
    assert "Are you pregnant or breastfeeding?" in html and "blood thinners" in html
    assert 'value="unchanged"' in html and 'value="changed"' in html
    assert 'name="robots" content="noindex"' in html


def test_nothing_changed_confirms_the_session_without_flagging_it(client, series, manage_url, days_before_session_2):
    response = client.post(answers_url(manage_url, 2), {"answer": "unchanged"})

    second = series.appointments.get(session_number=2)
    assert response.status_code == 302 and response.url == manage_url
    assert second.answers_confirmed_at is not None and not second.needs_review
    assert "Safety answers confirmed." in client.get(manage_url).content.decode()


def test_something_changed_flags_only_that_session_for_review(client, series, manage_url, days_before_session_2):
    client.post(answers_url(manage_url, 2), {"answer": "changed"})

    flagged = dict(series.appointments.values_list("session_number", "needs_review"))
    assert flagged == {1: False, 2: True, 3: False}
    assert "A practitioner will review your changed answers" in client.get(manage_url).content.decode()


def test_a_later_nothing_changed_does_not_clear_a_flag(client, series, manage_url, days_before_session_2):
    client.post(answers_url(manage_url, 2), {"answer": "changed"})
    client.post(answers_url(manage_url, 2), {"answer": "unchanged"})

    assert series.appointments.get(session_number=2).needs_review


def test_a_made_up_answer_is_refused_with_a_sentence(client, series, manage_url, days_before_session_2):
    response = client.post(answers_url(manage_url, 2), {"answer": "maybe"})

    assert response.status_code == 400
    assert "Please choose one of the two buttons." in response.content.decode()
    assert series.appointments.get(session_number=2).answers_confirmed_at is None


def test_a_cancelled_session_has_nothing_to_confirm(client, series, manage_url):
    services.appointment_cancel(appointment=series.appointments.get(session_number=3))

    response = client.post(answers_url(manage_url, 3), {"answer": "unchanged"}, follow=True)

    assert "Session 3 is not booked ahead" in response.content.decode()


def test_a_tampered_link_is_refused(client, series, manage_url):
    response = client.get(answers_url(manage_url.replace(manage_url.split("/")[3], "nonsense"), 1))

    assert response.status_code == 404


def test_the_manage_page_links_each_session_to_its_answers_once_they_open(client, manage_url, frozen):
    html = client.get(manage_url).content.decode()  # Monday 1 March; sessions on 9 March, 6 April, 4 May

    assert answers_url(manage_url, 1) not in html
    assert "Confirm your safety answers for session 1 from Saturday 6 March." in html

    frozen.move_to(local(2027, 3, 6, 0))
    html = client.get(manage_url).content.decode()

    assert answers_url(manage_url, 1) in html and answers_url(manage_url, 2) not in html


def test_answers_cannot_be_re_confirmed_months_ahead(client, series, manage_url):
    page = client.get(answers_url(manage_url, 3)).content.decode()  # Monday 1 March; session 3 on 4 May
    response = client.post(answers_url(manage_url, 3), {"answer": "unchanged"}, follow=True)

    assert "You can confirm your answers for session 3 from Saturday 1 May" in page
    assert 'value="unchanged"' not in page
    assert "from Saturday 1 May" in response.content.decode()
    assert series.appointments.get(session_number=3).answers_confirmed_at is None


def test_the_clinic_chooses_how_early_re_confirmation_opens(client, series, manage_url):
    clinic_rules(answers_open_days=40)

    client.post(answers_url(manage_url, 2), {"answer": "unchanged"})

    assert series.appointments.get(session_number=2).answers_confirmed_at is not None
