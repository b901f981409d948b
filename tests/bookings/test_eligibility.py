"""The eligibility engine: answers with dates become bookable / bookable from a date / call us."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.eligibility import (
    DEFAULT_RULES,
    Answer,
    Kind,
    Outcome,
    Period,
    Rule,
    RuleSet,
    assess,
)

TODAY = date(2026, 12, 3)


def verdict(today=TODAY, overrides=(), **answers):
    return assess(answers=answers, rules=DEFAULT_RULES, today=today, overrides=overrides)


def test_no_yes_is_bookable_without_a_limit():
    result = verdict(pregnant=Answer(False), isotretinoin=Answer(False))
    assert result.outcome is Outcome.BOOKABLE
    assert result.earliest is None
    assert not result.review
    assert result.allows(TODAY)
    assert result.version == DEFAULT_RULES.version


def test_isotretinoin_within_six_months_books_from_six_months_after_the_last_dose():
    result = verdict(isotretinoin=Answer(True, on=date(2026, 12, 3)))
    assert result.outcome is Outcome.BOOKABLE_FROM
    assert result.earliest == date(2027, 6, 3)
    assert result.review
    assert result.sentences == ["From Thursday 3 June 2027: six months after your last isotretinoin dose."]
    assert not result.allows(date(2027, 6, 2))
    assert result.allows(date(2027, 6, 3))


def test_isotretinoin_stopped_long_ago_no_longer_counts():
    result = verdict(isotretinoin=Answer(True, on=date(2025, 1, 10)))
    assert result.outcome is Outcome.BOOKABLE
    assert result.findings == ()
    assert not result.review


def test_a_wait_without_a_date_counts_from_today():
    result = verdict(peel_laser=Answer(True))
    assert result.earliest == TODAY + timedelta(days=14)
    assert "counted from today" in result.sentences[0]
    assert "two weeks after a chemical peel" in result.sentences[0]


def test_the_longest_wait_wins_and_each_answer_is_explained():
    result = verdict(
        toxin=Answer(True, on=date(2026, 12, 1)),
        filler=Answer(True, on=date(2026, 11, 30)),
    )
    assert result.earliest == date(2026, 12, 28)  # filler: 4 weeks after 30 Nov
    assert [finding.key for finding in result.findings] == ["toxin", "filler"]
    assert "four weeks after filler" in result.sentences[1]


def test_an_active_cold_sore_defers_until_healed_and_asks_again():
    dated = verdict(active_skin_condition=Answer(True, on=date(2026, 12, 10)))
    assert dated.earliest == date(2026, 12, 10)
    assert dated.review
    assert "ask you again" in dated.sentences[0]
    undated = verdict(active_skin_condition=Answer(True))
    assert undated.earliest == TODAY + timedelta(days=14)
    assert "two weeks from today" in undated.sentences[0]


@pytest.mark.parametrize("key", ["pregnant", "keloid", "blood_thinners", "skin_cancer", "chemo_radio"])
def test_answers_a_practitioner_must_discuss_are_not_booked_online(key):
    result = verdict(**{key: Answer(True)})
    assert result.outcome is Outcome.CALL_US
    assert result.review
    assert not result.allows(TODAY + timedelta(days=3650))
    assert "please call us" in result.sentences[0]


def test_call_us_wins_over_a_date_but_every_reason_is_kept():
    result = verdict(pregnant=Answer(True), isotretinoin=Answer(True, on=TODAY))
    assert result.outcome is Outcome.CALL_US
    assert len(result.findings) == 2


def test_a_practitioner_override_lifts_only_the_named_rule():
    result = verdict(overrides={"isotretinoin"}, isotretinoin=Answer(True, on=TODAY), toxin=Answer(True, on=TODAY))
    assert [finding.key for finding in result.findings] == ["toxin"]
    assert result.earliest == TODAY + timedelta(days=14)


def test_review_rules_flag_without_delaying():
    rules = RuleSet("v1", (Rule("acne_scars_meds", Kind.REVIEW, "about your acne medicines"),))
    result = assess(answers={"acne_scars_meds": Answer(True)}, rules=rules, today=TODAY)
    assert result.outcome is Outcome.BOOKABLE
    assert result.review
    assert result.sentences == ["A practitioner will check your answer about your acne medicines."]


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (date(2026, 8, 31), Period(months=6), date(2027, 2, 28)),
        (date(2027, 8, 31), Period(months=6), date(2028, 2, 29)),
        (date(2026, 12, 3), Period(months=1, days=7), date(2027, 1, 10)),
        (date(9999, 10, 1), Period(months=6), date.max),
        (date(9999, 12, 30), Period(days=14), date.max),
    ],
)
def test_periods_are_calendar_months_clamped_to_the_month_end(start, period, expected):
    assert period.after(start) == expected


def test_a_rule_set_has_one_rule_per_question_and_no_negative_waits():
    with pytest.raises(ValueError):
        RuleSet("x", (Rule("a", Kind.REFER, "r"), Rule("a", Kind.REVIEW, "r")))
    with pytest.raises(ValueError):
        Period(days=-1)


# --- Properties over random answers and dates ---------------------------------------------------

keys = [rule.key for rule in DEFAULT_RULES.rules]
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
answers_strategy = st.dictionaries(
    st.sampled_from(keys), st.builds(Answer, yes=st.booleans(), on=st.none() | days), max_size=len(keys)
)


@settings(max_examples=300, deadline=None)
@given(answers=answers_strategy, today=days, overrides=st.sets(st.sampled_from(keys)))
def test_no_session_is_allowed_against_a_rule(answers, today, overrides):
    result = assess(answers=answers, rules=DEFAULT_RULES, today=today, overrides=overrides)
    for rule in DEFAULT_RULES.rules:
        answer = answers.get(rule.key)
        if answer is None or not answer.yes or rule.key in overrides:
            continue
        if rule.kind is Kind.REFER:
            assert result.outcome is Outcome.CALL_US
        elif rule.kind is Kind.WAIT:
            blocked_until = rule.wait.after(answer.on or today)
            # No day before the wait ends is allowed.
            if blocked_until > today:
                assert not result.allows(blocked_until - timedelta(days=1))
    if result.outcome is not Outcome.CALL_US and result.earliest is not None:
        assert result.allows(result.earliest)
        assert result.earliest > today
    assert (result.outcome is Outcome.BOOKABLE) == (not result.findings or all(
        finding.kind is Kind.REVIEW for finding in result.findings
    ))


@settings(max_examples=200, deadline=None)
@given(answers=answers_strategy, today=days, key=st.sampled_from(keys), on=st.none() | days)
def test_another_yes_never_makes_the_first_session_earlier(answers, today, key, on):
    if key in answers and answers[key].yes:
        return  # replacing a yes with another date is a different answer, not an added one
    before = assess(answers=answers, rules=DEFAULT_RULES, today=today)
    after = assess(answers={**answers, key: Answer(True, on=on)}, rules=DEFAULT_RULES, today=today)
    if before.outcome is Outcome.CALL_US:
        assert after.outcome is Outcome.CALL_US
    if before.earliest is not None and after.outcome is not Outcome.CALL_US:
        assert after.earliest is not None and after.earliest >= before.earliest
