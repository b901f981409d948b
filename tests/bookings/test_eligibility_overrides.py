"""Lifting an eligibility rule for one patient from their staff record: who may, the reason, the trail."""

import pytest
from django.urls import reverse

from bookings.models import AuditEvent, EligibilityOverride
from tests.bookings.staff_fixtures import *  # noqa: F403


def lift(client, patient, treatment, **changes):
    data = {"treatment": treatment.pk, "key": "keloid", "reason": "Seen in clinic: no raised scars.", **changes}
    return client.post(reverse("staff:override_new", args=[patient.pk]), data, follow=True)


def test_the_treating_practitioner_lifts_a_rule_and_everyone_sees_it_on_the_record(
    client, ana, series, treatment, front_desk
):
    client.force_login(ana)

    page = lift(client, series.patient, treatment).content.decode()
    client.force_login(front_desk)
    desk_page = client.get(reverse("staff:patient", args=[series.patient.pk])).content.decode()

    override = EligibilityOverride.objects.get()
    assert (override.created_by, override.key, override.patient) == (ana, "keloid", series.patient)
    assert "Lifted for Jo Bloggs" in page and "Seen in clinic: no raised scars." in page
    assert "Have you ever had keloid or raised scarring?" in desk_page
    assert "Seen in clinic" not in desk_page  # the reason is clinical: not for the front desk
    assert "Lift a rule for this patient" not in desk_page
    assert AuditEvent.objects.filter(subject_kind="bookings.eligibilityoverride", patient=series.patient).exists()


def test_a_reason_is_required_and_a_practitioner_not_treating_the_patient_is_refused(
    client, ana, colleague, series, treatment
):
    client.force_login(ana)
    no_reason = lift(client, series.patient, treatment, reason=" ").content.decode()
    client.force_login(colleague.user)
    stranger = client.post(reverse("staff:override_new", args=[series.patient.pk]),
                           {"treatment": treatment.pk, "key": "keloid", "reason": "x"})

    assert "Give the reason for lifting the rule" in no_reason
    assert stranger.status_code == 404  # not their patient: as if there were none
    assert not EligibilityOverride.objects.exists()


def test_putting_a_rule_back_is_recorded_and_the_rule_applies_again(client, ana, series, treatment):
    client.force_login(ana)
    lift(client, series.patient, treatment)
    override = EligibilityOverride.objects.get()

    page = client.post(reverse("staff:override_revoke", args=[series.patient.pk, override.pk]), follow=True)

    override.refresh_from_db()
    assert override.revoked_at is not None
    assert "The rule applies to Jo Bloggs again" in page.content.decode()
    assert AuditEvent.objects.filter(subject_kind="bookings.eligibilityoverride").count() == 2
