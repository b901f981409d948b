"""
Eligibility at booking time (issue 13): the one place that feeds bookings/eligibility.py from the
database and turns its verdict into a refusal with a code. series_book calls `decide` inside its
transaction, so online booking, the API and the front desk's phone booking obey the same rules; the
booking calendar and the pre-session re-confirmation call `assess_for` with the same inputs.

Also the writes around the rules: a manager publishing a new version (the admin), and a
practitioner lifting a rule for one patient with a reason (the staff patient page); both audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from bookings.audit import SYSTEM, audit_record
from bookings.eligibility import Answer, Outcome, Verdict, assess, format_day
from bookings.eligibility_models import EligibilityOverride, EligibilityRule, EligibilityRules
from bookings.errors import BookingError, Code
from bookings.models import Appointment, AuditEvent, Patient
from bookings.questionnaire import QUESTIONS_BY_KEY
from treatments.models import Treatment

RULE_FIELDS = ("key", "kind", "reason", "wait_months", "wait_days", "review")


class NotEligible(BookingError):
    """The answers refuse this first session: `.verdict` says from when (or that the patient calls)."""

    def __init__(self, message: str, *, code: str, verdict: Verdict):
        super().__init__(message, code=code)
        self.verdict = verdict


@dataclass(frozen=True)
class Decision:
    verdict: Verdict | None  # None: the treatment has no eligibility rules
    rules: EligibilityRules | None


# --- Reads -------------------------------------------------------------------------------------------


def with_current_rules(treatments):
    """`treatments` (a Treatment queryset), each read with its newest rules version and that version's
    rows in the same statement (`current_rules_data`, JSON), so current_rules() reads nothing more:
    a booking request reads its treatment and the rules it is decided under in one round trip."""
    version, rule = EligibilityRules._meta.db_table, EligibilityRule._meta.db_table
    treatment_table = Treatment._meta.db_table
    columns = ", ".join(f"'{name}', r.{name}" for name in CURRENT_RULE_FIELDS)
    sql = f"""
        SELECT jsonb_build_object(
            'id', v.id, 'version', v.version,
            'rules', COALESCE(
                (SELECT jsonb_agg(jsonb_build_object({columns}) ORDER BY r.id) FROM {rule} r WHERE r.rules_id = v.id),
                '[]'::jsonb))
        FROM {version} v WHERE v.treatment_id = {treatment_table}.id ORDER BY v.version DESC LIMIT 1
    """
    return treatments.annotate(current_rules_data=RawSQL(sql, [], output_field=JSONField()))


CURRENT_RULE_FIELDS = ("id", *RULE_FIELDS)


def current_rules(treatment) -> EligibilityRules | None:
    """The treatment's newest rules version with its rows, or None: from what with_current_rules
    read with the treatment, else two queries."""
    if hasattr(treatment, "current_rules_data"):
        data = treatment.current_rules_data
        if data is None:
            return None
        rules = EligibilityRules(pk=data["id"], treatment=treatment, version=data["version"])
        rules.rows = [
            EligibilityRule(rules=rules, **{name: row[name] for name in CURRENT_RULE_FIELDS}) for row in data["rules"]
        ]
        return rules
    return (
        EligibilityRules.objects.filter(treatment=treatment)
        .select_related("treatment")
        .prefetch_related("rules")
        .order_by("-version")
        .first()
    )


def lifted_keys(*, patient_id: int | None, treatment) -> set[str]:
    """The rules a practitioner lifted for this patient and treatment (none for a new patient)."""
    if patient_id is None:
        return set()
    return set(
        EligibilityOverride.objects.filter(
            patient_id=patient_id, treatment=treatment, revoked_at__isnull=True
        ).values_list("key", flat=True)
    )


def as_answers(answers: dict[str, bool], dates: dict[str, date] | None) -> dict[str, Answer]:
    dates = dates or {}
    return {key: Answer(bool(yes), dates.get(key) if yes else None) for key, yes in answers.items()}


def assess_for(
    *,
    treatment,
    answers: dict[str, bool],
    dates: dict[str, date] | None,
    today: date,
    patient_id: int | None = None,
    rules: EligibilityRules | None = None,
    lifted: set[str] | None = None,
) -> Decision:
    """The engine's verdict on these answers under the treatment's current rules (or `rules`)."""
    rules = rules or current_rules(treatment)
    if rules is None:
        return Decision(None, None)
    lifted = lifted_keys(patient_id=patient_id, treatment=treatment) if lifted is None else lifted
    verdict = assess(answers=as_answers(answers, dates), rules=rules.as_ruleset(), today=today, overrides=lifted)
    return Decision(verdict, rules)


def refusal(verdict: Verdict, first_day: date, *, for_staff: bool) -> NotEligible | None:
    """Why a first session on local day `first_day` cannot be booked on this verdict (None: it can)."""
    if verdict.allows(first_day):
        return None
    why = " ".join(verdict.sentences)
    if verdict.outcome is Outcome.CALL_US:
        refer = " ".join(f.sentence for f in verdict.findings if f.earliest is None and f.kind == "refer")
        if for_staff:
            message = (
                f"A practitioner must decide before this series is booked: {refer} A practitioner treating "
                "the patient (or a manager) can lift the rule on the patient's page, with the reason."
            )
        else:
            message = f"{refer} Our number is {settings.CLINIC_PHONE}."
        return NotEligible(message, code=Code.CALL_US, verdict=verdict)
    who = "The patient's" if for_staff else "Your"
    message = (
        f"{who} first session can be on {format_day(verdict.earliest)} at the earliest. {why} "
        "Please choose a time from then."
    )
    return NotEligible(message, code=Code.NOT_ELIGIBLE_YET, verdict=verdict)


# --- At booking time (series_book) -------------------------------------------------------------------


def decide(
    *,
    treatment,
    patient: Patient,
    answers: dict[str, bool],
    dates: dict[str, date] | None,
    first_day: date,
    today: date,
    for_staff: bool,
    new_patient: bool = False,
) -> Decision:
    """The verdict a series is booked under, or NotEligible (called inside series_book's transaction).

    `new_patient`: added by this booking, so no practitioner has lifted a rule for them (no read)."""
    decision = assess_for(
        treatment=treatment, answers=answers, dates=dates, today=today, patient_id=patient.pk,
        lifted=set() if new_patient else None,
    )
    if decision.verdict is not None and (refused := refusal(decision.verdict, first_day, for_staff=for_staff)):
        raise refused
    return decision


# --- Managers: a new version of a treatment's rules ---------------------------------------------------


def rules_publish(*, treatment, rules: list[dict], note: str = "", by=None, now: datetime | None = None) -> EligibilityRules:
    """Publish `rules` (dicts of RULE_FIELDS) as the treatment's next version; earlier ones stay as they were."""
    now = now or timezone.now()
    keys = [rule["key"] for rule in rules]
    unknown = sorted(set(keys) - set(QUESTIONS_BY_KEY))
    if unknown:
        raise BookingError(f"There is no safety question {', '.join(unknown)}.", code=Code.INVALID)
    if len(keys) != len(set(keys)):
        raise BookingError("Each safety question can have one rule in a version.", code=Code.INVALID)
    with transaction.atomic():
        # The treatment's row: two managers publishing at once number their versions one after the other
        # (the unique constraint is the guarantee; this turns the loser's error into the next number).
        type(treatment).objects.select_for_update().filter(pk=treatment.pk).values_list("pk").first()
        latest = EligibilityRules.objects.filter(treatment=treatment).order_by("-version").first()
        version = EligibilityRules.objects.create(
            treatment=treatment, version=(latest.version + 1 if latest else 1), note=note, created_by=by
        )
        EligibilityRule.objects.bulk_create(
            EligibilityRule(rules=version, **{name: rule[name] for name in RULE_FIELDS}) for rule in rules
        )
        audit_record(
            action=AuditEvent.Action.CREATED,
            changes=[(version, {})],
            by=by,
            default_actor=SYSTEM,
            at=now,
            after={"version": version.version, "treatment_id": treatment.pk, "note": note,
                   "rules": [{name: rule[name] for name in RULE_FIELDS} for rule in rules]},
        )
    return version


# --- Practitioners: lifting a rule for one patient ----------------------------------------------------


def may_override(user, patient: Patient) -> bool:
    """Managers, and the practitioners treating the patient (booked with them)."""
    if not user.is_authenticated:
        return False
    if user.has_perm("bookings.use_admin"):
        return True
    return Appointment.objects.filter(practitioner__user=user, series__patient=patient).exists()


def override_grant(*, patient: Patient, treatment, key: str, reason: str, by, now: datetime | None = None) -> EligibilityOverride:
    """Lift rule `key` for this patient and treatment, with the reason; audited on the patient."""
    now = now or timezone.now()
    reason = " ".join(reason.split())
    if not may_override(by, patient):
        raise BookingError(
            "Only a practitioner treating this patient, or a manager, can lift a rule.", code=Code.REFUSED
        )
    if not reason:
        raise BookingError("Give the reason for lifting the rule: it is kept on the record.", code=Code.INVALID)
    if key not in QUESTIONS_BY_KEY and key != CONSULTATION:
        raise BookingError("There is no such rule to lift.", code=Code.INVALID)
    with transaction.atomic():
        # The patient's row: series_book locks it too, so a booking sees the override or not, never half.
        Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
        if EligibilityOverride.objects.filter(
            patient=patient, treatment=treatment, key=key, revoked_at__isnull=True
        ).exists():
            raise BookingError("That rule is already lifted for this patient.", code=Code.WRONG_STATUS)
        override = EligibilityOverride.objects.create(
            patient=patient, treatment=treatment, key=key, reason=reason, created_at=now, created_by=by
        )
        audit_record(action=AuditEvent.Action.CREATED, changes=[(override, {})], by=by, default_actor=SYSTEM, at=now)
    return override


def override_revoke(*, override: EligibilityOverride, by, now: datetime | None = None) -> EligibilityOverride:
    """Put a lifted rule back (audited); future bookings obey it again."""
    now = now or timezone.now()
    if not may_override(by, override.patient):
        raise BookingError(
            "Only a practitioner treating this patient, or a manager, can put a rule back.", code=Code.REFUSED
        )
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=override.patient_id).values_list("pk").first()
        updated = EligibilityOverride.objects.filter(pk=override.pk, revoked_at__isnull=True).update(revoked_at=now)
        if not updated:
            raise BookingError("That rule was already put back.", code=Code.WRONG_STATUS)
        override.revoked_at = now
        audit_record(
            action=AuditEvent.Action.CHANGED, changes=[(override, {"revoked_at": None})], by=by,
            default_actor=SYSTEM, at=now,
        )
    return override


# The override key that lifts a treatment's consultation-first requirement (issue 13 §2).
CONSULTATION = "consultation"


# --- Before each session: the re-confirmation runs the same engine -----------------------------------


@dataclass(frozen=True)
class Reassessment:
    appointment: Appointment
    verdict: Verdict | None
    allowed: bool  # the session may go ahead on these answers (a practitioner still reviews them)


def appointment_reassess(
    *, appointment: Appointment, answers: dict[str, bool], dates: dict[str, date] | None, now: datetime | None = None
) -> Reassessment:
    """The patient's new safety answers before a session: kept, held for review, and checked by the engine.

    Answers that rule the session out (too soon, or a practitioner must decide) leave a flag the front
    desk's worklist shows until the session is moved to the earliest day or later (or cancelled); the
    page then proposes the first eligible time (first_eligible_time). The current rules apply: the
    clinic's latest judgement, with the patient's lifted rules.
    """
    from bookings import questionnaire, selectors  # selectors imports the models this module feeds
    from bookings.audit import PATIENT_MANAGE_LINK, snapshot
    from bookings.models import EligibilityFlag, Questionnaire
    from bookings.services import answers_session_lock  # services calls this module: imported when used

    now = now or timezone.now()
    tz = selectors.clinic_zone()
    with transaction.atomic():
        # Locked as appointment_confirm_answers locks it: the flag names the session as it stands.
        appointment = answers_session_lock(appointment, now=now)
        series = appointment.series
        latest = series.questionnaires.order_by("-submitted_at").first()
        Questionnaire.objects.create(
            series=series,
            answers=answers,
            dates={key: day.isoformat() for key, day in (dates or {}).items() if answers.get(key)},
            flagged=questionnaire.flagged_keys(answers),
            consent_treatment=latest.consent_treatment if latest else True,
            consent_privacy=latest.consent_privacy if latest else True,
            consent_text=latest.consent_text if latest else series.treatment.consent_text,
            wording_version=questionnaire.WORDING_VERSION,
            submitted_at=now,
        )
        before = snapshot(appointment)
        appointment.answers_confirmed_at = now
        appointment.needs_review = True  # new answers: a practitioner looks before the session
        appointment.save(update_fields=["answers_confirmed_at", "needs_review", "updated_at"])
        audit_record(
            action=AuditEvent.Action.ANSWERS_CONFIRMED, changes=[(appointment, before)], by=None,
            default_actor=PATIENT_MANAGE_LINK, at=now,
        )
        decision = assess_for(
            treatment=series.treatment, answers=answers, dates=dates, today=now.astimezone(tz).date(),
            patient_id=series.patient_id,
        )
        verdict = decision.verdict
        allowed = verdict is None or verdict.allows(appointment.start.astimezone(tz).date())
        EligibilityFlag.objects.filter(appointment=appointment, resolved_at__isnull=True).update(resolved_at=now)
        if not allowed:
            EligibilityFlag.objects.create(
                appointment=appointment,
                outcome=verdict.outcome.value,
                earliest=verdict.earliest,
                earliest_at=selectors.local_midnight(verdict.earliest, tz) if verdict.earliest else None,
                sentences=verdict.sentences,
                created_at=now,
            )
    return Reassessment(appointment, verdict, allowed)


def open_flag(appointment: Appointment):
    """The session's unresolved eligibility flag, if any (the move calendar starts at its earliest day)."""
    from bookings.models import EligibilityFlag

    return EligibilityFlag.objects.filter(appointment=appointment, resolved_at__isnull=True).first()


def first_eligible_time(*, appointment: Appointment, earliest: date, now: datetime | None = None, days: int = 14):
    """The first time the session can move to on or after `earliest` (the move calendar's own check,
    later sessions moving too where needed), or None within its window. Reads one month calendar per
    day tried, at most `days` of them: only on this rare page."""
    from bookings import calendar

    month = calendar.move_calendar(appointment=appointment, month=earliest.replace(day=1), now=now, earliest=earliest)
    tried = 0
    while month is not None and tried < days:
        for day in sorted(day for day in month.free_days if day >= earliest):
            tried += 1
            shown = calendar.move_calendar(appointment=appointment, day=day, now=now, earliest=earliest)
            if shown.times:
                return shown.times[0]
            if tried >= days:
                return None
        following = month.next_month
        month = (
            calendar.move_calendar(appointment=appointment, month=following, now=now, earliest=earliest)
            if following else None
        )
    return None


# --- A consultation before the first session (issue 13 §2) --------------------------------------------


def consultation_needed(
    *, treatment, patient: Patient, first_start: datetime, lifted: set[str] | None = None, new_patient: bool = False
) -> bool:
    """Whether this first session needs a consultation booked with it: the treatment requires one, the
    patient holds none from `prerequisite_valid_days` to `prerequisite_days_before` days before it
    (booked, taken place, or still ahead), and no practitioner lifted the requirement for them.
    `new_patient`: added by this booking (nothing to read: they hold none and nothing was lifted)."""
    from bookings import selectors

    if treatment.prerequisite_id is None:
        return False
    if new_patient:
        return True
    lifted = lifted_keys(patient_id=patient.pk, treatment=treatment) if lifted is None else lifted
    if CONSULTATION in lifted:
        return False
    tz = selectors.clinic_zone()
    first_day = first_start.astimezone(tz).date()
    oldest = first_day - timedelta(days=treatment.prerequisite_valid_days)
    latest = first_day - timedelta(days=treatment.prerequisite_days_before)
    held = Appointment.objects.active().filter(
        patient=patient,
        series__treatment_id=treatment.prerequisite_id,
        start__gte=selectors.local_midnight(oldest, tz),
        start__lt=selectors.local_midnight(latest + timedelta(days=1), tz),
    )
    return not held.exists()


def consultation_slot(*, treatment, first_start: datetime, now: datetime, for_staff: bool):
    """The planner's place for the consultation: the first free time from today that leaves at least
    `prerequisite_days_before` days before the first session (None when there is none)."""
    from bookings import selectors

    tz = selectors.clinic_zone()
    today = now.astimezone(tz).date()
    last_day = first_start.astimezone(tz).date() - timedelta(days=treatment.prerequisite_days_before)
    if last_day < today:
        return None
    schedule = selectors.load_schedule(treatment=treatment.prerequisite, first_day=today, last_day=last_day)
    free = selectors.free_between(
        schedule, first_day=today, last_day=last_day, now=now, for_staff=for_staff, first_session=True
    )
    return min(free, default=None)


def no_consultation_time(treatment, first_start: datetime, *, for_staff: bool) -> BookingError:
    from bookings import selectors

    days = treatment.prerequisite_days_before
    first_day = first_start.astimezone(selectors.clinic_zone()).date()
    who = "a new patient's" if for_staff else "your"
    return BookingError(
        f"{treatment.name} starts with a {treatment.prerequisite.name.lower()} at least "
        f"{days} day{'s' if days != 1 else ''} before the first session, and there is no free time for "
        f"{who} consultation before {format_day(first_day)}. Please choose a later first session, or call us "
        f"on {settings.CLINIC_PHONE}.",
        code=Code.CONSULTATION_NEEDED,
    )
