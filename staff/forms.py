"""Forms of the staff app's pages: merging patient records and the history filter."""

from django import forms
from django.contrib.auth import get_user_model

from bookings.forms import date_within
from bookings.models import AuditEvent, Patient
from bookings.staff_forms import DIARY_REACH


class MergeForm(forms.Form):
    """The duplicate record to fold into this one (a manager's decision, confirmed)."""

    duplicate = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        label="Record number of the duplicate to merge into this one",
        widget=forms.NumberInput(attrs={"min": 1}),
        error_messages={
            "required": "Enter the record number (#) of the duplicate to merge.",
            "invalid_choice": (
                "There is no other patient record with that number (it may have been merged already)."
            ),
        },
    )
    confirm = forms.BooleanField(
        label="I have checked these are the same person: move the duplicate's series here and delete it.",
        error_messages={"required": "Tick the box to confirm these records are the same person."},
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].queryset = candidates


class HistoryForm(forms.Form):
    """Filters of the clinic-wide history; a bad value is reported, the page still shows."""

    person = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Changed by",
        empty_label="Anyone",
        error_messages={"invalid_choice": "That person is not in the list."},
    )
    patient = forms.CharField(required=False, max_length=120, label="Patient name contains")
    since = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the first day as a date like 2027-03-01."},
    )
    until = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the last day as a date like 2027-03-31."},
    )
    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[("", "Any kind"), *AuditEvent.Action.choices],
        error_messages={"invalid_choice": "Choose a kind of change from the list."},
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )

    def clean_since(self):
        return date_within(
            self.cleaned_data["since"], DIARY_REACH, "Choose a first day within ten years of today."
        )

    def clean_until(self):
        return date_within(
            self.cleaned_data["until"], DIARY_REACH, "Choose a last day within ten years of today."
        )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The last day must not be before the first day.")
        return cleaned
