"""Forms of the staff workspace: sign-in (rate-limited), day and week pickers, patients (search, details,
merge), phone booking, cancel, hours and time off, lifting a sign-in lock, the history filter."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from bookings.forms import FURTHEST_AHEAD, DetailsForm, answer_field_name, date_within, validate_phone
from bookings.models import AuditEvent, Patient, Practitioner, TimeOff, WorkingHours
from bookings.questionnaire import CONSENT_PRIVACY_TEXT
from bookings.ratelimits import LoginRateLimit
from treatments.models import Treatment

DIARY_REACH = timedelta(days=3653)


class StaffLoginForm(LoginRateLimit, AuthenticationForm):
    """The staff sign-in page's form."""


class DayForm(forms.Form):
    """Which day (or week) the diary shows; a bad value falls back to today."""

    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label="Go to date",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_date(self):
        # Ten years either way is plenty for a diary, and keeps day arithmetic far from date.min/max.
        return date_within(self.cleaned_data["date"], DIARY_REACH, "Choose a date within ten years of today.")


def date_problem(form: forms.Form) -> str:
    """Why the date in the URL was not used, as a sentence ending in 'showing today' ('' when it was fine)."""
    if form.is_valid() or "date" not in form.errors:
        return ""
    error = form.errors.as_data()["date"][0]
    if error.code == "invalid":
        shown = str(form.data.get("date", ""))[:40]
        return f"“{shown}” is not a date (use YYYY-MM-DD, like {timezone.localdate():%Y-%m-%d}): showing today."
    return f"{error.messages[0].rstrip('.')}: showing today."


class WeekForm(DayForm):
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.none(), label="Practitioner", empty_label=None
    )

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, e-mail or phone",
        min_length=2,
        max_length=100,
        error_messages={
            "min_length": "Type at least 2 characters to search.",
            "required": "Type a name, e-mail or phone number to search.",
        },
    )


class PatientForm(forms.Form):
    """A new patient's contact details, as the front desk takes them on the phone."""

    name = forms.CharField(
        max_length=120, label="Full name", error_messages={"required": "Enter the patient's full name."}
    )
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        error_messages={
            "required": "Enter the patient's email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )
    phone = forms.CharField(
        max_length=32,
        label="Phone number",
        validators=[validate_phone],
        error_messages={"required": "Enter a phone number so we can reach the patient."},
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter the patient's full name.")
        return name


class BookStartForm(forms.Form):
    """The treatment and week to look for a first session in (phone booking)."""

    treatment = forms.ModelChoiceField(
        queryset=Treatment.objects.published(), label="Treatment", empty_label=None, to_field_name="slug"
    )
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label="Week starting",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.active(),
        required=False,
        label="Practitioner",
        empty_label="Any practitioner",
    )

    def clean_date(self):
        return date_within(
            self.cleaned_data["date"], FURTHEST_AHEAD, "Choose a date within two years of today."
        )


class PhoneAnswersForm(DetailsForm):
    """The safety questions and consents, asked on the phone (the patient's details are on file)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "email", "phone"):
            del self.fields[name]
        consents = {
            "consent_treatment": (
                self.fields["consent_treatment"].label, "The patient must agree to the treatment."
            ),
            "consent_privacy": (CONSENT_PRIVACY_TEXT, "The patient must agree to the privacy notice."),
        }
        for name, (text, refusal) in consents.items():
            self.fields[name].label = f"Read out and agreed by the patient: “{text}”"
            self.fields[name].error_messages["required"] = refusal
        questions = []
        if self.answer_fields:
            # Read out every question; "No" to all of them is one tick, a "Yes" is ticked on its own.
            self.fields["all_no"] = forms.BooleanField(
                required=False, label="I read out every question above; the patient answered No to each one not marked Yes"
            )
            if self.is_bound and self.data.get("all_no"):
                self.data = self.data.copy()
                for question in self.questions:  # the yes/no fields, not the dates that follow a yes
                    name = answer_field_name(question.key)
                    if not self.data.get(name):
                        self.data[name] = "no"
            questions = [Fieldset("Safety questions (ask the patient)", *self.answer_fields, "all_no")]
        self.helper.layout = Layout(
            *questions,
            Fieldset("Consent", "consent_treatment", "consent_privacy"),
        )

    @classmethod
    def kept(cls, data, *, treatment) -> "PhoneAnswersForm":
        """The answers and ticks as posted, shown again unchecked (a re-plan is not a booking yet)."""
        form = cls(treatment=treatment)
        form.initial = {name: data[name] for name in form.fields if data.get(name)}
        return form


class PickedTimeForm(forms.Form):
    """Registering a caller: the treatment to book next, and the free time picked in the diary (hidden).

    A picked time that is not one (edited by hand) is dropped, not refused: the registration goes on.
    """

    PICKED = ("practitioner", "date", "time")

    treatment = forms.ModelChoiceField(
        queryset=Treatment.objects.published(),
        required=False,
        to_field_name="slug",
        label="Book a series of",
        empty_label="Nothing yet: only register",
        error_messages={"invalid_choice": "Choose a treatment from the list, or “Nothing yet”."},
    )
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.active(), required=False, widget=forms.HiddenInput
    )
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"], widget=forms.HiddenInput)
    time = forms.TimeField(required=False, input_formats=["%H:%M"], widget=forms.HiddenInput)

    def full_clean(self):
        super().full_clean()
        if self.is_bound and any(name in self.errors for name in self.PICKED):
            for name in self.PICKED:
                self.errors.pop(name, None)
                self.cleaned_data.pop(name, None)

    def clean_date(self):
        return date_within(
            self.cleaned_data["date"], FURTHEST_AHEAD, "Choose a date within two years of today."
        )

    @property
    def picked(self) -> tuple | None:
        """(practitioner, day, time) picked in the diary, or None."""
        values = tuple(self.cleaned_data.get(name) for name in self.PICKED) if self.is_valid() else ()
        return values if values and all(values) else None


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason for cancelling",
        error_messages={"required": "Give a reason for cancelling: it is kept on the record."},
    )

    rest = forms.BooleanField(required=False, label="Also cancel every later session of this series")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


# --- A practitioner's hours and time off (managers) ----------------------------------------------------


class EndAfterStart:
    """A form whose `end` must come after its `start` (the database's check, in words)."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] >= cleaned["end"]:
            self.add_error("end", "The end must be later than the start.")
        return cleaned


class WorkingHoursForm(EndAfterStart, forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start", "end"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}),
            "end": forms.TimeInput(attrs={"type": "time"}),
        }


class TimeOffForm(EndAfterStart, forms.ModelForm):
    """Time off in the clinic's local time (Django reads and shows datetimes in settings.TIME_ZONE)."""

    def _within_reach(self, name: str):
        moment = self.cleaned_data[name]
        date_within(moment and moment.date(), DIARY_REACH, "Choose a time within ten years of today.")
        return moment

    def clean_start(self):
        return self._within_reach("start")

    def clean_end(self):
        return self._within_reach("end")

    class Meta:
        model = TimeOff
        fields = ["start", "end", "reason"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


WorkingHoursFormSet = forms.inlineformset_factory(
    Practitioner, WorkingHours, form=WorkingHoursForm, extra=2, can_delete=True
)
TimeOffFormSet = forms.inlineformset_factory(
    Practitioner, TimeOff, form=TimeOffForm, extra=1, can_delete=True
)


class SignInUnlockForm(forms.Form):
    """The username whose sign-in pause a manager lifts."""

    username = forms.CharField(
        max_length=150,
        label="Username",
        error_messages={"required": "Type the username of the person who cannot sign in."},
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip().lower()
        if not username:
            raise forms.ValidationError("Type the username of the person who cannot sign in.")
        return username



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
