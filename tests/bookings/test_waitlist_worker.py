"""The waitlist with the real pieces: a cancel commits, the Celery worker (a subprocess, on the
Redis broker) matches the freed time and the offer e-mail reaches an SMTP server; the expiry task
run by the worker releases the hold and the next patient is offered the time. Real clock."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from bookings import services, tasks, waitlist_services
from bookings.models import Appointment, Offer
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules
from tests.bookings.waitlist_fixtures import book_at as book
from tests.bookings.test_email_worker import WAIT, live  # noqa: F401
from tests.smtp_sink import wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def test_the_worker_offers_the_freed_time_and_the_expiry_task_passes_it_on(live):  # noqa: F811
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48)
    treatment = TreatmentFactory(name="Microneedling course", sessions_in_series=3)
    practitioner = PractitionerFactory(name="Dr Ana Silva", treatments=[treatment], hours=EVERY_DAY)
    first = timezone.localdate() + timedelta(days=10)
    jo = book(treatment, practitioner, [at(first, 10), at(first + timedelta(days=42), 10),
                                        at(first + timedelta(days=84), 10)], "Jo Bloggs", "jo@example.com")
    kim = book(treatment, practitioner, [at(first, 11), at(first + timedelta(days=42), 11),
                                         at(first + timedelta(days=70), 11)], "Kim Lee", "kim@example.com")
    sam = book(treatment, practitioner, [at(first + timedelta(days=28), 10), at(first + timedelta(days=56), 10),
                                         at(first + timedelta(days=84), 14)], "Sam Carter", "sam@example.com")
    jo_entry = waitlist_services.entry_join(series=jo, number=2, weekdays=[], parts=[])
    kim_entry = waitlist_services.entry_join(series=kim, number=2, weekdays=[], parts=[])
    live.worker()
    live.sink.wait_for(3, timeout=WAIT)  # the three booking confirmations

    services.appointment_cancel(appointment=sam.appointments.get(session_number=1))

    live.sink.wait_for(5, timeout=WAIT)  # Sam's cancellation and Jo's offer, in either order
    mails = {message["To"]: message for message in live.sink.messages[3:]}
    assert "sooner time" in mails["jo@example.com"]["Subject"], [m["Subject"] for m in live.sink.messages]
    offer = Offer.objects.get(entry=jo_entry)
    body = mails["jo@example.com"].get_body(("plain",)).get_content()
    assert re.search(rf"/bookings/offers/{re.escape(offer.token)}/", body)

    # The hold ends; the beat task (run by the worker) releases it and the time goes to Kim.
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    Appointment.objects.filter(offer=offer).update(held_until=timezone.now() - timedelta(seconds=1))
    tasks.waitlist_offers_expire.delay()
    wait_until(lambda: Offer.objects.filter(entry=kim_entry, status=Offer.Status.OPEN).exists(), timeout=WAIT,
               what="the time offered to Kim")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    kims = live.sink.wait_for(6, timeout=WAIT)[-1]
    assert kims["To"] == "kim@example.com" and "sooner time" in kims["Subject"]
    assert Offer.objects.get(entry=kim_entry).holds.get(session_number=2).start == at(first + timedelta(days=28), 10)
