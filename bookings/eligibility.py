"""
Eligibility: a patient's safety answers, with the dates they give, become a booking decision.

Pure like `availability.py`: no ORM, no settings, no clock. The caller passes the clinic-local
`today`, the treatment's rule set (clinicians edit it; each series records the version it was
booked under) and any overrides a practitioner recorded for this patient. The outcome is one of:

- **bookable**: no answer stands in the way;
- **bookable from a date**: an answer sets the earliest first session (six months after the last
  isotretinoin dose, two weeks after a peel, once a cold sore has healed...);
- **call us**: an answer means a practitioner decides (pregnancy, keloid history, blood thinners...);

plus a review flag where a practitioner should look before the session, and one sentence per answer
that counted, written for the patient ("From Thursday 3 June 2027: six months after your last
isotretinoin dose.").

The same function serves the booking calendar (first sessions only from `Verdict.earliest`), the
services' re-check before writing, and the re-confirmation before each session (`Verdict.allows`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class Kind(StrEnum):
    """What a "yes" to a rule's question does."""

    WAIT = "wait"  # the first session waits a period after the date the patient gives
    DEFER = "defer"  # something active now: wait until it has healed, then ask again
    REFER = "refer"  # not booked online: a practitioner decides
    REVIEW = "review"  # bookable, but a practitioner looks first


class Outcome(StrEnum):
    BOOKABLE = "bookable"
    BOOKABLE_FROM = "bookable_from"
    CALL_US = "call_us"


@dataclass(frozen=True)
class Period:
    """A wait of some months and days (months are calendar months: 3 Dec + 6 months = 3 Jun)."""

    months: int = 0
    days: int = 0

    def __post_init__(self):
        if self.months < 0 or self.days < 0:
            raise ValueError("A waiting period cannot be negative.")

    def after(self, day: date) -> date:
        """The day this period after `day`; a month end is clamped (31 Aug + 6 months = 28/29 Feb)."""
        month_index = day.month - 1 + self.months
        year, month = day.year + month_index // 12, month_index % 12 + 1
        if year > date.max.year:
            return date.max
        clamped = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
        return clamped + timedelta(days=self.days) if (date.max - clamped).days >= self.days else date.max

    def words(self) -> str:
        parts = []
        if self.months:
            parts.append(_count(self.months, "month"))
        if self.days:
            weeks, rest = divmod(self.days, 7)
            parts.append(_count(weeks, "week") if weeks and not rest else _count(self.days, "day"))
        return " and ".join(parts) or "no time"


@dataclass(frozen=True)
class Rule:
    """One question's consequence. `reason` finishes the sentence "<period> <reason>"."""

    key: str
    kind: Kind
    reason: str  # e.g. "after your last isotretinoin dose", "until the cold sore has healed"
    wait: Period = Period()
    review: bool = False  # also flag for a practitioner's look when the rule applies


@dataclass(frozen=True)
class RuleSet:
    """A treatment's rules as one versioned unit (the version is stored on every series)."""

    version: str
    rules: tuple[Rule, ...]

    def __post_init__(self):
        keys = [rule.key for rule in self.rules]
        if len(keys) != len(set(keys)):
            raise ValueError("Each question has at most one rule in a rule set.")


@dataclass(frozen=True)
class Answer:
    """A patient's answer: yes or no, and for a yes the date it refers to (last dose, expected
    healing...), when the question asks for one."""

    yes: bool
    on: date | None = None


@dataclass(frozen=True)
class Finding:
    """One answer that counted, and what it decided."""

    key: str
    kind: Kind
    earliest: date | None
    sentence: str


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    earliest: date | None  # first local day a session may be on; None: no limit from the answers
    review: bool
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    version: str = ""

    def allows(self, day: date) -> bool:
        """May a session on local day `day` go ahead on these answers?"""
        if self.outcome is Outcome.CALL_US:
            return False
        return self.earliest is None or day >= self.earliest

    @property
    def sentences(self) -> list[str]:
        return [finding.sentence for finding in self.findings]


def assess(
    *,
    answers: Mapping[str, Answer],
    rules: RuleSet,
    today: date,
    overrides: Iterable[str] = (),
) -> Verdict:
    """Turn answers into a verdict under `rules` on local day `today`.

    `overrides` names rules a practitioner lifted for this patient (with a recorded reason,
    kept by the caller): they neither delay, refer nor flag. A "yes" to a WAIT rule without a date
    counts from today, the cautious reading; a DEFER without a date waits the rule's period from
    today (the patient is asked again before the session).
    """
    lifted = set(overrides)
    findings: list[Finding] = []
    earliest: date | None = None
    refer = review = False
    for rule in rules.rules:
        answer = answers.get(rule.key)
        if answer is None or not answer.yes or rule.key in lifted:
            continue
        if rule.kind is Kind.REFER:
            refer = review = True
            findings.append(Finding(rule.key, rule.kind, None, _refer_sentence(rule)))
            continue
        if rule.kind is Kind.REVIEW:
            review = True
            findings.append(Finding(rule.key, rule.kind, None, f"A practitioner will check your answer {rule.reason}."))
            continue
        start = answer.on or today
        if rule.kind is Kind.DEFER and answer.on is not None:
            day = max(answer.on, today)  # the day the patient expects it to have healed
        else:
            day = rule.wait.after(start)
        if day <= today:
            continue  # the wait is over: this answer no longer stands in the way
        review = review or rule.review or rule.kind is Kind.DEFER
        findings.append(Finding(rule.key, rule.kind, day, _wait_sentence(rule, day, dated=answer.on is not None)))
        earliest = day if earliest is None else max(earliest, day)
    if refer:
        outcome = Outcome.CALL_US
    elif earliest is not None:
        outcome = Outcome.BOOKABLE_FROM
    else:
        outcome = Outcome.BOOKABLE
    return Verdict(outcome, earliest, review, tuple(findings), rules.version)


def format_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _wait_sentence(rule: Rule, day: date, *, dated: bool) -> str:
    if rule.kind is Kind.DEFER:
        why = rule.reason if dated else f"{rule.wait.words()} from today, {rule.reason}"
        return f"From {format_day(day)}: {why}. We will ask you again before your session."
    counted = "" if dated else " (counted from today, as no date was given)"
    return f"From {format_day(day)}: {rule.wait.words()} {rule.reason}{counted}."


def _refer_sentence(rule: Rule) -> str:
    return f"Because of your answer {rule.reason}, a practitioner needs to talk to you first: please call us to book."


def _count(number: int, unit: str) -> str:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
    return f"{words.get(number, str(number))} {unit}{'' if number == 1 else 's'}"


# The defaults a new treatment starts from (../shared DOMAIN notes); clinicians edit them per treatment.
DEFAULT_RULES = RuleSet(
    version="default-1",
    rules=(
        Rule("isotretinoin", Kind.WAIT, "after your last isotretinoin dose", Period(months=6), review=True),
        Rule("peel_laser", Kind.WAIT, "after a chemical peel, laser or IPL in the area", Period(days=14)),
        Rule("toxin", Kind.WAIT, "after toxin injections", Period(days=14)),
        Rule("filler", Kind.WAIT, "after filler in the area", Period(days=28)),
        Rule("active_skin_condition", Kind.DEFER, "until the cold sore, flare or infection has healed", Period(days=14)),
        Rule("pregnant", Kind.REFER, "about pregnancy or breastfeeding"),
        Rule("keloid", Kind.REFER, "about keloid or raised scarring"),
        Rule("blood_thinners", Kind.REFER, "about blood thinners or a bleeding disorder"),
        Rule("skin_cancer", Kind.REFER, "about skin cancer in the area"),
        Rule("chemo_radio", Kind.REFER, "about chemotherapy or radiotherapy"),
    ),
)
