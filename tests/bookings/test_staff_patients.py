"""Patients in the staff workspace: search, register, their page, and booking a series by phone."""

import re

from django.urls import reverse

from bookings import services
from bookings.models import AuditEvent, Patient, Series
from bookings.questionnaire import QUESTIONS
from tests.bookings.factories import PatientFactory
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for, key, local


def answers(**changes) -> dict:
    data = {f"answer_{question.key}": "no" for question in QUESTIONS}
    data |= {"consent_treatment": "on", "consent_privacy": "on", **changes}
    return {name: value for name, value in data.items() if value is not None}


def proposed(page: str) -> dict:
    """The times the plan page proposes for sessions 2 onwards (the checked radio buttons)."""
    return dict(re.findall(r'name="(session_\d+)" id="[^"]+" value="([^"]+)" checked', page))


def plan_url(patient, treatment, first) -> str:
    return reverse("staff:book_plan", args=[patient.pk, treatment.slug]) + f"?first={first}"


# --- Search and register ---------------------------------------------------------------------------


def test_search_by_name_email_or_phone_digits(client, front_desk, db):
    client.force_login(front_desk)
    PatientFactory(name="Priya Shah", email="priya@example.com", phone="07700 900 777")
    PatientFactory(name="Tom Jones", email="tom@example.com", phone="+44 20 7946 0000")

    def found(query):
        return re.findall(
            r'href="/staff/patients/\d+/">([^<]+)<',
            client.get(reverse("staff:patients"), {"q": query}).content.decode(),
        )

    assert found("priya") == ["Priya Shah"]
    assert found("TOM@EXAMPLE") == ["Tom Jones"]
    assert found("07700900777") == ["Priya Shah"]
    assert found("20 7946") == ["Tom Jones"]
    assert found("nobody") == []


def test_a_one_letter_search_asks_for_more(client, front_desk, db):
    client.force_login(front_desk)

    response = client.get(reverse("staff:patients"), {"q": "a"})

    assert "Type at least 2 characters" in response.content.decode()


def test_register_a_new_patient(client, front_desk, db):
    client.force_login(front_desk)

    response = client.post(
        reverse("staff:patient_new"),
        {"name": "  Lee   Chan ", "email": "lee@example.com", "phone": "07700 900321"},
    )

    patient = Patient.objects.get(email="lee@example.com")
    assert response.url == reverse("staff:patient", args=[patient.pk])
    assert patient.name == "Lee Chan"


def test_register_refuses_bad_details_with_sentences(client, front_desk, db):
    client.force_login(front_desk)

    response = client.post(reverse("staff:patient_new"), {"name": "", "email": "nope", "phone": "call me"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter the patient&#x27;s full name." in page
    assert "Enter an email address like name@example.com." in page
    assert "Enter a phone number we can call" in page
    assert not Patient.objects.exists()


# --- The patient page ------------------------------------------------------------------------------------


def test_patient_page_shows_contact_consents_timeline_emails_and_history(client, front_desk, series):
    client.force_login(front_desk)
    services.appointment_mark(
        appointment=series.appointments.get(session_number=1),
        status="checked_in",
        by=front_desk,
        now=local(2027, 3, 9, 10),
    )

    page = client.get(reverse("staff:patient", args=[series.patient.pk])).content.decode()

    assert "Jo Bloggs" in page and "07700 900123" in page and "jo@example.com" in page
    assert "Consent to treatment" in page
    assert "Are you pregnant or breastfeeding?" not in page  # health answers: not for the front desk
    assert "0 of 3 sessions completed" in page
    assert page.count("Session 1: Tue 9 Mar 2027, 10:00") == 1 and "Session 3: Tue 4 May 2027, 10:00" in page
    assert "Booking confirmation" in page and "Reminder (days before)" in page
    assert "patient (online booking)" in page and "Fran" in page  # who booked, who checked in


# --- Booking by phone ----------------------------------------------------------------------------------


def test_book_start_offers_times_inside_the_patients_notice(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()

    page = client.get(
        reverse("staff:book", args=[patient.pk]), {"treatment": treatment.slug}
    ).content.decode()

    assert key(local(2027, 3, 1, 14), practitioner) in page  # today at 14:00: patients need 24 hours' notice
    assert key(local(2027, 3, 1, 7), practitioner) not in page  # before opening


def test_phone_booking_books_the_planned_series_as_the_staff_member(
    client, front_desk, treatment, practitioner
):
    client.force_login(front_desk)
    patient = PatientFactory(name="Priya Shah")
    first = key(local(2027, 3, 1, 14), practitioner)

    page = client.get(plan_url(patient, treatment, first)).content.decode()
    assert "Monday 1 March, 14:00 with Dr Ana Silva" in page
    assert set(proposed(page)) == {"session_2", "session_3"}
    response = client.post(
        plan_url(patient, treatment, first), answers(answer_keloid="yes", **proposed(page)), follow=True
    )

    assert "Booked 3 sessions of Microneedling for Priya Shah" in response.content.decode()
    series = Series.objects.get(patient=patient)
    assert (series.source, series.created_by, series.needs_review) == (Series.Source.PHONE, front_desk, True)
    assert series.appointments.count() == 3
    assert set(AuditEvent.objects.filter(series=series).values_list("action", "actor")) == {
        ("booked", front_desk.pk)
    }


def test_phone_booking_needs_the_consents(client, front_desk, treatment, practitioner):
    client.force_login(front_desk)
    patient = PatientFactory()

    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    response = client.post(url, answers(consent_privacy=None, **proposed(client.get(url).content.decode())))

    assert response.status_code == 400
    assert "The patient must agree to the privacy notice." in response.content.decode()
    assert not Series.objects.exists()


def test_phone_booking_never_double_books(client, front_desk, series, practitioner, treatment):
    client.force_login(front_desk)
    patient = PatientFactory()
    taken = key(local(2027, 3, 9, 10), practitioner)  # Jo Bloggs' first session

    response = client.get(plan_url(patient, treatment, taken), follow=True)

    assert "That first time is no longer free" in response.content.decode()
    assert not Series.objects.filter(patient=patient).exists()


def test_phone_booking_of_a_garbage_first_time_goes_back_to_the_times(
    client, front_desk, treatment, practitioner
):
    client.force_login(front_desk)
    patient = PatientFactory()

    for garbage in ("not-a-slot", "99991231T2330-1", "00010101T0000-1"):
        response = client.get(plan_url(patient, treatment, garbage))

        assert response.status_code == 302, garbage
        assert response.url == reverse("staff:book", args=[patient.pk]) + f"?treatment={treatment.slug}"


def test_phone_booking_when_a_session_is_taken_meanwhile_shows_a_fresh_plan(
    client, front_desk, treatment, practitioner
):
    client.force_login(front_desk)
    patient = PatientFactory()
    url = plan_url(patient, treatment, key(local(2027, 3, 2, 10), practitioner))
    form = answers(
        session_2=key(local(2027, 3, 30, 10), practitioner),
        session_3=key(local(2027, 4, 27, 10), practitioner),
    )
    book_for(treatment, local(2027, 3, 30, 10), practitioner, by=front_desk)  # someone takes session 2's time
    response = client.post(url, form)

    page = response.content.decode()
    assert response.status_code == 409  # re-planned around it: the page says so and shows fresh times
    assert "Tuesday 30 March, 10:00 with Dr Ana Silva is no longer free. Now:" in page
    assert proposed(page)["session_2"] != form["session_2"]
    assert not Series.objects.filter(patient=patient).exists()
