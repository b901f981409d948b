"""
Eligibility rules as data (issue 13 §1): one treatment's rules in numbered versions, and the
practitioners' overrides for one patient. bookings/eligibility.py is the pure engine they feed;
bookings/eligibility_services.py the only place that writes them (imported by bookings.models, so
Django sees these models as the bookings app's).

A version is never edited: a manager's change in the admin publishes a new version and the old one
stays, read-only, for the series booked under it (Series.eligibility_rules).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from bookings.eligibility import Kind, Period, Rule, RuleSet
from treatments.models import Treatment

# Bounds that keep a rule sensible (and the date arithmetic far from date.max).
MAX_WAIT_MONTHS = 24
MAX_WAIT_DAYS = 365


class EligibilityRules(models.Model):
    """One version of a treatment's eligibility rules: the newest is the one bookings use."""

    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="eligibility_versions")
    version = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True, help_text="What changed in this version, and why.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["treatment", "-version"]
        verbose_name = "eligibility rules (version)"
        verbose_name_plural = "eligibility rules"
        constraints = [
            models.UniqueConstraint(fields=["treatment", "version"], name="eligibility_one_number_per_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="eligibility_version_positive"),
        ]

    def __str__(self):
        return f"{self.treatment} rules, version {self.version}"

    @property
    def label(self) -> str:
        """The version as the engine and the series name it: "microneedling-v3"."""
        return f"{self.treatment.slug}-v{self.version}"

    def as_ruleset(self, rules=None) -> RuleSet:
        """The engine's RuleSet (`rules`: the rows, when the caller already read them)."""
        if rules is None:
            # `rows`: set when the version was read with its treatment (eligibility_services.with_current_rules).
            rules = self.rows if hasattr(self, "rows") else list(self.rules.all())
        rows = rules
        return RuleSet(self.label, tuple(row.as_rule() for row in rows))


class EligibilityRule(models.Model):
    """One question's consequence within a version (see bookings/eligibility.Rule)."""

    class Kind(models.TextChoices):
        WAIT = Kind.WAIT.value, "Wait a period after the date the patient gives"
        DEFER = Kind.DEFER.value, "Defer until healed (the patient gives the day they expect)"
        REFER = Kind.REFER.value, "Not online: the patient calls, a practitioner decides"
        REVIEW = Kind.REVIEW.value, "Bookable, but a practitioner reviews first"

    rules = models.ForeignKey(EligibilityRules, on_delete=models.CASCADE, related_name="rules")
    key = models.CharField(max_length=40, help_text="The safety question this rule answers (bookings/questionnaire.py).")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(
        max_length=200,
        help_text='Finishes the patient\'s sentence: "From 3 June: six months <reason>", e.g. '
        '"after your last isotretinoin dose"; for call-us rules: "about pregnancy or breastfeeding".',
    )
    wait_months = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_WAIT_MONTHS)])
    wait_days = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_WAIT_DAYS)])
    review = models.BooleanField(default=False, help_text="Also hold the series for a practitioner's review.")

    class Meta:
        ordering = ["rules", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rules", "key"], name="eligibility_one_rule_per_question"),
            models.CheckConstraint(
                condition=Q(wait_months__lte=MAX_WAIT_MONTHS) & Q(wait_days__lte=MAX_WAIT_DAYS),
                name="eligibility_wait_bounded",
            ),
        ]

    def __str__(self):
        return f"{self.key}: {self.get_kind_display()}"

    def as_rule(self) -> Rule:
        return Rule(self.key, Kind(self.kind), self.reason, Period(self.wait_months, self.wait_days), self.review)


class EligibilityOverride(models.Model):
    """A practitioner lifted one rule for one patient and one treatment, with the reason (audited)."""

    patient = models.ForeignKey("bookings.Patient", on_delete=models.CASCADE, related_name="eligibility_overrides")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(
        max_length=40, help_text="The rule's question key; \"consultation\" lifts the consultation first."
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="eligibility_override_has_reason"),
            models.UniqueConstraint(
                fields=["patient", "treatment", "key"], condition=Q(revoked_at__isnull=True),
                name="eligibility_one_live_override",
            ),
        ]

    def __str__(self):
        return f"{self.key} lifted for {self.patient} ({self.treatment})"


class EligibilityFlag(models.Model):
    """A session the patient's new answers rule out (the re-confirmation before it): the front desk's
    worklist shows it until the session is moved to `earliest` or later, cancelled, or the flag resolved."""

    appointment = models.ForeignKey(
        "bookings.Appointment", on_delete=models.CASCADE, related_name="eligibility_flags"
    )
    outcome = models.CharField(max_length=16)  # bookings.eligibility.Outcome: bookable_from or call_us
    earliest = models.DateField(null=True, blank=True, help_text="The first local day the answers allow.")
    # Local midnight of `earliest`: the worklist compares it with the session's start in the database.
    earliest_at = models.DateTimeField(null=True, blank=True)
    sentences = models.JSONField(default=list)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["appointment"], condition=Q(resolved_at__isnull=True), name="eligibility_open_flags")]

    def __str__(self):
        return f"{self.appointment}: {self.outcome}"
