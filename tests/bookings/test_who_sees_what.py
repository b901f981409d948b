"""Who sees what: the admin is a manager's tool; health answers only for managers and the
practitioners treating the patient (issue 10, item 1)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from bookings.models import (
    Appointment,
    AuditEvent,
    ClinicRules,
    OutboxMessage,
    Questionnaire,
    WorkingHours,
)
from tests.bookings.factories import RoomFactory, TimeOffFactory, eligibility_rules
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import PASSWORD, local, staff_user

# Every model in the admin, bookings' and the treatments' content alike.
ADMIN_MODELS = sorted(
    model._meta.label_lower
    for model in admin.site._registry
    if model._meta.app_label in ("bookings", "treatments")
)
QUESTION = "Are you pregnant or breastfeeding?"


@pytest.fixture
def clinic(series, ana, colleague_series, practitioner):
    """One row of every admin model, about Ana's patient (Jo Bloggs)."""
    room = RoomFactory()
    time_off = TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 20), end=local(2027, 3, 21))
    rows = {
        "bookings.clinicrules": ClinicRules.load(),
        "bookings.room": room,
        "bookings.practitioner": practitioner,
        "bookings.workinghours": WorkingHours.objects.filter(practitioner=practitioner).first(),
        "bookings.timeoff": time_off,
        "bookings.patient": series.patient,
        "bookings.series": series,
        "bookings.questionnaire": Questionnaire.objects.get(series=series),
        "bookings.appointment": Appointment.objects.filter(series=series).first(),
        "bookings.auditevent": AuditEvent.objects.filter(series=series).first(),
        "bookings.outboxmessage": OutboxMessage.objects.filter(series=series).first(),
        "treatments.treatment": series.treatment,
        "bookings.eligibilityrules": eligibility_rules(series.treatment),
    }
    assert set(rows) == set(ADMIN_MODELS), "a model was added to the admin: give it a row here"
    return rows


def admin_urls(label: str, obj) -> list[str]:
    app, model = label.split(".")
    return [
        reverse(f"admin:{app}_{model}_changelist"),
        reverse(f"admin:{app}_{model}_change", args=[obj.pk]),
    ]


ROLES = {
    # Practitioner and front-desk logins ticked `is_staff` (the demo's practitioners are): the rule
    # must not rest on that box.
    "practitioner": lambda: staff_user("pia", "Practitioner", is_staff=True),
    "front desk": lambda: staff_user("fred", "Front desk", is_staff=True),
}


@pytest.mark.parametrize("label", ADMIN_MODELS)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_managers_use_the_admin(client, clinic, role, label):
    client.force_login(ROLES[role]())

    for url in [reverse("admin:index"), *admin_urls(label, clinic[label])]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url
        assert "Jo Bloggs" not in response.content.decode()


@pytest.mark.parametrize("label", ADMIN_MODELS)
def test_managers_open_every_admin_list_and_page(client, clinic, manager, label):
    client.force_login(manager)

    for url in admin_urls(label, clinic[label]):
        assert client.get(url).status_code == 200, url


def test_a_practitioners_own_login_cannot_reach_the_admin_either(client, clinic, ana):
    ana.is_staff = True
    ana.save(update_fields=["is_staff"])
    client.force_login(ana)
    questionnaire = clinic["bookings.questionnaire"]

    response = client.get(reverse("admin:bookings_questionnaire_change", args=[questionnaire.pk]))

    assert response.status_code == 302


def test_the_admin_sign_in_tells_non_managers_where_to_go(client, db):
    staff_user("pia", "Practitioner", is_staff=True)

    response = client.post(reverse("admin:login"), {"username": "pia", "password": PASSWORD})

    assert response.status_code == 200
    assert "The admin is for managers" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_staff_menu_offers_the_admin_to_managers_only(client, clinic, manager):
    client.force_login(staff_user("pia", "Practitioner", is_staff=True))
    assert reverse("admin:index") not in client.get(reverse("staff:day")).content.decode()

    client.force_login(manager)
    assert reverse("admin:index") in client.get(reverse("staff:day")).content.decode()


# --- The staff pages that show clinical data ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "own_patient", "other_patient"),
    [
        ("manager", "answers", "answers"),
        ("ana", "answers", 404),  # Jo Bloggs is booked with Ana; Sam Other with Ben
        ("front desk", "no answers", "no answers"),
    ],
)
def test_patient_page_shows_health_answers_only_to_those_treating_and_managers(
    client, clinic, colleague_series, manager, front_desk, ana, role, own_patient, other_patient
):
    client.force_login({"manager": manager, "ana": ana, "front desk": front_desk}[role])

    for patient, expected in [(clinic["bookings.patient"], own_patient), (colleague_series.patient, other_patient)]:
        response = client.get(reverse("staff:patient", args=[patient.pk]))
        if expected == 404:
            assert response.status_code == 404
            continue
        page = response.content.decode()
        assert response.status_code == 200 and patient.name in page
        assert (QUESTION in page) is (expected == "answers"), (role, patient.name)
        assert "Consent to treatment" in page  # consents are not health data: everyone sees them


@pytest.mark.parametrize("role", ["manager", "ana", "front desk"])
def test_appointment_page_shows_the_review_flag_but_never_the_answers(
    client, clinic, manager, front_desk, ana, role
):
    client.force_login({"manager": manager, "ana": ana, "front desk": front_desk}[role])
    appointment = clinic["bookings.appointment"]

    page = client.get(reverse("staff:appointment", args=[appointment.pk])).content.decode()

    assert "Safety review" in page and QUESTION not in page


def test_practitioner_reaches_no_page_of_another_practitioners_patient(client, clinic, ana, colleague_series):
    client.force_login(ana)
    theirs = colleague_series.appointments.get(session_number=1)

    for url in [
        reverse("staff:patient", args=[colleague_series.patient.pk]),
        reverse("staff:appointment", args=[theirs.pk]),
        reverse("staff:move", args=[theirs.pk]),
    ]:
        assert client.get(url).status_code in (403, 404), url
    search = client.get(reverse("staff:patients"), {"q": colleague_series.patient.name}).content.decode()
    assert reverse("staff:patient", args=[colleague_series.patient.pk]) not in search


def test_front_desk_keeps_everything_it_does_in_the_workspace(client, clinic, front_desk):
    """Losing the admin costs the front desk nothing: its pages all open."""
    client.force_login(front_desk)
    patient, appointment = clinic["bookings.patient"], clinic["bookings.appointment"]

    for url in [
        reverse("staff:day"),
        reverse("staff:week"),
        reverse("staff:patients"),
        reverse("staff:patient_new"),
        reverse("staff:patient", args=[patient.pk]),
        reverse("staff:appointment", args=[appointment.pk]),
        reverse("staff:move", args=[appointment.pk]),
        reverse("staff:book", args=[patient.pk]),
    ]:
        assert client.get(url).status_code == 200, url

