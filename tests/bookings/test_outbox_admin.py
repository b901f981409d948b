"""The back office shows every e-mail (failed ones where staff look) and the e-mail timings."""

from django.urls import reverse
from django.utils import timezone

from bookings.models import OutboxMessage
from tests.bookings.factories import SeriesFactory

Status = OutboxMessage.Status
CHANGELIST = reverse("admin:bookings_outboxmessage_changelist")


def outgoing(series, n, status, error=""):
    now = timezone.now()
    return OutboxMessage.objects.create(
        key=f"test:{n}",
        kind=OutboxMessage.Kind.REMINDER,
        series=series,
        anchor_at=now,
        due_at=now,
        status=status,
        attempts=6 if status == Status.FAILED else 0,
        last_error=error,
        sent_at=now if status == Status.SENT else None,
    )


def test_failed_emails_are_listed_with_their_error_under_the_failed_filter(admin_client, db):
    series = SeriesFactory(patient__name="Jo Failed")
    outgoing(series, 1, Status.FAILED, error="SMTPDataError(451, 'try later')")
    outgoing(SeriesFactory(patient__name="Pat Pending"), 2, Status.PENDING)

    response = admin_client.get(CHANGELIST, {"status__exact": "failed"})

    assert response.status_code == 200
    assert "Jo Failed" in response.text and "try later" in response.text
    assert "Pat Pending" not in response.text


def test_send_again_puts_failed_emails_back_in_the_queue(admin_client, db):
    row = outgoing(SeriesFactory(), 1, Status.FAILED, error="gave up")

    response = admin_client.post(CHANGELIST, {"action": "send_again", "_selected_action": [row.pk]})

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 0)


def test_emails_cannot_be_edited_in_the_admin(admin_client, db):
    row = outgoing(SeriesFactory(), 1, Status.SENT)

    response = admin_client.post(
        reverse("admin:bookings_outboxmessage_change", args=[row.pk]), {"status": "pending"}
    )

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_the_email_timings_are_clinic_rules_in_the_admin(admin_client, db):
    from bookings.models import ClinicRules

    response = admin_client.get(reverse("admin:bookings_clinicrules_change", args=[ClinicRules.load().pk]))

    assert "E-mails between sessions" in response.text
    for field in ("reminder_days_before", "reminder_morning_time", "aftercare_followup_days", "message_time"):
        assert f'name="{field}"' in response.text


def test_new_timings_saved_in_the_admin_move_the_emails_not_sent_yet(
    client, admin_user, django_capture_on_commit_callbacks
):
    import time_machine

    from bookings.models import ClinicRules
    from tests.bookings.factories import local
    from tests.bookings.patient_fixtures import NOW, book, treatment  # noqa: F401

    with time_machine.travel(NOW, tick=False):
        from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules

        clinic_rules(buffer_minutes=0)
        course = TreatmentFactory(sessions_in_series=3)
        series = book(course, local(2027, 3, 9, 10), PractitionerFactory(treatments=[course]))
        client.force_login(admin_user)  # in 2027: a session from today's login would have expired
        rules = ClinicRules.load()
        form = {
            field.name: getattr(rules, field.name) for field in ClinicRules._meta.fields if field.name != "id"
        }
        form = {name: "" if value is None else value for name, value in form.items()}
        form["reminder_days_before"] = 3

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("admin:bookings_clinicrules_change", args=[rules.pk]), form)

    assert response.status_code == 302 and response.url == reverse("admin:bookings_clinicrules_changelist")
    assert ClinicRules.load().reminder_days_before == 3
    reminders = series.outbox_messages.filter(kind=OutboxMessage.Kind.REMINDER)
    assert reminders.get(status=Status.PENDING, session_number=1).due_at == local(2027, 3, 6, 10)
