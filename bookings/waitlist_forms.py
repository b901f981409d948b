"""The waitlist's forms: the days and times that suit a patient (and a new patient's details)."""

from django import forms

from bookings.waitlist_services import DAY_PARTS, WEEKDAY_NAMES

WEEKDAYS = list(enumerate(WEEKDAY_NAMES))


class PreferencesForm(forms.Form):
    """Days and parts of the day that suit; none ticked means any."""

    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        label="Days that suit you", help_text="Tick none if any day suits.",
    )
    parts = forms.MultipleChoiceField(
        choices=[(key, label) for key, (label, _, _) in DAY_PARTS.items()], required=False,
        widget=forms.CheckboxSelectMultiple, label="Times that suit you", help_text="Tick none if any time suits.",
    )


class NewPatientWaitForm(PreferencesForm):
    name = forms.CharField(max_length=120, label="Your full name")
    email = forms.EmailField(label="E-mail address", help_text="We send the offer here.")
    phone = forms.CharField(max_length=32, label="Phone number")

    field_order = ["name", "email", "phone", "weekdays", "parts"]
