"""Who a returning patient is, and what happens to the details they give again.

The rule: online and through the API a returning patient is the record with the same name and
e-mail. A new phone number they give replaces the one on record; the change is audited and the
confirmation page and e-mail say which number is now held (and which it replaced). The front desk
registering someone already on record is sent to the existing record instead of a duplicate.
"""

import json
from datetime import timedelta

from django.urls import reverse

from bookings import emails, services
from bookings.models import AuditEvent, ClinicRules, OutboxMessage, Patient
from bookings.questionnaire import QUESTIONS
from bookings.views import BOOKED_SESSION_KEY
from tests.bookings.factories import PractitionerFactory, TreatmentFactory
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local

JO = {"name": "Jo Bloggs", "email": "jo@example.com"}


def book_again(phone: str, *, name: str = "Jo Bloggs", email: str = "jo@example.com"):
    """A series of another treatment (the first one still runs), booked online by Jo with `phone`."""
    other = TreatmentFactory(name="Peel", sessions_in_series=1)
    performer = PractitionerFactory(treatments=[other])
    start = local(2027, 3, 10, 14)
    return services.series_book(
        treatment=other,
        patient=services.PatientDetails(name=name, email=email, phone=phone),
        slots=[services.Slot(start, start + timedelta(minutes=60), performer.pk)],
        answers={},
        consent_treatment=True,
        consent_privacy=True,
    )


def test_a_returning_patients_new_phone_number_is_kept_and_audited(series):
    again = book_again("07700 900999")

    (patient,) = Patient.objects.all()
    assert again.patient == series.patient == patient
    assert patient.phone == "07700 900999"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_CHANGED)
    assert event.series == again
    assert (event.before, event.after) == ({"phone": "07700 900123"}, {"phone": "07700 900999"})


def test_the_same_details_again_change_nothing_and_record_nothing(series):
    book_again("07700 900123")

    assert Patient.objects.get().phone == "07700 900123"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_CHANGED).exists()


def test_another_name_at_the_same_address_is_another_patient(series):
    book_again("07700 900777", name="Sam Bloggs")

    assert Patient.objects.count() == 2
    assert series.patient.phone == "07700 900123"


def test_the_confirmation_page_says_which_number_we_hold(client, series):
    again = book_again("07700 900999")
    session = client.session
    session[BOOKED_SESSION_KEY] = str(again.public_id)
    session.save()

    page = client.get(reverse("bookings:done", args=[again.treatment.slug])).content.decode()

    assert "We now have 07700 900999 as your phone number (it replaces the one ending 123)." in page


def test_the_confirmation_e_mail_says_which_number_we_hold(series):
    again = book_again("07700 900999")
    message = again.outbox_messages.get(kind=OutboxMessage.Kind.SERIES_BOOKED)

    email = emails.build(message, appointments=list(again.appointments.all()), rules=ClinicRules.load())

    assert "We now have 07700 900999 as your phone number (it replaces the one ending 123)." in email.body
    assert "07700 900999" in email.alternatives[0][0]


def test_the_api_applies_the_same_rule_and_says_so(client, series, practitioner, treatment):
    other = TreatmentFactory(slug="peel", name="Peel", sessions_in_series=1)
    practitioner.treatments.add(other)
    body = {
        "treatment": "peel",
        "first_start": local(2027, 3, 10, 14).isoformat(),
        "practitioner": practitioner.pk,
        "patient": {**JO, "phone": "07700 900888"},
        "answers": {question.key: False for question in QUESTIONS},
        "consent": True,
    }

    response = client.post("/api/series/", json.dumps(body), content_type="application/json")

    assert response.status_code == 201, response.content
    assert Patient.objects.get().phone == "07700 900888"
    assert "07700 900888" in response.json()["series"]["details_note"]


def test_the_front_desk_registering_someone_on_record_is_sent_to_their_record(client, front_desk, series):
    client.force_login(front_desk)

    response = client.post(
        reverse("staff:patient_new"),
        {"name": "jo  bloggs", "email": "JO@example.com", "phone": "07700 900555"},
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "already registered" in page
    assert reverse("staff:patient", args=[series.patient.pk]) in page
    assert Patient.objects.count() == 1


# --- One running series of a treatment, through the API too (see test_patient_overlap.py) ------------


def test_the_api_refuses_a_second_running_series_pointing_to_the_first(client, series, practitioner):
    body = {
        "treatment": series.treatment.slug,
        "first_start": local(2027, 3, 23, 10).isoformat(),  # 14 days after session 1; the minimum is 28
        "practitioner": practitioner.pk,
        "patient": {**JO, "phone": "07700 900123"},
        "answers": {question.key: False for question in QUESTIONS},
        "consent": True,
    }

    response = client.post("/api/series/", json.dumps(body), content_type="application/json")

    assert response.status_code in (400, 409)
    (sentence,) = response.json()["errors"]["non_field_errors"]
    assert "already have a Microneedling series booked with us" in sentence
    assert "confirmation e-mail we sent to jo@example.com" in sentence and "March" not in sentence  # no dates
    assert series.patient.series.count() == 1
