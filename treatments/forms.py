from django import forms

from treatments.images import image_upload_check
from treatments.models import Treatment, TreatmentImage


class CheckedImageField(forms.ImageField):
    """An image field that explains why a file is refused (damaged, not a picture, too big)."""

    def to_python(self, data):
        if data:
            image_upload_check(data)
        return super().to_python(data)


class TreatmentImageForm(forms.ModelForm):
    image = CheckedImageField(
        help_text="A JPEG, PNG or WebP photo. Smaller copies for phones and screens are made on save."
    )

    class Meta:
        model = TreatmentImage
        fields = ["image", "alt_text", "caption", "role", "position"]


def safety_question_choices() -> list[tuple[str, str]]:
    from bookings.questionnaire import QUESTIONS  # the clinic's questions; bookings builds on treatments

    return [(question.key, question.text) for question in QUESTIONS]


class TreatmentForm(forms.ModelForm):
    """The admin's treatment form: the database constraints' rules, explained to staff."""

    safety_questions = forms.MultipleChoiceField(
        choices=safety_question_choices, required=False, widget=forms.CheckboxSelectMultiple,
        label="Safety questions it asks",
        help_text="Tick the questions that matter for this treatment. None ticked: no questions are asked.",
    )

    class Meta:
        model = Treatment
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.safety_questions is None:  # every question, until staff choose
            self.initial["safety_questions"] = [key for key, _ in safety_question_choices()]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_days_between"), cleaned.get("max_days_between")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_days_between",
                "The longest gap between sessions cannot be shorter than the shortest gap (%(low)s days)."
                % {"low": low},
            )
        if cleaned.get("sessions_in_series") == 0:
            self.add_error("sessions_in_series", "A series needs at least one session.")
        prerequisite = cleaned.get("prerequisite")
        if prerequisite is not None:
            if self.instance.pk and prerequisite.pk == self.instance.pk:
                self.add_error("prerequisite", "A treatment cannot be its own consultation.")
            elif prerequisite.prerequisite_id is not None:
                self.add_error("prerequisite", f"{prerequisite.name} needs a consultation itself: choose one that does not.")
            elif prerequisite.sessions_in_series != 1:
                self.add_error("prerequisite", f"{prerequisite.name} is a series: choose a single-visit consultation.")
        valid, before = cleaned.get("prerequisite_valid_days"), cleaned.get("prerequisite_days_before")
        if valid is not None and before is not None and before > valid:
            self.add_error(
                "prerequisite_days_before",
                "The consultation cannot be further before the first session than it stays valid (%(valid)s days)."
                % {"valid": valid},
            )
        minutes = cleaned.get("session_minutes")
        if minutes is not None and minutes < 5:
            self.add_error("session_minutes", "A session must be at least 5 minutes long.")
        return cleaned
