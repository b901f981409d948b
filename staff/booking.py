"""Booking a series by phone: the treatment and a first time, then the plan, the safety questions and
consent (staff: no notice or horizon; `for_staff=True`, `by=request.user`, so the audit names them)."""

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bookings import eligibility_services, selectors, services
from bookings.errors import BookingError, Code
from bookings.availability import Slot
from bookings.forms import (
    FURTHEST_AHEAD,
    clinic_zone,
    plan_change_sentence,
    posted_sessions,
    practitioner_names,
    series_review_form,
    slot_days,
    slot_key,
    slot_label,
)
from bookings.models import ClinicRules, Series
from staff.access import patient_or_404, staff_only
from staff.forms import BookStartForm, PhoneAnswersForm
from treatments.models import Treatment


TAKEN_MEANWHILE = "One of these times was just taken by someone else. The plan below is fresh: check it."


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


def picked_slot(picked: tuple, *, minutes: int = 0) -> Slot:
    """The (practitioner, day, time) picked in the diary as a slot of `minutes` in the clinic's zone."""
    practitioner, day, clock = picked
    start = datetime.combine(day, clock, tzinfo=clinic_zone())
    return Slot(start, start + timedelta(minutes=minutes), practitioner.pk)


def after_registration(request, patient, *, treatment, picked) -> str | None:
    """Where a newly registered caller's booking goes on: the series planned from the time picked in
    the diary when it is free for `treatment` (the check the plan page makes), else that week's free
    first sessions with the pick kept; None without a treatment (their record, as before)."""
    if treatment is None:
        return None
    times = reverse("staff:book", kwargs={"pk": patient.pk}) + f"?treatment={treatment.slug}"
    if picked is None:
        return times
    practitioner, day, _ = picked
    wanted = picked_slot(picked, minutes=treatment.session_minutes)
    schedule = selectors.load_schedule(
        treatment=treatment, first_day=day, last_day=day, practitioner=practitioner
    )
    if _first_slot(schedule, slot_key(wanted), day, timezone.now()):
        plan = reverse("staff:book_plan", kwargs={"pk": patient.pk, "slug": treatment.slug})
        return f"{plan}?first={slot_key(wanted)}"
    messages.warning(
        request,
        f"{slot_label(wanted, {practitioner.pk: practitioner.name})} is not free for {treatment.name}: "
        "choose another first session below.",
    )
    kept = {"practitioner": practitioner.pk, "date": f"{day:%Y-%m-%d}", "time": f"{wanted.start:%H:%M}"}
    return f"{times}&{urlencode(kept)}"


@require_http_methods(["GET", "POST"])
@staff_only("bookings.add_series")
def book_plan(request, pk, slug):
    """Step 2: the series planned from the first time, the safety questions and consent; books it.

    As on the patients' side (bookings.views.book_review), every request re-plans from the times
    wanted: another time for a session re-places the later ones it pushes out of their window. A
    re-plan ("replan" posted: the "Plan again" button, or static/js/series-review.js as soon as a
    time is chosen) never books; "Book" books only a plan that did not have to change.
    """
    patient = patient_or_404(request, pk)
    treatment = get_object_or_404(eligibility_services.with_current_rules(Treatment.objects.published()), slug=slug)
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
    posting = request.method == "POST"
    replan = posting and "replan" in request.POST
    posted, wanted = posted_sessions(request.POST, treatment) if posting else ({}, {})

    def review(schedule):
        wanted_times = {number: time for number, time in wanted.items() if time}
        return selectors.series_review(
            treatment=treatment, first=first, wanted=wanted_times, now=now, for_staff=True, schedule=schedule
        )

    reviewed = review(schedule)
    bad = {n for n, time in wanted.items() if not replan and (not time or n in reviewed.unknown)}
    answers = (
        PhoneAnswersForm(request.POST, treatment=treatment)
        if posting and not replan
        else PhoneAnswersForm.kept(request.POST, treatment=treatment)
    )
    error, running, status = "", None, 200
    if posting and not replan:
        answered = answers.is_valid()
        if bad:
            status = 400
        elif reviewed.changes or not reviewed.plan.is_complete:
            error, status = "The plan had to change (see below). Check the new plan, then book.", 409
        elif not answered:
            status = 400
        else:
            try:
                series = services.series_book(
                    treatment=treatment,
                    patient=patient,
                    slots=reviewed.plan.slots,
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
                status = 409
                if refusal.code == Code.TAKEN:
                    error = TAKEN_MEANWHILE
                    reviewed = review(None)  # the diaries read again
                else:
                    error = refusal.message
                running = getattr(refusal, "existing", None)  # SeriesRunning: the series to open instead
            else:
                sessions = treatment.sessions_in_series
                booked = f"Booked {sessions} sessions of {treatment.name} for {patient.name}."
                if series.needs_review:
                    booked += " It is held for a practitioner's review (safety answers)."
                messages.success(request, booked)
                return redirect("staff:patient", pk=patient.pk)
    plan, changes = reviewed.plan, reviewed.changes
    alternatives = [slot for session in plan.sessions for slot in session.alternatives]
    names = practitioner_names(plan.slots + alternatives + [change.old for change in changes])
    form = series_review_form(plan, treatment=treatment, names=names, posted=posted, bad=bad)
    return render(
        request,
        "staff/book_plan.html",
        {
            "patient": patient,
            "running": running,
            "treatment": treatment,
            "plan": plan,
            "form": form,
            "rows": [
                {"session": s, "field": form[f"session_{s.number}"] if s.slot else None}
                for s in plan.sessions[1:]
            ],
            "answers": answers,
            "first_label": slot_label(first, names),
            "back": back,
            "error": error,
            "changes": [plan_change_sentence(change, treatment, names) for change in changes],
            "problems": [session for session in plan.sessions if session.problem],
        },
        status=status,
    )
