"""Racing the waitlist on the real PostgreSQL with real threads (each its own connection).

The first valid claim wins, decided by the database (a conditional UPDATE of the open offer under
the series lock); an offer expiring while it is being claimed has exactly one outcome; a hold and a
booking racing for one freed time never both land.
"""

from datetime import timedelta

import pytest

from bookings import services, waitlist_services
from bookings.errors import BookingError
from bookings.models import Appointment, Offer, Series, WaitlistEntry
from tests.bookings.factories import local
from tests.bookings.threads import race
from tests.bookings.waitlist_fixtures import (  # noqa: F401
    FREED_AT,
    book_at,
    frozen,
    jo,
    jo_waiting,
    practitioner,
    sam,
    sessions,
    treatment,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def offered(jo_waiting, sam):
    services.appointment_cancel(appointment=sam.appointments.get(session_number=1))
    # Transactional test: the on-commit task ran inline (eager Celery) once the cancel committed.
    return Offer.objects.get(entry=jo_waiting)


def assert_no_overlaps():
    rows = list(Appointment.objects.blocking())
    for a in rows:
        for b in rows:
            if a.pk < b.pk and a.start < b.end and b.start < a.end:
                assert a.practitioner_id != b.practitioner_id and a.patient_id != b.patient_id, (a, b)


def test_twenty_claims_of_one_offer_exactly_one_wins(offered, jo):
    versions = dict(jo.appointments.values_list("session_number", "version"))
    outcomes = race([lambda: waitlist_services.offer_claim(offer=Offer.objects.get(pk=offered.pk))] * 20)

    winners = [outcome for outcome in outcomes if isinstance(outcome, Offer)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, BookingError)]
    assert len(winners) == 1 and len(losers) == 19, outcomes
    assert {loser.message for loser in losers} <= {waitlist_services.ALREADY_CLAIMED, services.busy().message}
    assert sessions(jo)[2] == FREED_AT
    after = dict(jo.appointments.active().values_list("session_number", "version"))
    assert after[2] == versions[2] + 1  # moved once, not twenty times
    assert not Appointment.objects.filter(status=Appointment.Status.HELD).exists()
    assert_no_overlaps()


@pytest.mark.parametrize("attempt", range(3))
def test_an_offer_expiring_while_it_is_claimed_has_exactly_one_outcome(offered, jo, attempt):
    just_before = offered.expires_at - timedelta(milliseconds=1)
    outcomes = race([
        lambda: waitlist_services.offer_claim(offer=Offer.objects.get(pk=offered.pk), now=just_before),
        lambda: waitlist_services.offers_expire(now=offered.expires_at),
    ])
    claimed, expired = outcomes
    offered.refresh_from_db()
    if isinstance(claimed, Offer):
        assert expired == 0 and offered.status == Offer.Status.CLAIMED
        assert sessions(jo)[2] == FREED_AT
    else:
        assert isinstance(claimed, BookingError), claimed
        assert expired == 1 and offered.status == Offer.Status.EXPIRED
        assert sessions(jo)[2] == local(2027, 4, 20, 10)
    assert not Appointment.objects.filter(status=Appointment.Status.HELD, offer=offered).exists()
    assert_no_overlaps()


def test_a_hold_and_a_booking_racing_for_the_freed_time_never_both_land(jo_waiting, sam, treatment, practitioner):
    # Sam's cancel commits with the matcher switched off, so the race below is the first to want the time.
    WaitlistEntry.objects.filter(pk=jo_waiting.pk).update(status=WaitlistEntry.Status.WITHDRAWN)
    services.appointment_cancel(appointment=sam.appointments.get(session_number=1))
    WaitlistEntry.objects.filter(pk=jo_waiting.pk).update(status=WaitlistEntry.Status.WAITING)
    freed = waitlist_services.Freed(practitioner.pk, FREED_AT, FREED_AT + timedelta(hours=1))
    starts = [FREED_AT, FREED_AT + timedelta(days=28, hours=1), FREED_AT + timedelta(days=56, hours=5)]  # all free
    outcomes = race([
        lambda: waitlist_services.time_freed(freed=freed),
        lambda: book_at(treatment, practitioner, starts, name="Alex Doe", email="alex@example.com"),
    ])
    offers, booking = outcomes
    assert isinstance(offers, list) and isinstance(booking, Series | BookingError), outcomes
    assert (len(offers) == 1) != isinstance(booking, Series), outcomes
    assert_no_overlaps()
