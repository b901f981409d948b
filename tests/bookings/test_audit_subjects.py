"""The trail records changes to any record, not only appointments: patients, practitioners' hours and
time off, clinic rules, e-mails sent again (issue 10, item 10). Each with who, when and before/after
of the changed fields, in the transaction of the change."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from bookings.audit import PATIENT_ONLINE
from bookings.models import AuditEvent, ClinicRules, OutboxMessage, Patient, Series, TimeOff, WorkingHours
from tests.bookings.factories import PatientFactory, TimeOffFactory
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local
from tests.bookings.test_staff_hours import hours_form


def events(kind: str, **filters):
    return list(AuditEvent.objects.filter(subject_kind=kind, **filters).order_by("pk"))


def admin_form(client, url: str) -> dict:
    """The change form as the admin renders it, ready to post back (inline management forms too)."""
    import re

    page = client.get(url).content.decode()
    data = {}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag or name.group(1) == "csrfmiddlewaretoken":
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    for select, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
        data[select] = chosen if len(chosen) > 1 else (chosen[0] if chosen else "")
    return data


# --- Patients ------------------------------------------------------------------------------------------


def test_registering_a_patient_by_phone_is_recorded(client, front_desk):
    client.force_login(front_desk)

    client.post(reverse("staff:patient_new"), {"name": "Lee Chan", "email": "lee@example.com", "phone": "07700 900321"})

    patient = Patient.objects.get(email="lee@example.com")
    (event,) = events("bookings.patient")
    assert (event.action, event.actor, event.patient, event.subject_id) == ("created", front_desk, patient, patient.pk)
    assert event.before == {} and event.after["phone"] == "07700 900321" and event.after["name"] == "Lee Chan"


def test_a_patient_who_books_online_for_the_first_time_is_recorded_as_created(client, practitioner):
    """Online and API bookings create patients too: the trail names the patient as the author."""
    from tests.bookings.test_api import body

    response = client.post("/api/series/", json.dumps(body()), content_type="application/json")

    assert response.status_code == 201, response.content
    patient = Patient.objects.get()
    (event,) = events("bookings.patient")
    assert (event.action, event.actor, event.patient) == ("created", None, patient)
    assert event.actor_label == PATIENT_ONLINE
    assert event.series == Series.objects.get()
    assert event.after["email"] == patient.email and event.before == {}


def test_a_returning_patient_booking_again_is_not_recorded_as_created(client, series, practitioner):
    from tests.bookings.test_identity import book_again

    created = AuditEvent.objects.filter(subject_kind="bookings.patient", action="created")
    before = created.count()

    book_again(series.patient.phone)

    assert created.count() == before


def test_a_patients_edit_in_the_admin_records_the_changed_fields_only(client, manager, db):
    patient = PatientFactory(name="Priya Shah", email="priya@example.com", phone="07700 900777")
    client.force_login(manager)
    url = reverse("admin:bookings_patient_change", args=[patient.pk])
    form = admin_form(client, url) | {"phone": "07700 900888"}

    response = client.post(url, form)

    assert response.status_code == 302
    (event,) = events("bookings.patient", patient=patient)
    assert (event.action, event.actor) == ("changed", manager)
    assert (event.before, event.after) == ({"phone": "07700 900777"}, {"phone": "07700 900888"})


def test_a_patient_added_in_the_admin_is_recorded(client, manager, db):
    client.force_login(manager)
    url = reverse("admin:bookings_patient_add")

    client.post(url, admin_form(client, url) | {"name": "Ola K", "email": "ola@example.com", "phone": "07700 900111"})

    (event,) = events("bookings.patient")
    assert event.action == "created" and event.after["email"] == "ola@example.com"


def test_a_patients_edit_refused_by_validation_leaves_no_record(client, manager, db):
    patient = PatientFactory(phone="07700 900777")
    client.force_login(manager)
    url = reverse("admin:bookings_patient_change", args=[patient.pk])

    response = client.post(url, admin_form(client, url) | {"phone": "call me"})

    assert response.status_code == 200  # the form again, with the error
    patient.refresh_from_db()
    assert patient.phone == "07700 900777" and not events("bookings.patient")


def test_anonymising_a_patient_blanks_their_details_in_the_trail(client, manager, frozen, settings, db):
    patient = PatientFactory(name="Priya Shah", email="priya@example.com", phone="07700 900777")
    client.force_login(manager)
    url = reverse("admin:bookings_patient_change", args=[patient.pk])
    client.post(url, admin_form(client, url) | {"phone": "07700 900888", "name": "Priya Shah-Jones"})
    settings.PATIENT_RETENTION_DAYS = 30
    Patient.objects.filter(pk=patient.pk).update(created_at=timezone.now() - timedelta(days=60))

    call_command("anonymise_patients", stdout=open("/dev/null", "w"))

    trail = repr(list(AuditEvent.objects.filter(patient=patient).values_list("before", "after")))
    assert "Priya" not in trail and "900777" not in trail and "900888" not in trail


def test_deleting_a_patient_in_the_admin_is_recorded_by_kind_and_id(client, manager, db):
    patient = PatientFactory(name="Typo Entry")
    client.force_login(manager)

    response = client.post(reverse("admin:bookings_patient_delete", args=[patient.pk]), {"post": "yes"})

    assert response.status_code == 302 and not Patient.objects.filter(pk=patient.pk).exists()
    (event,) = events("bookings.patient")
    assert (event.action, event.subject_id, event.patient, event.after) == ("deleted", patient.pk, None, {})
    assert event.before["name"] == "Typo Entry"


# --- Practitioners' hours and time off ---------------------------------------------------------------------


def test_hours_and_time_off_edited_in_the_workspace_are_recorded(client, manager, practitioner):
    client.force_login(manager)
    old_blocks = set(practitioner.working_hours.values_list("pk", flat=True))

    client.post(
        reverse("staff:hours", args=[practitioner.pk]),
        hours_form(practitioner, rows=[(1, "13:00", "18:00")], off=[("2027-04-06T09:00", "2027-04-06T13:00", "Dentist")]),
    )

    hours = events("bookings.workinghours", practitioner=practitioner)
    assert {event.subject_id for event in hours if event.action == "deleted"} == old_blocks
    (added,) = [event for event in hours if event.action == "created"]
    assert added.after | {"id": None} == {"id": None, "practitioner_id": practitioner.pk, "weekday": 1,
                                          "start": "13:00:00", "end": "18:00:00"}  # fmt: skip
    (off,) = events("bookings.timeoff", practitioner=practitioner)
    assert off.action == "created" and off.after["reason"] == "Dentist"
    assert off.after["start"] == "2027-04-06T09:00:00+01:00"  # the clinic's clock
    assert {event.actor for event in hours + [off]} == {manager}


def test_time_off_changed_in_the_workspace_records_before_and_after(client, manager, practitioner):
    off = TimeOffFactory(practitioner=practitioner, start=local(2027, 4, 6, 9), end=local(2027, 4, 6, 13))
    client.force_login(manager)
    form = hours_form(practitioner, rows=[(0, "09:00", "17:00")])
    form |= {"off-TOTAL_FORMS": "1", "off-INITIAL_FORMS": "1", "off-0-id": str(off.pk),
             "off-0-start": "2027-04-06T09:00", "off-0-end": "2027-04-06T15:00", "off-0-reason": "Annual leave"}  # fmt: skip

    client.post(reverse("staff:hours", args=[practitioner.pk]), form)

    (event,) = events("bookings.timeoff")
    assert event.action == "changed" and event.subject_id == off.pk
    assert (event.before, event.after) == ({"end": "2027-04-06T13:00:00+01:00"}, {"end": "2027-04-06T15:00:00+01:00"})


def test_a_failed_audit_rolls_the_hours_change_back(client, manager, practitioner, monkeypatch):
    from django.db import DatabaseError

    def refuse(*args, **kwargs):
        raise DatabaseError("the audit table is unavailable")

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", refuse)
    client.force_login(manager)
    client.raise_request_exception = False
    before = list(WorkingHours.objects.filter(practitioner=practitioner).values_list("weekday", "start", "end"))

    response = client.post(reverse("staff:hours", args=[practitioner.pk]), hours_form(practitioner, rows=[(1, "13:00", "18:00")]))

    assert response.status_code == 500
    after = list(WorkingHours.objects.filter(practitioner=practitioner).values_list("weekday", "start", "end"))
    assert after == before


def test_hours_and_time_off_edited_in_the_admin_are_recorded(client, manager, practitioner):
    client.force_login(manager)
    block = practitioner.working_hours.get(weekday=0)
    url = reverse("admin:bookings_workinghours_change", args=[block.pk])

    client.post(url, admin_form(client, url) | {"end": "16:00:00"})
    off_url = reverse("admin:bookings_timeoff_add")
    client.post(off_url, admin_form(client, off_url) | {
        "practitioner": str(practitioner.pk), "start_0": "2027-04-06", "start_1": "09:00",
        "end_0": "2027-04-06", "end_1": "13:00", "reason": "Dentist"})  # fmt: skip

    (changed,) = events("bookings.workinghours", practitioner=practitioner)
    assert (changed.action, changed.before, changed.after) == ("changed", {"end": "17:00:00"}, {"end": "16:00:00"})
    (added,) = events("bookings.timeoff", practitioner=practitioner)
    assert added.action == "created" and added.actor == manager
    assert TimeOff.objects.filter(practitioner=practitioner).exists()


def test_hours_edited_inline_on_the_practitioners_admin_page_are_recorded(client, manager, practitioner):
    client.force_login(manager)
    url = reverse("admin:bookings_practitioner_change", args=[practitioner.pk])
    form = admin_form(client, url)
    monday = next(key for key, value in form.items() if key.endswith("-weekday") and value == "0")
    form[monday.replace("-weekday", "-DELETE")] = "on"

    response = client.post(url, form)

    assert response.status_code == 302
    (deleted,) = events("bookings.workinghours", practitioner=practitioner)
    assert deleted.action == "deleted" and deleted.before["weekday"] == 0 and deleted.after == {}
    assert not practitioner.working_hours.filter(weekday=0).exists()


def test_deleting_time_off_in_the_admin_is_recorded(client, manager, practitioner):
    off = TimeOffFactory(practitioner=practitioner, start=local(2027, 4, 6, 9), end=local(2027, 4, 6, 13))
    client.force_login(manager)

    client.post(reverse("admin:bookings_timeoff_changelist"), {"action": "delete_selected", "_selected_action": [off.pk], "post": "yes"})

    (event,) = events("bookings.timeoff")
    assert (event.action, event.subject_id, event.actor) == ("deleted", off.pk, manager)
    assert not TimeOff.objects.filter(pk=off.pk).exists()


# --- Clinic rules and e-mails ----------------------------------------------------------------------------------


def test_clinic_rules_changed_in_the_admin_are_recorded(client, manager, db):
    rules = ClinicRules.load()
    client.force_login(manager)
    url = reverse("admin:bookings_clinicrules_change", args=[rules.pk])

    client.post(url, admin_form(client, url) | {"min_notice_hours": "12", "horizon_days": "120"})

    (event,) = events("bookings.clinicrules")
    assert (event.action, event.actor, event.subject_id) == ("changed", manager, rules.pk)
    assert (event.before, event.after) == (
        {"min_notice_hours": 24, "horizon_days": 90},
        {"min_notice_hours": 12, "horizon_days": 120},
    )


def test_sending_an_email_again_is_recorded(client, manager, series):
    message = series.outbox_messages.first()
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", attempts=6, last_error="gave up")
    sent = series.outbox_messages.exclude(pk=message.pk).first()
    client.force_login(manager)

    client.post(
        reverse("admin:bookings_outboxmessage_changelist"),
        {"action": "send_again", "_selected_action": [message.pk, sent.pk]},
    )

    (event,) = events("bookings.outboxmessage")
    assert (event.action, event.actor, event.subject_id, event.series) == ("resent", manager, message.pk, series)
    assert event.before == {"status": "failed", "attempts": 6} and event.after == {"status": "pending", "attempts": 0}


@pytest.mark.parametrize("kind", ["bookings.patient", "bookings.timeoff", "bookings.clinicrules"])
def test_the_trail_lists_every_kind_of_change_in_the_admin(client, manager, practitioner, kind):
    client.force_login(manager)
    url = reverse("admin:bookings_clinicrules_change", args=[ClinicRules.load().pk])
    client.post(url, admin_form(client, url) | {"min_notice_hours": "12"})
    client.post(reverse("staff:patient_new"), {"name": "Lee Chan", "email": "lee@example.com", "phone": "07700 900321"})
    client.post(reverse("staff:hours", args=[practitioner.pk]),
                hours_form(practitioner, rows=[], off=[("2027-04-06T09:00", "2027-04-06T13:00", "Dentist")]))  # fmt: skip
    event = AuditEvent.objects.get(subject_kind=kind)

    listing = client.get(reverse("admin:bookings_auditevent_changelist"), {"subject_kind": kind})
    page = client.get(reverse("admin:bookings_auditevent_change", args=[event.pk]))

    assert listing.status_code == page.status_code == 200
    assert f"/admin/bookings/auditevent/{event.pk}/change/" in listing.content.decode()
