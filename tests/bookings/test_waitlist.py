"""The series-aware waitlist, wired: a freed time becomes a held offer, claimed in one click, or expires."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from bookings import ics, services, waitlist_services
from bookings.availability import Slot, days_between
from bookings.errors import BookingError
from bookings.models import Appointment, AuditEvent, Offer, OutboxMessage, WaitlistEntry
from tests.bookings.factories import clinic_zone, local
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

Kind = OutboxMessage.Kind


def cancel_first_of(series, capture):
    with capture(execute=True):
        services.appointment_cancel(appointment=series.appointments.get(session_number=1))


@pytest.fixture
def offered(jo_waiting, sam, django_capture_on_commit_callbacks):
    """Sam cancels 6 April 10:00; the time is offered to Jo (after the cancel commits)."""
    cancel_first_of(sam, django_capture_on_commit_callbacks)
    return Offer.objects.get(entry=jo_waiting)


def test_a_cancelled_time_is_offered_to_the_waiting_session_and_held(offered, jo, practitioner, mailoutbox):
    holds = {a.session_number: a for a in Appointment.objects.filter(status=Appointment.Status.HELD)}
    assert set(holds) == {2, 3}  # session 2 sooner, and session 3 brought into its window with it
    assert holds[2].start == FREED_AT and holds[2].offer == offered
    assert 28 <= days_between(FREED_AT, holds[3].start, clinic_zone()) <= 42
    assert offered.status == Offer.Status.OPEN and offered.expires_at == local(2027, 3, 1, 10)
    assert offered.entry.status == WaitlistEntry.Status.OFFERED
    # Jo's own sessions are untouched until Jo claims.
    assert sessions(jo) == {1: local(2027, 3, 9, 10), 2: local(2027, 4, 20, 10), 3: local(2027, 6, 1, 10)}
    offer_mail = next(m for m in mailoutbox if "sooner time" in m.subject)
    assert offer_mail.to == ["jo@example.com"]
    assert "Session 2: Tuesday 6 April 2027, 10:00–11:00" in offer_mail.body
    assert "(instead of Tuesday 20 April, 10:00)" in offer_mail.body
    assert "until 10:00 on Monday 1 March" in offer_mail.body
    assert waitlist_services.claim_url(offered) in offer_mail.body


def test_a_hold_blocks_the_time_for_everyone_else(offered, treatment, practitioner):
    taken = Slot(FREED_AT, FREED_AT + timedelta(hours=1), practitioner.pk)
    with pytest.raises(BookingError) as refusal:
        book_at(treatment, practitioner, [FREED_AT, FREED_AT + timedelta(days=28), FREED_AT + timedelta(days=56)],
                name="Alex Doe", email="alex@example.com")
    assert refusal.value.code == "taken"
    from bookings import selectors

    schedule = selectors.load_schedule(treatment=treatment, first_day=FREED_AT.date(), last_day=FREED_AT.date())
    assert not schedule.is_free(taken)


def test_the_database_refuses_a_booking_over_a_hold_even_without_the_python_check(offered, sam):
    hold = Appointment.objects.get(status=Appointment.Status.HELD, session_number=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            series=sam, patient=sam.patient, session_number=1, practitioner_id=hold.practitioner_id,
            start=hold.start + timedelta(minutes=30), end=hold.end + timedelta(minutes=30),
        )


def test_holds_are_not_the_patients_sessions(offered, jo, client):
    from bookings.tokens import manage_path

    assert set(jo.appointments.active().values_list("status", flat=True)) == {"booked"}
    content = ics.series_calendar(jo).decode()
    assert content.count("BEGIN:VEVENT") == 3
    planned = OutboxMessage.objects.filter(series=jo, appointment__status=Appointment.Status.HELD)
    assert not planned.exists()  # no reminders for a hold
    html = client.get(manage_path(jo)).content.decode()
    assert "Tuesday 6 April 2027, 10:00</strong> to" not in html  # not shown as booked
    assert "We are holding" in html  # shown as an offer


def test_claiming_moves_the_session_and_the_later_one(offered, jo, mailoutbox, django_capture_on_commit_callbacks):
    held3 = Appointment.objects.get(status=Appointment.Status.HELD, session_number=3).start
    before = {a.session_number: a.sequence for a in jo.appointments.all()}
    with django_capture_on_commit_callbacks(execute=True):
        waitlist_services.offer_claim(offer=offered)
    assert sessions(jo) == {1: local(2027, 3, 9, 10), 2: FREED_AT, 3: held3}
    assert not Appointment.objects.filter(status=Appointment.Status.HELD).exists()
    offered.refresh_from_db()
    assert offered.status == Offer.Status.CLAIMED and offered.entry.status == WaitlistEntry.Status.FULFILLED
    moved = AuditEvent.objects.filter(series=jo, action=AuditEvent.Action.MOVED)
    assert sorted(event.appointment.session_number for event in moved) == [2, 3]
    after = {a.session_number: a.sequence for a in jo.appointments.all()}
    assert after[2] == before[2] + 1 and after[3] == before[3] + 1 and after[1] == before[1]
    assert any(m.subject.startswith("Your appointments have moved") for m in mailoutbox)


def test_a_second_claim_gets_a_sentence(offered):
    waitlist_services.offer_claim(offer=offered)
    with pytest.raises(BookingError) as refusal:
        waitlist_services.offer_claim(offer=offered)
    assert refusal.value.message == waitlist_services.ALREADY_CLAIMED


def test_a_claim_after_expiry_is_refused_and_the_time_goes_to_the_next(
    offered, treatment, practitioner, django_capture_on_commit_callbacks, frozen
):
    # Kim waits too (later than Jo), for session 2 of a series that fits 6 April as well.
    kim = book_at(treatment, practitioner, [local(2027, 3, 9, 14), local(2027, 4, 20, 14), local(2027, 5, 18, 14)],
                  name="Kim Lee", email="kim@example.com")
    kim_entry = waitlist_services.entry_join(series=kim, number=2, weekdays=[], parts=[])
    frozen.move_to(local(2027, 3, 1, 10, 1))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BookingError) as refusal:
        waitlist_services.offer_claim(offer=offered)
    assert "this offer has expired: we held the time until 10:00 on Monday 1 March" in refusal.value.message
    offered.refresh_from_db()
    assert offered.status == Offer.Status.EXPIRED
    assert offered.entry.status == WaitlistEntry.Status.WAITING  # Jo keeps their place for another time
    kims = Offer.objects.get(entry=kim_entry)
    assert kims.status == Offer.Status.OPEN
    assert kims.holds.get(session_number=2).start == FREED_AT


def test_the_expiry_task_releases_holds(offered, frozen, django_capture_on_commit_callbacks):
    frozen.move_to(local(2027, 3, 1, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist_services.offers_expire() == 1
    assert not Appointment.objects.filter(status=Appointment.Status.HELD).exists()
    offered.refresh_from_db()
    assert offered.status == Offer.Status.EXPIRED


def test_nothing_is_offered_that_is_not_sooner_or_does_not_suit(jo, sam, django_capture_on_commit_callbacks):
    waitlist_services.entry_join(series=jo, number=2, weekdays=[0], parts=[])  # Mondays only
    cancel_first_of(sam, django_capture_on_commit_callbacks)  # a Tuesday
    assert not Offer.objects.exists()


def test_the_front_desk_offers_a_time_by_hand(jo_waiting, jo, practitioner, django_user_model):
    user = django_user_model.objects.create_user("desk")
    offer = waitlist_services.offer_make(entry=jo_waiting, start=local(2027, 4, 13, 10), practitioner=practitioner,
                                         by=user)
    assert offer.holds.get(session_number=2).start == local(2027, 4, 13, 10)
    assert offer.created_by == user
    with pytest.raises(BookingError):
        waitlist_services.offer_make(entry=jo_waiting, start=local(2027, 4, 14, 10), practitioner=practitioner,
                                     by=user)


def test_the_front_desk_cannot_offer_a_time_too_close_to_the_session_before(jo_waiting, practitioner,
                                                                           django_user_model):
    user = django_user_model.objects.create_user("desk")
    with pytest.raises(BookingError) as refusal:
        waitlist_services.offer_make(entry=jo_waiting, start=local(2027, 3, 30, 10), practitioner=practitioner,
                                     by=user)  # 21 days after session 1
    assert "spacing window" in refusal.value.message


def test_withdrawing_releases_an_open_offer(offered):
    waitlist_services.entry_withdraw(entry=offered.entry)
    offered.refresh_from_db()
    assert offered.status == Offer.Status.RELEASED
    assert not Appointment.objects.filter(status=Appointment.Status.HELD).exists()




# --- The pages ---------------------------------------------------------------------------------------


def test_the_manage_page_asks_for_sooner_and_the_patient_joins(client, jo):
    from bookings.tokens import manage_path

    html = client.get(manage_path(jo)).content.decode()
    sooner = f"{manage_path(jo)}sessions/2/sooner/"
    assert sooner in html and "Sooner if possible" in html
    page = client.get(sooner)
    assert page.status_code == 200 and "Tuesday 20 April 2027, 10:00" in page.content.decode()
    response = client.post(sooner, {"weekdays": ["1", "3"], "parts": ["morning"]})
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(series=jo, session_number=2)
    assert entry.weekdays == [1, 3] and entry.times == [["00:00", "12:00"]]
    html = client.get(manage_path(jo)).content.decode()
    assert "On the waitlist for a sooner time since 1 March" in html
    client.post(f"{sooner}withdraw/")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WITHDRAWN


def test_opening_the_offer_link_claims_nothing_and_the_button_does(client, offered, jo):
    path = waitlist_services.claim_path(offered)
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 200 and "Take this time" in html
    assert "Session 2: Tuesday 6 April 2027, 10:00–11:00" in html and "instead of Tuesday 20 April 2027, 10:00" in html
    offered.refresh_from_db()
    assert offered.status == Offer.Status.OPEN  # a link scanner's GET took nothing
    response = client.post(path)
    assert response.status_code == 302
    assert sessions(jo)[2] == FREED_AT
    again = client.post(path)
    assert again.status_code == 409 and waitlist_services.ALREADY_CLAIMED in again.content.decode()


def test_the_offer_link_after_expiry_says_so(client, offered, frozen):
    frozen.move_to(local(2027, 3, 1, 10, 30))
    html = client.get(waitlist_services.claim_path(offered)).content.decode()
    assert "Sorry, this offer has expired: we held the time until 10:00 on Monday 1 March" in html
    assert "Take this time" not in html
    response = client.post(waitlist_services.claim_path(offered))
    assert response.status_code == 409


def test_an_unknown_offer_link_is_a_404(client, db):
    assert client.get("/bookings/offers/not-a-token/").status_code == 404


def test_a_new_patient_waits_is_offered_a_series_and_books_it(
    client, treatment, practitioner, sam, django_capture_on_commit_callbacks, mailoutbox
):
    from bookings.questionnaire import QUESTIONS

    response = client.post(f"/book/{treatment.slug}/waitlist/", {
        "name": "Ria Patel", "email": "ria@example.com", "phone": "07700 900456", "parts": ["morning"],
    })
    assert response.status_code == 200 and "You are on the waitlist" in response.content.decode()
    entry = WaitlistEntry.objects.get(email="ria@example.com")
    cancel_first_of(sam, django_capture_on_commit_callbacks)
    offer = Offer.objects.get(entry=entry)
    assert sorted(offer.holds.values_list("session_number", flat=True)) == [1, 2, 3]
    assert offer.holds.get(session_number=1).start == FREED_AT
    mail = next(m for m in mailoutbox if m.to == ["ria@example.com"])
    assert "Session 1: Tuesday 6 April 2027, 10:00–11:00" in mail.body
    path = waitlist_services.claim_path(offer)
    page = client.post(path, {})  # no answers: a sentence, nothing booked
    assert page.status_code == 400 and "Please answer every question" in page.content.decode()
    answers = {f"answer_{question.key}": "no" for question in QUESTIONS}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {**answers, "consent_treatment": "on", "consent_privacy": "on"})
    assert response.status_code == 302
    series = offer.series
    series.refresh_from_db()
    assert series.status == "active" and series.patient.email == "ria@example.com"
    assert sorted(series.appointments.active().values_list("session_number", flat=True)) == [1, 2, 3]
    assert series.questionnaires.count() == 1
    assert series.audit_events.filter(action="created", patient=series.patient).exists()
    assert any("is booked" in m.subject and m.to == ["ria@example.com"] for m in mailoutbox)


def test_the_calendar_step_offers_the_waitlist_and_the_join_form_says_what_is_wrong(client, treatment, practitioner):
    html = client.get(f"/book/{treatment.slug}/").content.decode()
    assert f'href="/book/{treatment.slug}/waitlist/">Join the waitlist</a>' in html
    response = client.post(f"/book/{treatment.slug}/waitlist/", {"name": "", "email": "not an address"})
    assert response.status_code == 400 and "Please correct the fields marked below." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_asking_for_sooner_inside_the_cutoff_is_a_sentence(jo, frozen):
    frozen.move_to(local(2027, 4, 19, 9))  # session 2 is tomorrow
    with pytest.raises(BookingError) as refusal:
        waitlist_services.entry_join(series=jo, number=2, weekdays=[], parts=[])
    assert "less than 48 hours away" in refusal.value.message


def test_hours_added_at_the_desk_are_offered_to_the_waitlist(client, jo_waiting, practitioner,
                                                             django_capture_on_commit_callbacks):
    from django.urls import reverse

    from tests.bookings.staff_fixtures import staff_user

    client.force_login(staff_user("max", "Manager", is_staff=True))
    existing = list(practitioner.working_hours.all())
    data = {"hours-TOTAL_FORMS": str(len(existing) + 1), "hours-INITIAL_FORMS": str(len(existing)),
            "off-TOTAL_FORMS": "0", "off-INITIAL_FORMS": "0"}
    for n, block in enumerate(existing):
        data |= {f"hours-{n}-id": str(block.pk), f"hours-{n}-weekday": str(block.weekday),
                 f"hours-{n}-start": f"{block.start:%H:%M}", f"hours-{n}-end": f"{block.end:%H:%M}"}
    n = len(existing)
    data |= {f"hours-{n}-weekday": "5", f"hours-{n}-start": "09:00", f"hours-{n}-end": "13:00"}  # Saturdays
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:hours", args=[practitioner.pk]), data)
    assert response.status_code == 302
    hold = Offer.objects.get(entry=jo_waiting).holds.get(session_number=2)
    local_start = hold.start.astimezone(clinic_zone())
    assert local_start.weekday() == 5 and local_start.hour < 12  # a Saturday morning, as Jo asked mornings
