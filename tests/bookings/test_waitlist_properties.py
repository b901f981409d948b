"""Properties of the wired waitlist over random calendars (hypothesis, on the real PostgreSQL).

Random series wait for a sooner session with random days and times; random sessions of other
patients are cancelled; the matcher offers the freed times (holds); random offers are claimed,
the rest expire. Whatever happens: no hold ever overlaps an appointment (practitioner or patient),
and every claimed offer leaves its whole series inside the spacing windows.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookings import services, waitlist_services
from bookings.availability import days_between
from bookings.errors import BookingError
from bookings.models import Appointment, Offer, WaitlistEntry
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules, clinic_zone, local
from tests.bookings.waitlist_fixtures import book_at

NOW = local(2027, 3, 1, 8)
WEEKDAY_MONDAYS = [local(2027, 3, 8), local(2027, 3, 15)]  # first sessions in these two weeks


# A waiting series: its first session's week and weekday, session 2 late in its window (42 days)
# or not, the gap to session 3; then the session it wants sooner and the days and times that suit.
waiting_series = st.tuples(
    st.integers(0, 1),
    st.integers(0, 4),
    st.sampled_from([35, 42, 42]),
    st.sampled_from([28, 35, 42]),
    st.sampled_from([2, 2, 3]),
    st.lists(st.integers(0, 4), max_size=3, unique=True),
    st.lists(st.sampled_from(["morning", "afternoon"]), max_size=2, unique=True),
)
# Another patient's series whose first session falls 4 or 5 weeks after a waiting series' first (a
# time that may suit it), and which of its sessions is cancelled.
cancelled_series = st.tuples(st.integers(0, 3), st.sampled_from([28, 35]), st.sampled_from([1, 1, 2]))


def assert_no_hold_overlaps():
    holds = list(Appointment.objects.filter(status=Appointment.Status.HELD))
    others = list(Appointment.objects.blocking())
    for hold in holds:
        for other in others:
            if other.pk == hold.pk or not (hold.start < other.end and other.start < hold.end):
                continue
            assert hold.practitioner_id != other.practitioner_id, (hold, other)
            assert hold.patient_id != other.patient_id, (hold, other)


def assert_inside_windows(series, treatment):
    tz = clinic_zone()
    live = sorted(series.appointments.active(), key=lambda a: a.session_number)
    assert [a.session_number for a in live] == sorted({a.session_number for a in live})
    starts = [a.start for a in live]
    assert starts == sorted(starts)
    for earlier, later in zip(live, live[1:], strict=False):
        gap = days_between(earlier.start, later.start, tz)
        assert treatment.min_days_between <= gap <= treatment.max_days_between, (series, gap)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    waiting=st.lists(waiting_series, min_size=1, max_size=4),
    cancelled=st.lists(cancelled_series, min_size=1, max_size=3),
    claims=st.lists(st.sampled_from([True, True, False]), min_size=6, max_size=6),
)
def test_holds_never_overlap_and_claims_keep_series_in_their_windows(waiting, cancelled, claims):
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48, horizon_days=90)
        treatment = TreatmentFactory(sessions_in_series=3, min_days_between=28, max_days_between=42)
        practitioner = PractitionerFactory(treatments=[treatment])
        # Everyone at an hour of their own (waiting 9:00-12:00, the others 13:00-15:00), so the
        # random calendars never collide by construction; whole-week gaps keep working days.
        firsts = []
        for index, (week, weekday, gap1, gap2, number, days, parts) in enumerate(waiting):
            start = WEEKDAY_MONDAYS[week] + timedelta(days=weekday, hours=9 + index)
            firsts.append(start)
            series = book_at(treatment, practitioner, [start, start + timedelta(days=gap1),
                                                       start + timedelta(days=gap1 + gap2)],
                             name=f"W{index}", email=f"w{index}@example.com")
            waitlist_services.entry_join(series=series, number=number, weekdays=days, parts=parts)
        for index, (target, offset, number) in enumerate(cancelled):
            first = firsts[target % len(firsts)]
            start = first.replace(hour=13 + index) + timedelta(days=offset)
            series = book_at(treatment, practitioner, [start, start + timedelta(days=28), start + timedelta(days=56)],
                             name=f"C{index}", email=f"c{index}@example.com")
            appointment = series.appointments.get(session_number=number)
            services.appointment_cancel(appointment=appointment)
            # What the task does once the cancel commits (on-commit hooks do not run in this test's
            # transaction, so it is called here).
            waitlist_services.time_freed(freed=waitlist_services.Freed(
                appointment.practitioner_id, appointment.start, appointment.end, appointment.room_id))
            assert_no_hold_overlaps()

        for offer, claim in zip(Offer.objects.filter(status=Offer.Status.OPEN).order_by("pk"), claims, strict=False):
            if claim:
                try:
                    waitlist_services.offer_claim(offer=offer)
                except BookingError as refusal:
                    event(f"claim refused: {refusal.code}")  # a refusal is allowed (a sentence); a claimed offer must keep the windows
                assert_no_hold_overlaps()
            else:
                waitlist_services.offer_release(offer=offer, now=offer.expires_at)
                assert_no_hold_overlaps()
        claimed = Offer.objects.filter(status=Offer.Status.CLAIMED)
        event(f"offers made: {min(Offer.objects.count(), 2)}+, claimed: {min(claimed.count(), 1)}+")
        for offer in claimed.select_related("series"):
            assert offer.entry.status == WaitlistEntry.Status.FULFILLED
            assert_inside_windows(offer.series, treatment)
            moved = offer.series.appointments.get(session_number=offer.entry.session_number, status="booked")
            assert moved.start == datetime.fromisoformat(offer.proposed[0]["start"])
        transaction.set_rollback(True)
