"""Booking a series by phone: the treatment and a first time, then the plan, the safety questions and
consent (staff: no notice or horizon; `for_staff=True`, `by=request.user`, so the audit names them)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bookings import selectors, services
from bookings.errors import BookingError, Code
from bookings.forms import FURTHEST_AHEAD, SeriesReviewForm, clinic_zone, practitioner_names, slot_days, slot_key, slot_label
from bookings.models import ClinicRules, Series
from staff.access import staff_only
from staff.forms import BookStartForm, PhoneAnswersForm
from staff.patients import patient_or_404
from treatments.models import Treatment


# --- Booking by phone ------------------------------------------------------------------------------------


@require_GET
@staff_only("bookings.add_series")
def book_start(request, pk):
    """Step 1: the treatment and a week of free first-session times (staff: no notice or horizon)."""
    patient = patient_or_404(request, pk)
    # From a free place in the diary (?practitioner=&date=&time=): those filled in, the treatment to choose.
    picked = {name: request.GET[name] for name in ("practitioner", "date") if name in request.GET}
    form = BookStartForm(request.GET if "treatment" in request.GET else None, initial=picked)
    days, chosen = [], None
    if form.is_bound and form.is_valid():
        chosen = form.cleaned_data
        start = chosen["date"] or timezone.localdate()
        slots = selectors.available_slots(
            treatment=chosen["treatment"],
            start_date=start,
            days=7,
            practitioner=chosen["practitioner"],
            for_staff=True,
        )
        days = slot_days(slots, practitioner_names(slots))
        chosen = {
            **chosen,
            "start": start,
            "end": start + timedelta(days=6),
            "earlier": start - timedelta(days=7),
            "later": start + timedelta(days=7),
        }
    return render(
        request,
        "staff/book_start.html",
        {
            "patient": patient,
            "form": form,
            "days": days,
            "chosen": chosen,
        },
        status=400 if form.errors else 200,
    )


def _first_day(key: str):
    """The local day of the slot named by `key` (its UTC start and practitioner), or None."""
    try:
        start = datetime.strptime(key.split("-")[0], "%Y%m%dT%H%M").replace(tzinfo=ZoneInfo("UTC"))
    except ValueError:
        return None
    if abs(start.date() - timezone.localdate()) > FURTHEST_AHEAD:
        return None  # nobody books that far off (and date arithmetic stays far from date.max)
    return start.astimezone(clinic_zone()).date()


def _first_slot(schedule, key: str, day, now):
    """The free slot named by `key` on `day`, from the series' diaries, or None."""
    slots = selectors.free_between(
        schedule, first_day=day, last_day=day, now=now, for_staff=True, first_session=True
    )
    return {slot_key(slot): slot for slot in slots}.get(key)


@require_http_methods(["GET", "POST"])
@staff_only("bookings.add_series")
def book_plan(request, pk, slug):
    """Step 2: the series planned from the first time, the safety questions and consent; books it."""
    patient = patient_or_404(request, pk)
    treatment = get_object_or_404(Treatment.objects.published(), slug=slug)
    key, now = request.GET.get("first", ""), timezone.now()
    day = _first_day(key)
    # The rules and the diaries are read once here and passed down to the plan and the booking.
    rules = ClinicRules.load()
    schedule = selectors.series_schedule(treatment=treatment, first_day=day, rules=rules) if day else None
    first = _first_slot(schedule, key, day, now) if day else None
    back = reverse("staff:book", kwargs={"pk": patient.pk}) + f"?treatment={treatment.slug}"
    if first is None:
        messages.error(request, "That first time is no longer free. Please choose another.")
        return redirect(back)
    plan = selectors.series_plan(treatment=treatment, first=first, now=now, for_staff=True, schedule=schedule)
    names = practitioner_names(plan.slots + [slot for s in plan.sessions for slot in s.alternatives])
    bound = request.POST if request.method == "POST" else None
    form = answers = running = None
    error = ""
    if plan.is_complete:
        options = [[session.slot, *session.alternatives] for session in plan.sessions[1:]]
        form = SeriesReviewForm(
            bound,
            first=first,
            sessions=options,
            initial_slots=[o[0] for o in options],
            names=names,
            treatment=treatment,
        )
        answers = PhoneAnswersForm(bound, treatment=treatment)
        if bound is not None and form.is_valid() and answers.is_valid():
            try:
                series = services.series_book(
                    treatment=treatment,
                    patient=patient,
                    slots=[first, *form.chosen_slots],
                    answers=answers.answers,
                    dates=answers.dates,
                    consent_treatment=answers.cleaned_data["consent_treatment"],
                    consent_privacy=answers.cleaned_data["consent_privacy"],
                    source=Series.Source.PHONE,
                    by=request.user,
                    for_staff=True,
                    now=now,
                    rules=rules,
                    schedule=schedule,
                )
            except BookingError as refusal:
                error = (
                    "One of these times was just taken by someone else. The plan below is fresh: check it."
                    if refusal.code == Code.TAKEN
                    else refusal.message
                )
                running = getattr(refusal, "existing", None)  # SeriesRunning: the series to open instead
            else:
                held = (
                    " It is held for a practitioner's review (safety answers)." if series.needs_review else ""
                )
                messages.success(
                    request,
                    f"Booked {treatment.sessions_in_series} sessions of {treatment.name} "
                    f"for {patient.name}.{held}",
                )
                return redirect("staff:patient", pk=patient.pk)
    invalid = bool(error or (form and form.errors) or (answers and answers.errors))
    return render(
        request,
        "staff/book_plan.html",
        {
            "patient": patient,
            "running": running,
            "treatment": treatment,
            "plan": plan,
            "form": form,
            "answers": answers,
            "first_label": slot_label(first, names),
            "back": back,
            "error": error,
            "problems": [session for session in plan.sessions if session.problem],
        },
        status=(409 if error else 400) if invalid else 200,
    )

