"""
Forms for the patient booking flow, the manage page and the JSON API.

Slots travel through forms as short keys (start in UTC + practitioner) and are always matched
against freshly computed free slots, so a patient can only ever pick a time the engine offers.
"""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from bookings.availability import Slot, Spacing
from bookings.eligibility_services import with_current_rules
from bookings.models import Practitioner
from bookings.questionnaire import CONSENT_PRIVACY_TEXT, FUTURE, QUESTIONS, questions_for
from treatments.models import DEFAULT_CONSENT, Treatment

MAX_DAYS = 31
# Nobody books years ahead, nor asks about years ago; the bound (both ways) also keeps date
# arithmetic far from date.min and date.max (year 1 minus a buffer is an OverflowError).
FURTHEST_AHEAD = timedelta(days=730)
MAX_ID = 2**63 - 1  # ids are bigints: a larger number names nothing (and is refused before a query)
YES_NO = [("yes", "Yes"), ("no", "No")]
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-.]+$")


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def slot_key(slot: Slot) -> str:
    """A short, stable name for a slot in forms: its UTC start and its practitioner."""
    return f"{slot.start.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M}-{slot.practitioner_id}"


def parse_slot_key(key: str) -> tuple[datetime, int] | None:
    """(UTC start, practitioner id) named by a slot key, or None when it names nothing."""
    start, _, practitioner = (key or "").partition("-")
    try:
        moment = datetime.strptime(start, "%Y%m%dT%H%M").replace(tzinfo=ZoneInfo("UTC"))
        practitioner_id = int(practitioner)
    except ValueError:
        return None
    if abs(moment.date() - timezone.localdate()) > FURTHEST_AHEAD or not 0 < practitioner_id < 2**63:
        return None  # nobody books that far off; ids are positive bigints
    return moment, practitioner_id


def day_label(day: date) -> str:
    """'Tuesday 2 December', with the year only when it is not this year."""
    return date_format(day, "l j F" if day.year == timezone.localdate().year else "l j F Y")


def slot_label(slot: Slot, names: dict[int, str]) -> str:
    """'Tuesday 2 December, 10:00 with Dr Ana Silva', in the clinic's zone."""
    local = slot.start.astimezone(clinic_zone())
    when = f"{day_label(local.date())}, {local:%H:%M}"
    name = names.get(slot.practitioner_id)
    return f"{when} with {name}" if name else when


def practitioner_names(slots: list[Slot]) -> dict[int, str]:
    ids = {slot.practitioner_id for slot in slots}
    return dict(Practitioner.objects.filter(pk__in=ids).values_list("pk", "name"))


def date_within(day, reach: timedelta, message: str):
    """`day` unchanged when it is empty or within `reach` of today, either way; else a ValidationError."""
    if day and abs(day - timezone.localdate()) > reach:
        raise forms.ValidationError(message)
    return day


def slot_days(slots: list[Slot], names: dict[int, str], *, week: date | None = None) -> list[dict]:
    """Slots under their local day: every day of `week` (empty days too), or only days with slots."""
    zone = clinic_zone()
    days: dict[date, list[dict]] = {week + timedelta(days=n): [] for n in range(7)} if week else {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date(), []).append({
            "key": slot_key(slot),
            "label": slot_label(slot, names),
            "time": f"{local:%H:%M}",
            "practitioner": names.get(slot.practitioner_id, ""),
        })
    return [{"date": day, "label": day_label(day), "slots": entries} for day, entries in days.items()]


def answer_field_name(key: str) -> str:
    return f"answer_{key}"


def date_field_name(key: str) -> str:
    return f"date_{key}"


def answer_date_problem(question, day: date, today: date) -> str:
    """Why `day` cannot be the date a "yes" to `question` gives ("" when it can)."""
    if question.date_when == FUTURE:
        if day < today:
            return "Give a day from today onwards: the day you expect it to have healed."
        if day > today + timedelta(days=question.within_days):
            return "Give a day within the next three months, or call us if it will take longer."
        return ""
    if day > today:
        return "Give a date in the past (today at the latest)."
    if day < today - timedelta(days=question.within_days):
        return "That is longer ago than the question asks about, so please answer No to it."
    return ""


class SlotChoiceField(forms.ChoiceField):
    """A choice among free slots; cleans to the Slot itself."""

    default_error_messages = {
        "invalid_choice": "That time is no longer free. Please choose another.",
        "required": "Please choose a time.",
    }

    def __init__(self, *, slots: list[Slot], names: dict[int, str], **kwargs):
        self.slots = {slot_key(slot): slot for slot in slots}
        super().__init__(choices=[(key, slot_label(s, names)) for key, s in self.slots.items()], **kwargs)

    def clean(self, value):
        return self.slots[super().clean(value)]


class FirstSlotForm(forms.Form):
    """The first session, picked from the week calendar (one submit button per free slot)."""

    def __init__(self, *args, slots: list[Slot], names: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"] = SlotChoiceField(slots=slots, names=names, label="First session")


class SeriesReviewForm(forms.Form):
    """One radio group per later session: the proposed time or one of its alternatives."""

    def __init__(self, *args, first: Slot, sessions: list[list[Slot]], initial_slots: list[Slot],
                 names: dict[int, str], treatment: Treatment, suggested: list[Slot] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.first, self.treatment = first, treatment
        suggested = suggested or [options[0] for options in sessions]
        for number, (options, chosen, suggestion) in enumerate(
            zip(sessions, initial_slots, suggested, strict=True), start=2
        ):
            field = SlotChoiceField(
                slots=options, names=names, label=f"Session {number}", widget=forms.RadioSelect
            )
            field.initial = slot_key(chosen)
            field.suggested = slot_key(suggestion)  # marked "(suggested)" on the page
            self.fields[f"session_{number}"] = field

    def clean(self):
        cleaned = super().clean()
        slots = [self.first, *(cleaned.get(name) for name in self.fields)]
        spacing = Spacing(self.treatment.min_days_between, self.treatment.max_days_between)
        for number, (before, after) in enumerate(zip(slots, slots[1:]), start=2):
            if before and after and not spacing.allows(before.start, after.start, clinic_zone()):
                # The error summary names the field ("Session 3: …"), so the sentence does not.
                self.add_error(f"session_{number}", (
                    f"It must be {spacing.min_days} to {spacing.max_days} days after session "
                    f"{number - 1}. Please choose another time for one of them."
                ))
        return cleaned

    @property
    def chosen_slots(self) -> list[Slot]:
        return [self.cleaned_data[name] for name in self.fields]


def plan_change_sentence(change, treatment: Treatment, names: dict[int, str]) -> str:
    """A wanted time the re-plan could not keep, and what the session has now (selectors.PlanChange)."""
    why = (
        "is no longer free" if change.taken else
        f"is no longer {treatment.min_days_between} to {treatment.max_days_between} days after "
        f"session {change.number - 1}"
    )
    now = slot_label(change.new, names) if change.new else "no free time found (see below)"
    return f"Session {change.number}: {slot_label(change.old, names)} {why}. Now: {now}."


def posted_sessions(
    data, treatment: Treatment
) -> tuple[dict[int, str], dict[int, tuple[datetime, int] | None]]:
    """The later sessions' times a plan page posted, as typed and as (start, practitioner id)."""
    posted = {n: data.get(f"session_{n}", "") for n in range(2, treatment.sessions_in_series + 1)}
    return posted, {number: parse_slot_key(value) for number, value in posted.items()}


def series_review_form(plan, *, treatment: Treatment, names: dict[int, str], posted: dict[int, str],
                       bad: set[int]) -> SeriesReviewForm:
    """The radio groups of a (re-)planned series: each placed session's time and its alternatives, in
    time order (a radio button keeps its place when the plan changes); bound only where a posted value
    named no time, so that field says so."""
    placed = [session for session in plan.sessions[1:] if session.slot]
    data = None
    if bad:
        data = {
            f"session_{s.number}": posted[s.number] if s.number in bad else slot_key(s.slot) for s in placed
        }
    form = SeriesReviewForm(
        data,
        first=plan.sessions[0].slot,
        sessions=[sorted({session.slot, *session.alternatives}) for session in placed],
        initial_slots=[session.slot for session in placed],
        suggested=[session.suggestion for session in placed],
        names=names,
        treatment=treatment,
    )
    if form.is_bound:
        form.is_valid()
    return form


def validate_phone(value: str) -> None:
    digits = sum(character.isdigit() for character in value)
    if not PHONE_CHARACTERS.match(value) or not 7 <= digits <= 15:
        raise forms.ValidationError(
            "Enter a phone number we can call, using digits, spaces and an optional + "
            "(for example 07700 900123 or +44 7700 900123)."
        )


class DetailsForm(forms.Form):
    """Who the patient is, their safety answers and their consents."""

    name = forms.CharField(
        max_length=120, label="Full name", error_messages={"required": "Enter your full name."}
    )
    email = forms.EmailField(
        max_length=254, label="Email address",
        error_messages={"required": "Enter your email address.",
                        "invalid": "Enter an email address like name@example.com."},
    )
    phone = forms.CharField(
        max_length=32, label="Phone number", validators=[validate_phone],
        error_messages={"required": "Enter a phone number so we can reach you about your booking."},
    )
    consent_treatment = forms.BooleanField(
        label=DEFAULT_CONSENT,  # the treatment's own words, set in __init__
        error_messages={"required": "Please confirm you understand and agree to the treatment."},
    )
    consent_privacy = forms.BooleanField(
        label=CONSENT_PRIVACY_TEXT,
        error_messages={"required": "Please agree to the privacy notice so we can keep your details."},
    )

    def __init__(self, *args, treatment: Treatment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Without a treatment (the API, before it knows which), every question is asked.
        self.questions = questions_for(treatment) if treatment is not None else QUESTIONS
        if treatment is not None:
            self.fields["consent_treatment"].label = treatment.consent_text
        self.fields["consent_privacy"].label = format_html(
            '{} <a href="{}" target="_blank">Read the privacy notice</a> (opens in a new tab).',
            CONSENT_PRIVACY_TEXT, reverse("privacy"),
        )
        for question in self.questions:
            self.fields[answer_field_name(question.key)] = forms.ChoiceField(
                label=question.text, choices=YES_NO, widget=forms.RadioSelect,
                error_messages={"required": "Please answer yes or no.",
                                "invalid_choice": "Please answer yes or no."},
            )
            if question.date_label:
                self.fields[date_field_name(question.key)] = forms.DateField(
                    label=question.date_label, required=False,
                    input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    error_messages={"invalid": "Give the date as day, month and year, e.g. 03/06/2026."},
                )
        consents = ["consent_treatment", "consent_privacy"]
        self.order_fields(["name", "email", "phone", *self.answer_fields, *consents])
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        self.fields["phone"].widget.input_type = "tel"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's <form> has its own token
        self.helper.layout = Layout(
            Fieldset("Contact details", "name", "email", "phone"),
            *([Fieldset("Safety questions", *self.answer_fields)] if self.answer_fields else []),
            Fieldset("Consent", "consent_treatment", "consent_privacy"),
        )

    @property
    def answer_fields(self) -> list[str]:
        """Each question's yes/no field, followed by its date field when it asks for one."""
        names = []
        for question in self.questions:
            names.append(answer_field_name(question.key))
            if question.date_label:
                names.append(date_field_name(question.key))
        return names

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        for question in self.questions:
            name = date_field_name(question.key)
            if name not in self.fields:
                continue
            day = cleaned.get(name)
            if cleaned.get(answer_field_name(question.key)) != "yes":
                cleaned[name] = None  # a date with a "no" means nothing
                continue
            if day is None and question.date_required and name not in self.errors:
                self.add_error(name, "You answered yes: please give the date (your best estimate is fine).")
            elif day is not None and (problem := answer_date_problem(question, day, today)):
                self.add_error(name, problem)
        return cleaned

    @property
    def dates(self) -> dict[str, date]:
        """The dates given with "yes" answers (question key -> day)."""
        return {
            question.key: self.cleaned_data[date_field_name(question.key)]
            for question in self.questions
            if self.cleaned_data.get(date_field_name(question.key))
        }

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter your full name.")
        return name

    def clean_phone(self):
        return " ".join(self.cleaned_data["phone"].split())

    @property
    def answers(self) -> dict[str, bool]:
        return {q.key: self.cleaned_data[answer_field_name(q.key)] == "yes" for q in self.questions}


class AnswersForm(DetailsForm):
    """The safety questions alone (with their dates): the patient's answers as they are now, before a session."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "email", "phone", "consent_treatment", "consent_privacy"):
            del self.fields[name]
        self.helper.layout = Layout(Fieldset("Your answers now", *self.answer_fields))


class TreatmentPractitionerFields(forms.Form):
    """The treatment (by slug) and an optional practitioner (by id), as the API names them."""

    treatment = forms.SlugField(error_messages={"required": "Give a treatment slug, e.g. microneedling."})
    practitioner = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                      error_messages={"invalid": "Give a practitioner id (a number).",
                                                      "min_value": "Give a practitioner id (a number).",
                                                      "max_value": "There is no practitioner with that id."})

    def clean_treatment(self) -> Treatment:
        treatments = with_current_rules(Treatment.objects.published())
        treatment = treatments.filter(slug=self.cleaned_data["treatment"]).first()
        if treatment is None:
            raise forms.ValidationError("There is no bookable treatment with that slug.")
        return treatment

    def clean_practitioner(self) -> Practitioner | None:
        if self.cleaned_data["practitioner"] is None:
            return None
        practitioner = Practitioner.objects.active().filter(pk=self.cleaned_data["practitioner"]).first()
        if practitioner is None:
            raise forms.ValidationError("There is no practitioner with that id.")
        return practitioner

    def clean(self):
        cleaned = super().clean()
        treatment, practitioner = cleaned.get("treatment"), cleaned.get("practitioner")
        if treatment and practitioner and not practitioner.treatments.filter(pk=treatment.pk).exists():
            self.add_error("practitioner", f"{practitioner.name} does not offer {treatment.name}.")
        return cleaned


class AvailabilityQueryForm(TreatmentPractitionerFields):
    """Query string of GET /api/availability/."""

    start = forms.DateField(input_formats=["%Y-%m-%d"],
                            error_messages={"required": "Give a start date as YYYY-MM-DD.",
                                            "invalid": "Give a start date as YYYY-MM-DD."})
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, required=False,
                              error_messages={"min_value": f"Ask for 1 to {MAX_DAYS} days.",
                                              "max_value": f"Ask for 1 to {MAX_DAYS} days.",
                                              "invalid": f"Ask for a whole number of days, 1 to {MAX_DAYS}."})

    def clean_start(self):
        start = self.cleaned_data["start"]
        return date_within(start, FURTHEST_AHEAD, "Ask for dates within two years of today.")

    def clean_days(self):
        return self.cleaned_data["days"] or 7


class SeriesRequestForm(TreatmentPractitionerFields, DetailsForm):
    """POST /api/series/: the details form plus the treatment, first start and practitioner."""

    first_start = forms.DateTimeField(
        error_messages={"required": "Give first_start as an ISO-8601 time with its offset.",
                        "invalid": "Give first_start as an ISO-8601 time with its offset, e.g. "
                                   "2026-12-01T10:00:00+00:00."},
    )

    def clean_first_start(self):
        value: datetime = self.cleaned_data["first_start"]
        if not isinstance(self.data.get("first_start"), str) or not _has_offset(self.data["first_start"]):
            raise forms.ValidationError(
                "Give first_start with its UTC offset, e.g. 2026-12-01T10:00:00+00:00."
            )
        if value.date() > timezone.localdate() + FURTHEST_AHEAD:
            raise forms.ValidationError("That time is too far ahead to book.")
        if value.date() < timezone.localdate() - FURTHEST_AHEAD:
            raise forms.ValidationError("That time is in the past.")
        return value


def _has_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
