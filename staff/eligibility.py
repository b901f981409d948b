"""Lifting an eligibility rule for one patient (issue 13): practitioners treating them, or managers.

The page is the patient's record (staff/patients.patient_detail shows `patient_context`); these
views only take the form and call the service, which checks who may and audits the change.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import eligibility_services
from bookings.errors import BookingError
from bookings.models import EligibilityOverride, Patient
from bookings.questionnaire import QUESTIONS, QUESTIONS_BY_KEY
from staff.access import staff_only, visible_patients
from treatments.models import Treatment

RULE_CHOICES = [
    *[(question.key, question.text) for question in QUESTIONS],
    (eligibility_services.CONSULTATION, "The consultation before the first session"),
]


def rule_label(key: str) -> str:
    question = QUESTIONS_BY_KEY.get(key)
    return question.text if question else dict(RULE_CHOICES).get(key, key)


class OverrideForm(forms.Form):
    treatment = forms.ModelChoiceField(
        queryset=Treatment.objects.published(), empty_label=None,
        error_messages={"invalid_choice": "Choose a treatment the clinic offers."},
    )
    key = forms.ChoiceField(label="Rule to lift", choices=RULE_CHOICES,
                            error_messages={"invalid_choice": "Choose one of the rules listed."})
    reason = forms.CharField(
        max_length=300, label="Reason (kept on the record)",
        error_messages={"required": "Give the reason for lifting the rule: it is kept on the record."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name != "reason" else "form-control"


def patient_context(user, patient: Patient) -> dict:
    """The patient's lifted rules for their record; the reasons only for those who see health answers."""
    sees_reasons = user.has_perm("bookings.view_questionnaire")
    live = EligibilityOverride.objects.filter(patient=patient, revoked_at__isnull=True).select_related(
        "treatment", "created_by"
    )
    may = eligibility_services.may_override(user, patient)
    return {
        "overrides": [
            {"override": o, "rule": rule_label(o.key), "reason": o.reason if sees_reasons else ""} for o in live
        ],
        "may_override": may,
        "form": OverrideForm() if may else None,
    }


def _patient(request, pk: int) -> Patient:
    return get_object_or_404(visible_patients(request.user), pk=pk)


@require_POST
@staff_only("bookings.view_patient")
def override_create(request, pk):
    patient = _patient(request, pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("staff:patient", pk=patient.pk)
    data = form.cleaned_data
    try:
        eligibility_services.override_grant(
            patient=patient, treatment=data["treatment"], key=data["key"], reason=data["reason"],
            by=request.user, now=timezone.now(),
        )
    except BookingError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"Lifted for {patient.name} ({data['treatment'].name}): {rule_label(data['key'])}")
    return redirect("staff:patient", pk=patient.pk)


@require_POST
@staff_only("bookings.view_patient")
def override_revoke(request, pk, override_pk):
    patient = _patient(request, pk)
    override = get_object_or_404(EligibilityOverride, pk=override_pk, patient=patient)
    try:
        eligibility_services.override_revoke(override=override, by=request.user)
    except BookingError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"The rule applies to {patient.name} again: {rule_label(override.key)}")
    return redirect("staff:patient", pk=patient.pk)
