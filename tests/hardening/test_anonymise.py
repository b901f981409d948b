"""`manage.py anonymise_patients`: personal data of long-gone patients removed, statistics kept."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from bookings import services
from bookings.models import Appointment, AuditEvent, Patient, Questionnaire
from bookings.services import ANONYMISED_NAME
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import book, frozen, practitioner, treatment  # noqa: F401

RETENTION = 2555


def run(*args) -> str:
    out = StringIO()
    call_command("anonymise_patients", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_and_recent(treatment, practitioner, frozen, settings):
    """An old patient (sessions in March–May 2027, one cancelled with a reason) and a recent one."""
    settings.PATIENT_RETENTION_DAYS = RETENTION
    old = book(treatment, local(2027, 3, 9, 10), practitioner)
    services.appointment_cancel(appointment=old.appointments.get(session_number=3), reason="Jo is moving to Leeds")
    recent = book(treatment, local(2027, 3, 9, 14), practitioner, name="Sam Recent", email="sam@example.com")
    recent.appointments.filter(session_number=3).update(
        start=local(2027, 5, 4, 14) + timedelta(days=400), end=local(2027, 5, 4, 15) + timedelta(days=400)
    )
    frozen.move_to(local(2027, 5, 4, 12) + timedelta(days=RETENTION, hours=1))
    return old, recent


def test_anonymises_only_patients_past_the_retention(old_and_recent):
    old, recent = old_and_recent

    assert run().startswith("1 patient(s) anonymised")

    patient = Patient.objects.get(pk=old.patient_id)
    assert patient.name == ANONYMISED_NAME and patient.phone == "" and "@invalid.example" in patient.email
    assert Questionnaire.objects.get(series=old).answers == {}
    assert Patient.objects.get(pk=recent.patient_id).name == "Sam Recent"
    assert Questionnaire.objects.get(series=recent).answers != {}


def test_appointments_stay_for_statistics_and_the_trail_keeps_no_personal_text(old_and_recent):
    old, _ = old_and_recent
    statuses = sorted(old.appointments.values_list("status", flat=True))

    run()

    assert sorted(old.appointments.values_list("status", flat=True)) == statuses
    assert not Appointment.objects.filter(series=old).exclude(cancel_reason="").exists()
    trail = list(AuditEvent.objects.filter(series=old).values_list("before", "after"))
    assert trail and "Leeds" not in repr(trail) and "Jo Bloggs" not in repr(trail)
    assert "Jo" not in repr(Patient.objects.filter(pk=old.patient_id).values())


def test_dry_run_counts_and_changes_nothing(old_and_recent):
    old, _ = old_and_recent

    assert run("--dry-run").startswith("1 patient(s) would be anonymised")

    assert Patient.objects.get(pk=old.patient_id).name == "Jo Bloggs"


def test_a_second_run_finds_nothing_to_do(old_and_recent):
    run()

    assert run().startswith("0 patient(s) anonymised")


def test_the_retention_is_a_setting(old_and_recent, settings):
    settings.PATIENT_RETENTION_DAYS = RETENTION + 30

    assert run("--dry-run").startswith("0 patient(s)")


def test_the_dates_given_with_safety_answers_go_with_the_answers(old_and_recent):
    old, recent = old_and_recent
    Questionnaire.objects.filter(series__in=[old, recent]).update(dates={"isotretinoin": "2026-09-01"})

    run()

    assert Questionnaire.objects.get(series=old).dates == {}
    assert Questionnaire.objects.get(series=recent).dates == {"isotretinoin": "2026-09-01"}


def test_a_new_callers_waitlist_details_older_than_the_retention_are_forgotten(old_and_recent, treatment):
    from django.utils import timezone

    from bookings.models import WaitlistEntry

    _, recent = old_and_recent
    now = timezone.now()
    details = {"treatment": treatment, "name": "Wren Waiting", "email": "wren@example.com", "phone": "07700 900999"}
    stale = WaitlistEntry.objects.create(**details, created_at=now - timedelta(days=RETENTION + 1))
    fresh = WaitlistEntry.objects.create(**{**details, "email": "new@example.com"}, created_at=now - timedelta(days=3))
    theirs = WaitlistEntry.objects.create(treatment=treatment, series=recent, session_number=2, created_at=stale.created_at)

    output = run()

    assert "1 waitlist entry of new callers forgotten" in output
    assert not WaitlistEntry.objects.filter(pk=stale.pk).exists()
    assert WaitlistEntry.objects.filter(pk__in=[fresh.pk, theirs.pk]).count() == 2
