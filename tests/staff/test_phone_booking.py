"""Booking a series by phone: a new caller registered from a free time in the diary, the plan accepted
in one click, the safety questions answered "no" together, another time for a session re-planning
the later ones."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse

from bookings.forms import clinic_zone
from bookings.models import Patient, Series
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PatientFactory
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for, key, local

NEW = {"name": "Noor Newcaller", "email": "noor@example.com", "phone": "07700 900303"}
PICKED = {"date": "2027-03-09", "time": "14:00"}  # Tuesday 9 March, 14:00


def picked(practitioner) -> dict:
    return {"practitioner": practitioner.pk, **PICKED}


def plan_url(patient, treatment, first) -> str:
    return reverse("staff:book_plan", args=[patient.pk, treatment.slug]) + f"?first={first}"


def proposed(page: str) -> dict:
    """The times the plan page proposes for sessions 2 onwards (the checked radio buttons)."""
    return dict(re.findall(r'name="(session_\d+)" id="[^"]+" value="([^"]+)" checked', page))


def offered(page: str, field: str) -> list[str]:
    return re.findall(rf'name="{field}" id="[^"]+" value="([^"]+)"', page)


def start_of(slot_key: str) -> datetime:
    return datetime.strptime(slot_key.split("-")[0], "%Y%m%dT%H%M").replace(tzinfo=ZoneInfo("UTC"))


def days_apart(earlier: str, later: str) -> int:
    tz = clinic_zone()
    return (start_of(later).astimezone(tz).date() - start_of(earlier).astimezone(tz).date()).days


def consents(**answers) -> dict:
    return {"consent_treatment": "on", "consent_privacy": "on", **answers}


# --- A new caller, from a free time in the diary ---------------------------------------------------------


def test_the_new_patient_link_keeps_the_time_picked_in_the_diary(client, front_desk, practitioner):
    client.force_login(front_desk)

    page = client.get(reverse("staff:patients"), {"q": "nobody", **picked(practitioner)}).content.decode()

    new = reverse("staff:patient_new") + f"?practitioner={practitioner.pk}&amp;date=2027-03-09&amp;time=14%3A00"
    assert page.count(f'href="{new}"') == 2  # the header button and "Register them" under no results


def test_arriving_from_a_free_time_in_the_diary_is_not_an_empty_search(client, front_desk, practitioner):
    client.force_login(front_desk)

    response = client.get(reverse("staff:patients"), picked(practitioner))

    assert response.status_code == 200
    assert "Booking the free time picked in the diary, <strong>Tuesday 9 March, 14:00 with Dr Ana Silva</strong>" in (
        response.content.decode()
    )
    assert "Type a name, e-mail or phone number to search." not in response.content.decode()


def test_registering_from_a_diary_time_goes_straight_to_the_series_planned_there(
    client, front_desk, treatment, practitioner
):
    client.force_login(front_desk)
    form = client.get(reverse("staff:patient_new"), picked(practitioner)).content.decode()
    assert '<input type="hidden" name="time" value="14:00"' in form
    assert "Tuesday 9 March, 14:00 with Dr Ana Silva" in form  # the time being booked, in words

    response = client.post(
        reverse("staff:patient_new"), {**NEW, **picked(practitioner), "treatment": treatment.slug}
    )

    patient = Patient.objects.get(email="noor@example.com")
    assert response.status_code == 302
    assert response.url == plan_url(patient, treatment, key(local(2027, 3, 9, 14), practitioner))


def test_registering_with_a_treatment_but_no_time_shows_its_free_times(client, front_desk, treatment):
    client.force_login(front_desk)

    response = client.post(reverse("staff:patient_new"), {**NEW, "treatment": treatment.slug})

    patient = Patient.objects.get(email="noor@example.com")
    assert response.url == reverse("staff:book", args=[patient.pk]) + f"?treatment={treatment.slug}"


def test_a_diary_time_that_no_longer_fits_keeps_the_choice_on_the_times_page(
    client, front_desk, treatment, practitioner, series
):
    client.force_login(front_desk)
    taken = {"practitioner": practitioner.pk, "date": "2027-03-09", "time": "10:00"}  # Jo Bloggs' session 1

    response = client.post(reverse("staff:patient_new"), {**NEW, **taken, "treatment": treatment.slug}, follow=True)

    page = response.content.decode()
    patient = Patient.objects.get(email="noor@example.com")
    assert response.redirect_chain[-1][0].startswith(reverse("staff:book", args=[patient.pk]) + "?")
    assert "10:00 with Dr Ana Silva is not free for Microneedling" in page
    assert f'<option value="{practitioner.pk}" selected>' in page and 'value="2027-03-09"' in page
    assert "Free first sessions" in page  # the week's other times, to choose from


def test_registering_without_a_treatment_opens_the_record_as_before(client, front_desk, practitioner):
    client.force_login(front_desk)

    response = client.post(reverse("staff:patient_new"), {**NEW, **picked(practitioner)})

    patient = Patient.objects.get(email="noor@example.com")
    assert response.url == reverse("staff:patient", args=[patient.pk])


def test_bad_diary_values_at_registration_say_what_was_wrong(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    data = {**NEW, "practitioner": "x", "date": "2027-02-30", "time": "25:99", "treatment": "no-such"}

    response = client.post(reverse("staff:patient_new"), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose a treatment from the list" in page
    assert not Patient.objects.exists()


def test_the_duplicate_warning_keeps_the_diary_time(client, front_desk, treatment, practitioner):
    PatientFactory(name="Noor N.", email="NOOR@example.com", phone="07700 900999")
    client.force_login(front_desk)
    data = {**NEW, **picked(practitioner), "treatment": treatment.slug}

    warned = client.post(reverse("staff:patient_new"), data)
    assert warned.status_code == 409
    assert '<input type="hidden" name="time" value="14:00"' in warned.content.decode()

    response = client.post(reverse("staff:patient_new"), {**data, "proceed": "yes"})
    patient = Patient.objects.get(email="noor@example.com")
    assert response.url == plan_url(patient, treatment, key(local(2027, 3, 9, 14), practitioner))


# --- The plan: one click to accept it -----------------------------------------------------------------------


def test_no_to_every_question_answers_the_unanswered_ones_no(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    page = client.get(url).content.decode()
    assert "I read out every question above; the patient answered No to each one not marked Yes" in page

    response = client.post(url, {**proposed(page), **consents(all_no="on", answer_keloid="yes")})

    assert response.status_code == 302
    series = Series.objects.get(patient=patient)
    answers = series.questionnaires.get().answers
    assert answers == {question.key: question.key == "keloid" for question in QUESTIONS}
    assert series.needs_review  # the one "yes" still holds the series for review


def test_without_no_to_every_question_each_question_must_be_answered(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))

    response = client.post(url, {**proposed(client.get(url).content.decode()), **consents()})

    assert response.status_code == 400
    assert "Please answer yes or no." in response.content.decode()
    assert not Series.objects.exists()


def test_the_plan_page_books_the_proposed_series_with_its_one_button(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    page = client.get(url).content.decode()

    assert "Book 3 sessions</button>" in page and 'name="replan"' in page  # "Plan again": pages without scripts
    assert 'id="series-form"' in page and "js/series-review.js" in page
    client.post(url, {**proposed(page), **consents(all_no="on")})

    booked = list(Series.objects.get(patient=patient).appointments.order_by("session_number"))
    assert [a.start for a in booked[:1]] == [local(2027, 3, 2, 10)]
    assert [key(a.start, practitioner) for a in booked[1:]] == list(proposed(page).values())


# --- Another time for a session re-plans the later ones -----------------------------------------------------


def test_choosing_a_later_time_for_session_2_re_plans_session_3(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()
    first = key(local(2027, 3, 2, 10), practitioner)
    url = plan_url(patient, treatment, first)
    page = client.get(url).content.decode()
    before = proposed(page)
    latest = offered(page, "session_2")[-1]
    assert days_apart(latest, before["session_3"]) < treatment.min_days_between  # session 3 must move

    response = client.post(url, {**before, "session_2": latest, "replan": "1", **consents(all_no="on")})

    page = response.content.decode()
    after = proposed(page)
    assert response.status_code == 200 and not Series.objects.exists()  # re-planned, not booked
    assert after["session_2"] == latest
    assert treatment.min_days_between <= days_apart(latest, after["session_3"]) <= treatment.max_days_between
    assert "Session 3:" in page and "Now:" in page  # what changed, in words
    assert re.search(r'<input type="checkbox" name="all_no"[^>]* checked>', page)  # the answers are kept
    assert 'id="plan-status"' in page and 'aria-live="polite"' in page


def test_booking_a_changed_session_that_pushes_the_next_one_out_shows_the_new_plan_first(
    client, front_desk, treatment, practitioner
):
    """Without scripts "Book" is the only button pressed: a plan that had to change is shown, not booked."""
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    page = client.get(url).content.decode()
    before = proposed(page)

    response = client.post(url, {**before, "session_2": offered(page, "session_2")[-1], **consents(all_no="on")})

    assert response.status_code == 409 and not Series.objects.exists()
    assert "Check the new plan, then book" in response.content.decode()
    again = client.post(url, {**proposed(response.content.decode()), **consents(all_no="on")})
    assert again.status_code == 302 and Series.objects.filter(patient=patient).exists()


def test_a_time_taken_meanwhile_is_re_planned_not_booked(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    before = proposed(client.get(url).content.decode())
    book_for(treatment, start_of(before["session_2"]), practitioner, by=front_desk)  # someone takes it

    response = client.post(url, {**before, **consents(all_no="on")})

    page = response.content.decode()
    assert response.status_code == 409 and not Series.objects.filter(patient=patient).exists()
    assert "is no longer free" in page and proposed(page)["session_2"] != before["session_2"]


def test_a_garbled_session_time_says_so(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    before = proposed(client.get(url).content.decode())

    response = client.post(url, {**before, "session_2": "garbage", **consents(all_no="on")})

    assert response.status_code == 400 and not Series.objects.exists()
    assert "Session 2" in response.content.decode()


def test_the_plan_and_its_re_plan_keep_their_query_ceiling(
    client, front_desk, treatment, practitioner, django_assert_max_num_queries
):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    for start in (local(2027, 3, 3, 10), local(2027, 3, 31, 11), local(2027, 4, 1, 9)):
        book_for(treatment, start, practitioner, email=f"{start:%d%H}@example.com", by=front_desk)
    page = client.get(url).content.decode()

    with django_assert_max_num_queries(12):
        client.get(url)
    with django_assert_max_num_queries(12):
        client.post(url, {**proposed(page), "session_2": offered(page, "session_2")[-1], "replan": "1"})
