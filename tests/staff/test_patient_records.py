"""Patient records: correcting details, the duplicate warning, a manager's merge, search with progress."""

import pytest
from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.models import AuditEvent, Patient, Series
from tests.bookings.factories import PatientFactory, local
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import book_for

NEW = {"name": "Lee Chan", "email": "lee@example.com", "phone": "07700 900321"}


# --- Editing contact details -------------------------------------------------------------------------


def test_editing_a_phone_number_goes_through_the_service_and_is_recorded(client, front_desk, series):
    patient = series.patient
    client.force_login(front_desk)

    response = client.post(
        reverse("staff:patient_edit", args=[patient.pk]),
        {"name": patient.name, "email": patient.email, "phone": "07700 900999"},
    )

    assert response.url == reverse("staff:patient", args=[patient.pk])
    patient.refresh_from_db()
    assert patient.phone == "07700 900999"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_CHANGED)
    assert event.series == series and event.actor == front_desk
    assert event.before == {"phone": "07700 900123"} and event.after == {"phone": "07700 900999"}


def test_editing_refuses_bad_details_with_sentences(client, front_desk, series):
    client.force_login(front_desk)

    response = client.post(
        reverse("staff:patient_edit", args=[series.patient.pk]),
        {"name": " ", "email": "x", "phone": "call me"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter the patient&#x27;s full name." in page and "Enter an email address like" in page
    series.patient.refresh_from_db()
    assert series.patient.phone == "07700 900123"


def test_who_may_edit(client, front_desk, manager, ana, colleague, colleague_series, series):
    url = reverse("staff:patient_edit", args=[series.patient.pk])
    assert client.get(url).url.startswith(reverse("staff:login"))
    for user, status in ((front_desk, 200), (manager, 200), (ana, 403)):
        client.force_login(user)
        assert client.get(url).status_code == status


def test_editing_needs_csrf(front_desk, series):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(front_desk)

    response = strict.post(reverse("staff:patient_edit", args=[series.patient.pk]), {**NEW})

    assert response.status_code == 403
    series.patient.refresh_from_db()
    assert series.patient.name == "Jo Bloggs"


# --- The duplicate warning ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "same",
    [{"email": " LEE@Example.com "}, {"phone": "+44 7700 900321"}, {"phone": "077009-00321"}],
    ids=["email-any-case", "phone-international", "phone-other-spacing"],
)
def test_registering_the_same_email_or_phone_shows_the_existing_record_first(client, front_desk, db, same):
    existing = PatientFactory(**NEW)
    client.force_login(front_desk)
    data = {"name": "Lee Chan-Two", "email": "other@example.com", "phone": "01632 960000", **same}

    response = client.post(reverse("staff:patient_new"), data)

    page = response.content.decode()
    assert response.status_code == 409
    assert reverse("staff:patient", args=[existing.pk]) in page
    assert "Register anyway" in page
    assert Patient.objects.count() == 1

    response = client.post(reverse("staff:patient_new"), {**data, "proceed": "yes"})  # deliberately

    assert Patient.objects.count() == 2
    assert response.status_code == 302


def test_a_new_caller_is_registered_without_a_warning(client, front_desk, db):
    PatientFactory(name="Someone Else", email="else@example.com", phone="01632 960001")
    client.force_login(front_desk)

    response = client.post(reverse("staff:patient_new"), NEW)

    assert response.status_code == 302
    assert Patient.objects.filter(email="lee@example.com").exists()


# --- Merging two records ------------------------------------------------------------------------------------


def test_a_manager_merges_a_duplicate_moving_its_series_with_an_audit(
    client, manager, treatment, practitioner, series
):
    duplicate = book_for(
        treatment, local(2027, 3, 10, 14), practitioner, name="Jo Blogs", email="jo@example.com"
    )
    client.force_login(manager)
    keep = series.patient

    page = client.get(reverse("staff:patient_merge", args=[keep.pk])).content.decode()
    assert "Jo Blogs" in page  # suggested: same e-mail

    response = client.post(
        reverse("staff:patient_merge", args=[keep.pk]), {"duplicate": duplicate.patient.pk, "confirm": "on"}
    )

    assert response.url == reverse("staff:patient", args=[keep.pk])
    assert not Patient.objects.filter(pk=duplicate.patient.pk).exists()
    assert set(Series.objects.filter(patient=keep)) == {series, duplicate}
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENTS_MERGED)
    assert event.series == duplicate and event.actor == manager
    assert event.before["name"] == "Jo Blogs" and event.after["patient_id"] == keep.pk


def test_a_merge_that_would_overlap_appointments_is_refused_with_a_sentence(
    client, manager, treatment, colleague, series
):
    # The same hour as series' first session, with another practitioner: one person, two chairs.
    duplicate = book_for(treatment, local(2027, 3, 9, 10), colleague, name="Jo B", email="jo.b@example.com")
    client.force_login(manager)

    response = client.post(
        reverse("staff:patient_merge", args=[series.patient.pk]),
        {"duplicate": duplicate.patient.pk, "confirm": "on"},
    )

    assert response.status_code == 409
    assert "cannot be merged" in response.content.decode()
    assert Patient.objects.filter(pk=duplicate.patient.pk).exists()
    assert duplicate.appointments.filter(series__patient=duplicate.patient).count() == 3


def test_merge_refuses_bad_input_with_sentences(client, manager, series):
    client.force_login(manager)
    url = reverse("staff:patient_merge", args=[series.patient.pk])

    for data, sentence in (
        ({"duplicate": "abc", "confirm": "on"}, "There is no other patient record with that number"),
        (
            {"duplicate": series.patient.pk, "confirm": "on"},
            "There is no other patient record with that number",
        ),
        ({"duplicate": ""}, "Enter the record number"),
        ({"duplicate": "99999999999999999999"}, "There is no other patient record with that number"),
    ):
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert sentence in response.content.decode(), data


def test_only_managers_merge(client, front_desk, ana, series):
    url = reverse("staff:patient_merge", args=[series.patient.pk])
    assert client.get(url).url.startswith(reverse("staff:login"))
    for user in (front_desk, ana):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_merging_is_refused_without_csrf(manager, series, db):
    other = PatientFactory(name="Other", email="o@example.com", phone="01632 960002")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager)

    response = strict.post(
        reverse("staff:patient_merge", args=[series.patient.pk]), {"duplicate": other.pk, "confirm": "on"}
    )

    assert response.status_code == 403
    assert Patient.objects.filter(pk=other.pk).exists()


# --- Search results and the patient page -------------------------------------------------------------


def test_search_shows_the_next_appointment_and_series_progress(client, front_desk, series):
    client.force_login(front_desk)

    page = client.get(reverse("staff:patients"), {"q": "bloggs"}).content.decode()

    first = series.appointments.get(session_number=1)
    assert reverse("staff:appointment", args=[first.pk]) in page
    assert "Tue 9 Mar 2027, 10:00" in page
    assert "Microneedling: session 1 of 3 next" in page


def test_search_keeps_its_query_ceiling(
    client, front_desk, treatment, practitioner, django_assert_max_num_queries
):
    for n, day in enumerate((2, 3, 4, 5, 8, 9, 10, 11)):
        book_for(treatment, local(2027, 3, day, 9), practitioner, name=f"Sam {n}", email=f"s{n}@example.com")
    client.force_login(front_desk)

    with django_assert_max_num_queries(8):
        page = client.get(reverse("staff:patients"), {"q": "sam"}).content.decode()

    assert "8 patients found" in page
    assert page.count("session 1 of 3 next") == 8


def test_the_timeline_lists_sessions_first_and_folds_e_mails(client, front_desk, series):
    client.force_login(front_desk)

    page = client.get(reverse("staff:patient", args=[series.patient.pk])).content.decode()

    assert page.index("Session 1:") < page.index("E-mails about the series")
    assert "<summary>E-mails about the series" in page
    assert '<summary class="small">E-mails (' in page


def test_the_patient_page_offers_to_book_a_cancelled_session_again(client, front_desk, series):
    services.appointment_cancel(appointment=series.appointments.get(session_number=2), for_staff=True)
    client.force_login(front_desk)

    page = client.get(reverse("staff:patient", args=[series.patient.pk])).content.decode()

    assert reverse("staff:rebook", args=[series.pk, 2]) in page and "Book session 2 again" in page
