"""Eligibility at booking time (issue 13 §1): the service obeys the treatment's versioned rules."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.db import transaction

from bookings import eligibility_services, services
from bookings.eligibility import DEFAULT_RULES, Kind, assess
from bookings.errors import BookingError, Code
from bookings.models import AuditEvent, EligibilityOverride, Series
from bookings.questionnaire import QUESTIONS
from bookings.services import PatientDetails
from tests.bookings.factories import (
    AppointmentFactory,
    PatientFactory,
    eligibility_rules,
    local,
    microneedling_clinic,
    series_slots,
)

pytestmark = pytest.mark.django_db

NOW = local(2027, 2, 22, 9)  # Monday 22 February 2027
TODAY = date(2027, 2, 22)
NO = {question.key: False for question in QUESTIONS}
RULES = {rule.key: rule for rule in DEFAULT_RULES.rules}


@pytest.fixture
def clinic():
    treatment, (practitioner,), _ = microneedling_clinic(horizon_days=400)
    eligibility_rules(treatment)
    return treatment, practitioner


def book(treatment, practitioner, first, *, answers=None, dates=None, patient=None, for_staff=False):
    return services.series_book(
        treatment=treatment,
        patient=patient or PatientDetails(name="Ada Lovelace", email="ada@example.com", phone="07700 900123"),
        slots=series_slots(practitioner, first),
        answers={**NO, **(answers or {})},
        dates=dates,
        consent_treatment=True,
        consent_privacy=True,
        now=NOW,
        for_staff=for_staff,
    )


def monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


WAITS = [rule.key for rule in DEFAULT_RULES.rules if rule.kind is Kind.WAIT]
REFERS = [rule.key for rule in DEFAULT_RULES.rules if rule.kind is Kind.REFER]


@pytest.mark.parametrize("key", WAITS)
def test_a_first_session_inside_a_wait_is_refused_with_the_date_and_the_reason(clinic, key):
    treatment, practitioner = clinic
    last = TODAY - timedelta(days=3)
    ends = RULES[key].wait.after(last)
    before = monday_on_or_after(TODAY + timedelta(days=2))
    assert before < ends

    with pytest.raises(BookingError) as refused:
        book(treatment, practitioner, local(before.year, before.month, before.day, 10),
             answers={key: True}, dates={key: last})

    assert refused.value.code == Code.NOT_ELIGIBLE_YET
    assert f"{ends.day} {ends:%B %Y}" in refused.value.message
    assert RULES[key].reason in refused.value.message
    assert not Series.objects.exists()


@pytest.mark.parametrize("key", WAITS)
def test_a_first_session_once_the_wait_is_over_is_booked_under_the_rules_version(clinic, key):
    treatment, practitioner = clinic
    last = TODAY - timedelta(days=3)
    day = monday_on_or_after(RULES[key].wait.after(last))

    series = book(treatment, practitioner, local(day.year, day.month, day.day, 10),
                  answers={key: True}, dates={key: last})

    assert series.eligibility_rules.version == 1
    assert series.questionnaires.get().dates == {key: last.isoformat()}


@pytest.mark.parametrize("key", REFERS)
def test_an_answer_a_practitioner_decides_is_not_booked_but_says_call_us(clinic, key):
    treatment, practitioner = clinic

    with pytest.raises(BookingError) as refused:
        book(treatment, practitioner, local(2027, 3, 1, 10), answers={key: True})

    assert refused.value.code == Code.CALL_US
    assert "call us" in refused.value.message
    assert not refused.value.is_conflict  # the API's 400, not 409
    assert not Series.objects.exists()


def test_a_cold_sore_defers_the_first_session_until_the_day_it_heals(clinic):
    treatment, practitioner = clinic
    healed = date(2027, 3, 10)

    with pytest.raises(BookingError) as refused:
        book(treatment, practitioner, local(2027, 3, 8, 10), answers={"active_skin_condition": True},
             dates={"active_skin_condition": healed})
    series = book(treatment, practitioner, local(2027, 3, 10, 10), answers={"active_skin_condition": True},
                  dates={"active_skin_condition": healed})

    assert refused.value.code == Code.NOT_ELIGIBLE_YET
    assert series.needs_review  # asked again before the session


def test_phone_bookings_obey_the_rules_too(clinic):
    treatment, practitioner = clinic

    with pytest.raises(BookingError) as refused:
        book(treatment, practitioner, local(2027, 3, 1, 10), answers={"keloid": True},
             patient=PatientFactory(), for_staff=True)

    assert refused.value.code == Code.CALL_US
    assert "lift the rule" in refused.value.message


def test_without_rules_a_yes_still_books_and_is_held_for_review():
    treatment, (practitioner,), _ = microneedling_clinic()

    series = book(treatment, practitioner, local(2027, 3, 1, 10), answers={"keloid": True})

    assert series.needs_review and series.eligibility_rules is None


def test_a_new_version_applies_to_new_bookings_and_the_old_one_stays(clinic):
    treatment, practitioner = clinic
    first = book(treatment, practitioner, local(2027, 3, 1, 10))
    gentler = DEFAULT_RULES.rules[1:]  # isotretinoin no longer delays
    from bookings.eligibility import RuleSet

    version_2 = eligibility_rules(treatment, RuleSet("x", gentler), note="Consensus 2017")
    second = book(treatment, practitioner, local(2027, 3, 2, 10), answers={"isotretinoin": True},
                  dates={"isotretinoin": TODAY - timedelta(days=10)},
                  patient=PatientDetails(name="Bo", email="bo@example.com", phone="07700 900124"))

    first.refresh_from_db()
    assert (first.eligibility_rules.version, second.eligibility_rules_id) == (1, version_2.pk)
    assert first.eligibility_rules.rules.count() == len(DEFAULT_RULES.rules)
    assert AuditEvent.objects.filter(subject_kind="bookings.eligibilityrules").count() == 2


def test_an_override_by_the_treating_practitioner_lifts_the_rule_and_is_audited(clinic, django_user_model):
    treatment, practitioner = clinic
    practitioner.user = django_user_model.objects.create_user("ana")
    practitioner.save()
    patient = PatientFactory()
    AppointmentFactory(practitioner=practitioner, series__patient=patient, series__treatment=treatment,
                       patient=patient, start=local(2026, 6, 1, 10), end=local(2026, 6, 1, 11),
                       status="completed")

    eligibility_services.override_grant(patient=patient, treatment=treatment, key="keloid",
                                        reason="Seen in clinic: no raised scarring on the face.", by=practitioner.user)
    series = book(treatment, practitioner, local(2027, 3, 1, 10), answers={"keloid": True}, patient=patient,
                  for_staff=True)

    assert series.pk
    event = AuditEvent.objects.get(subject_kind="bookings.eligibilityoverride")
    assert (event.patient_id, event.after["reason"]) == (patient.pk, "Seen in clinic: no raised scarring on the face.")


def test_someone_not_treating_the_patient_cannot_override(clinic, django_user_model):
    treatment, _ = clinic
    stranger = django_user_model.objects.create_user("stranger")

    with pytest.raises(BookingError):
        eligibility_services.override_grant(patient=PatientFactory(), treatment=treatment, key="keloid",
                                            reason="Because.", by=stranger)
    assert not EligibilityOverride.objects.exists()


ANSWER_KEYS = [rule.key for rule in DEFAULT_RULES.rules]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    yes=st.sets(st.sampled_from(ANSWER_KEYS), max_size=3),
    ago=st.dictionaries(st.sampled_from(ANSWER_KEYS), st.integers(min_value=-60, max_value=400)),
    weeks_ahead=st.integers(min_value=1, max_value=40),
)
def test_no_booking_is_ever_made_against_an_eligibility_rule(clinic, yes, ago, weeks_ahead):
    treatment, practitioner = clinic
    dates = {key: TODAY - timedelta(days=days) for key, days in ago.items()}
    answers = {**NO, **{key: True for key in yes}}
    first_day = TODAY + timedelta(weeks=weeks_ahead, days=-TODAY.weekday() % 7)
    first = local(first_day.year, first_day.month, first_day.day, 10)
    verdict = assess(answers=eligibility_services.as_answers(answers, dates), rules=DEFAULT_RULES, today=TODAY)
    with transaction.atomic():
        try:
            series = book(treatment, practitioner, first, answers=answers, dates=dates)
        except BookingError as refusal:
            assert refusal.code in (Code.NOT_ELIGIBLE_YET, Code.CALL_US), refusal.message
            assert not verdict.allows(first_day)
        else:
            assert verdict.allows(first_day), (answers, dates, first_day)
            assert series.needs_review == (bool(yes) or verdict.review)
        transaction.set_rollback(True)
