"""
Patient pages: book a series in three steps, then manage it from the link in the e-mail.

Every page works without JavaScript. Times picked travel as slot keys and are matched against
freshly computed availability; the booking in progress lives in the server-side session
(bookings.flow) and the final POST re-validates everything inside the service.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_http_methods

from bookings import ics, selectors, services
from bookings.availability import Slot
from bookings.errors import BookingError, SlotTaken
from bookings.flow import Draft, draft_clear, draft_load, draft_save, pop_notice
from bookings.forms import (
    DetailsForm,
    FirstSlotForm,
    SeriesReviewForm,
    WeekForm,
    clinic_zone,
    practitioner_names,
    slot_key,
    slot_label,
    week_start,
)
from bookings.models import Appointment, ClinicRules, Series
from bookings.questionnaire import QUESTIONS_BY_KEY
from bookings.tokens import manage_path, series_for_token
from treatments.models import Treatment

TAKEN = "That time was just taken by someone else. Here are the times still free; what you typed is kept."
BOOKED_SESSION_KEY = "booking:done"


def _treatment(slug: str) -> Treatment:
    return get_object_or_404(Treatment.objects.published(), slug=slug)


# --- Step 1: the week calendar ---------------------------------------------------------------------


@dataclass
class CalendarWeek:
    start: date
    previous: date | None
    next: date | None
    practitioner: object = None

    def query(self, day: date | None) -> str:
        practitioner = f"&practitioner={self.practitioner.pk}" if self.practitioner else ""
        return f"?week={day:%Y-%m-%d}{practitioner}" if day else ""


def calendar_week(query, treatment: Treatment) -> tuple[CalendarWeek, WeekForm]:
    """The week asked for, kept between this week and the booking horizon."""
    form = WeekForm(query, treatment=treatment)
    form.is_valid()  # a bad value simply falls back to the default below
    today = timezone.localdate()
    first = week_start(today)
    last = week_start(today + timedelta(days=ClinicRules.load().horizon_days))
    asked = form.cleaned_data.get("week") or today
    start = min(max(week_start(asked), first), last)
    return CalendarWeek(
        start=start,
        previous=start - timedelta(days=7) if start > first else None,
        next=start + timedelta(days=7) if start < last else None,
        practitioner=form.cleaned_data.get("practitioner"),
    ), form


def calendar_days(start: date, slots: list[Slot], names: dict[int, str]) -> list[dict]:
    zone = clinic_zone()
    days = [{"date": start + timedelta(days=offset), "slots": []} for offset in range(7)]
    for slot in slots:
        local = slot.start.astimezone(zone)
        days[(local.date() - start).days]["slots"].append(
            {"key": slot_key(slot), "label": slot_label(slot, names), "time": f"{local:%H:%M}",
             "practitioner": names.get(slot.practitioner_id, "")}
        )
    return days


@require_http_methods(["GET", "POST"])
def book_start(request, slug):
    """Step 1: pick the first session from a week of real free slots."""
    treatment = _treatment(slug)
    week, week_form = calendar_week(request.GET, treatment)
    slots = selectors.available_slots(
        treatment=treatment, start_date=week.start, days=7, practitioner=week.practitioner
    )
    names = practitioner_names(slots)
    form = FirstSlotForm(request.POST if request.method == "POST" else None, slots=slots, names=names)
    draft = draft_load(request, slug)
    if form.is_bound and form.is_valid():
        draft = draft or Draft(slots=[])
        draft.slots = [form.cleaned_data["slot"]]
        draft_save(request, slug, draft)
        return redirect("bookings:review", slug=slug)
    return render(request, "bookings/book_calendar.html", {
        "treatment": treatment,
        "week": week,
        "week_form": week_form,
        "week_end": week.start + timedelta(days=6),
        "previous_query": week.query(week.previous),
        "next_query": week.query(week.next),
        "this_query": week.query(week.start),
        "days": calendar_days(week.start, slots, names),
        "form": form,
        "notice": pop_notice(request, slug, draft) if draft else "",
    })


# --- Step 2: the series plan -------------------------------------------------------------------------


def _review_options(plan) -> list[list[Slot]]:
    return [[session.slot, *session.alternatives] for session in plan.sessions[1:]]


def _initial(options: list[Slot], chosen: Slot | None) -> Slot:
    """The patient's earlier choice while it is still free, else the freshly proposed time."""
    keys = {slot_key(slot): slot for slot in options}
    return keys.get(slot_key(chosen), options[0]) if chosen else options[0]


@require_http_methods(["GET", "POST"])
def book_review(request, slug):
    """Step 2: the whole series planned from the first session; each session may be changed."""
    treatment = _treatment(slug)
    draft = draft_load(request, slug)
    if not draft or not draft.slots:
        return redirect("bookings:book", slug=slug)
    plan = selectors.series_plan(treatment=treatment, first=draft.slots[0])
    if plan.sessions[0].slot is None:
        # The first time went meanwhile: back to its week, with fresh times and the reason.
        draft.notice = TAKEN
        draft_save(request, slug, draft)
        local_day = draft.slots[0].start.astimezone(clinic_zone()).date()
        return redirect(reverse("bookings:book", kwargs={"slug": slug}) + f"?week={local_day:%Y-%m-%d}")
    form = None
    if plan.is_complete:
        options = _review_options(plan)
        earlier = draft.slots[1:] + [None] * len(options)
        form = SeriesReviewForm(
            request.POST if request.method == "POST" else None,
            first=plan.sessions[0].slot,
            sessions=options,
            initial_slots=[_initial(o, c) for o, c in zip(options, earlier)],
            names=practitioner_names([s for group in options for s in group] + [plan.sessions[0].slot]),
            treatment=treatment,
        )
        if form.is_bound and form.is_valid():
            draft.slots = [plan.sessions[0].slot, *form.chosen_slots]
            draft_save(request, slug, draft)
            return redirect("bookings:details", slug=slug)
    names = practitioner_names(plan.slots + [s for session in plan.sessions for s in session.alternatives])
    return render(request, "bookings/book_review.html", {
        "treatment": treatment,
        "plan": plan,
        "first_label": slot_label(plan.sessions[0].slot, names),
        "problems": [session for session in plan.sessions if session.problem],
        "alternatives": {s.number: [slot_label(a, names) for a in s.alternatives] for s in plan.sessions},
        "form": form,
        "notice": pop_notice(request, slug, draft),
    }, status=200 if form is None or not form.errors else 400)


# --- Step 3: details, questionnaire, consent ------------------------------------------------------


def _typed(request, form: DetailsForm) -> dict:
    """What the patient typed, kept so going back or a taken slot never loses it."""
    return {name: request.POST.get(name, "") for name in form.fields}


@require_http_methods(["GET", "POST"])
def book_details(request, slug):
    """Step 3: who you are, the safety questions and consent; books the series."""
    treatment = _treatment(slug)
    draft = draft_load(request, slug)
    if not draft or len(draft.slots) != treatment.sessions_in_series:
        return redirect("bookings:review" if draft else "bookings:book", slug=slug)
    form = DetailsForm(request.POST if request.method == "POST" else None, initial=draft.details)
    if form.is_bound:
        draft.details = _typed(request, form)
        draft_save(request, slug, draft)
    if form.is_bound and form.is_valid():
        try:
            series = services.series_book(
                treatment=treatment,
                patient=services.PatientDetails(
                    name=form.cleaned_data["name"], email=form.cleaned_data["email"], phone=form.cleaned_data["phone"]
                ),
                slots=draft.slots,
                answers=form.answers,
                consent_treatment=form.cleaned_data["consent_treatment"],
                consent_privacy=form.cleaned_data["consent_privacy"],
            )
        except SlotTaken:
            draft.notice = TAKEN
            draft_save(request, slug, draft)
            return redirect("bookings:review", slug=slug)
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            draft_clear(request, slug)
            request.session[BOOKED_SESSION_KEY] = str(series.public_id)
            return redirect("bookings:done", slug=slug)
    names = practitioner_names(draft.slots)
    return render(request, "bookings/book_details.html", {
        "treatment": treatment,
        "form": form,
        "sessions": [slot_label(slot, names) for slot in draft.slots],
    }, status=400 if form.errors else 200)


@require_GET
def book_done(request, slug):
    """The confirmation page, for the browser that has just booked."""
    public_id = request.session.get(BOOKED_SESSION_KEY)
    series = Series.objects.filter(public_id=public_id, treatment__slug=slug).first() if public_id else None
    if series is None:
        return redirect("bookings:book", slug=slug)
    return render(request, "bookings/book_done.html", {
        "series": series,
        "treatment": series.treatment,
        "sessions": series.appointments.active().select_related("practitioner").order_by("session_number"),
        "flagged": _flagged_questions(series),
        "manage_path": manage_path(series),
    })


def _flagged_questions(series: Series) -> list:
    questionnaire = series.questionnaires.first()
    keys = questionnaire.flagged if questionnaire else []
    return [QUESTIONS_BY_KEY[key] for key in keys if key in QUESTIONS_BY_KEY]


# --- The manage link -----------------------------------------------------------------------------------


def _invalid_link(request) -> HttpResponse:
    return render(request, "bookings/manage_invalid.html", status=404)


def timeline(series: Series) -> list[dict]:
    """Each session of the series with its live (or last cancelled) appointment and what it allows."""
    now = timezone.now()
    shown: dict[int, Appointment] = {}
    for appointment in series.appointments.select_related("practitioner").order_by("session_number", "-created_at"):
        current = shown.get(appointment.session_number)
        if current is None or (appointment.is_active and not current.is_active):
            shown[appointment.session_number] = appointment
    rows = {number: {"number": number, "appointment": appointment} for number, appointment in shown.items()}
    for row in rows.values():
        appointment = row["appointment"]
        row["past"] = appointment.end <= now
        row["refusal"] = None if row["past"] else selectors.change_refusal(appointment=appointment, now=now)
        row["changeable"] = appointment.is_active and not row["past"] and row["refusal"] is None
    return [rows[number] for number in sorted(rows)]


@require_GET
def manage(request, token):
    """The series as a timeline, with move and cancel actions per session."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request)
    rows = timeline(series)
    return render(request, "bookings/manage.html", {
        "series": series,
        "treatment": series.treatment,
        "rows": rows,
        "token": token,
        "has_booked": any(row["appointment"].is_active for row in rows),
        "flagged": _flagged_questions(series) if series.needs_review else [],
    })


@require_GET
def manage_calendar(request, token):
    """The series' booked sessions as an .ics file."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request)
    response = HttpResponse(ics.series_calendar(series), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics.calendar_filename(series)}"'
    return response


def _managed_session(request, token, number):
    """(series, appointment, None) or (None, None, the page to show instead)."""
    series = series_for_token(token)
    if series is None:
        return None, None, _invalid_link(request)
    appointment = (
        series.appointments.active().select_related("practitioner", "series__treatment")
        .filter(session_number=number).first()
    )
    if appointment is None:
        messages.error(request, f"Session {number} has no booked time to change.")
        return None, None, redirect("bookings:manage", token=token)
    refusal = selectors.change_refusal(appointment=appointment)
    if refusal:
        page = render(request, "bookings/manage_refused.html", {
            "series": series, "token": token, "number": number, "refusal": refusal}, status=409)
        return None, None, page
    return series, appointment, None


def plan_fingerprint(moves) -> str:
    return ",".join(f"{appointment.session_number}:{slot_key(slot)}" for appointment, slot in moves)


def move_options(appointment: Appointment) -> tuple[list[Slot], list[Slot]]:
    """(times that keep the other sessions, later times that move the following sessions too)."""
    current = slot_key(selectors.as_slot(appointment))
    keeping = [slot for slot in selectors.session_options(appointment=appointment) if slot_key(slot) != current]
    sessions = selectors.live_sessions(appointment.series)
    following = sessions.get(appointment.session_number + 1)
    if following is None:
        return keeping, []
    treatment = appointment.series.treatment
    previous = sessions.get(appointment.session_number - 1)
    zone = clinic_zone()
    # Past the day the next session allows, up to the end of the window after the previous one.
    first_day = following.start.astimezone(zone).date() - timedelta(days=treatment.min_days_between - 1)
    last_day = (previous.start.astimezone(zone).date() + timedelta(days=treatment.max_days_between)
                if previous else first_day + timedelta(days=treatment.max_days_between - treatment.min_days_between))
    if last_day < first_day:
        return keeping, []
    later = selectors.available_slots(
        treatment=treatment, start_date=first_day, days=(last_day - first_day).days + 1
    )
    own = {slot_key(selectors.as_slot(other)) for other in sessions.values()}
    return keeping, [slot for slot in later if slot_key(slot) not in own]


def _move_page(request, *, series, appointment, token, error="", status=200):
    keeping, later = move_options(appointment)
    names = practitioner_names(keeping + later)
    return render(request, "bookings/manage_move.html", {
        "series": series,
        "appointment": appointment,
        "token": token,
        "current_label": slot_label(selectors.as_slot(appointment), {appointment.practitioner_id: appointment.practitioner.name}),
        "keeping": calendar_groups(keeping, names),
        "later": calendar_groups(later, names),
        "error": error,
    }, status=status)


def calendar_groups(slots: list[Slot], names: dict[int, str]) -> list[dict]:
    """Slots grouped under their local day, for pages that list many days."""
    zone = clinic_zone()
    groups: dict[date, dict] = {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        group = groups.setdefault(local.date(), {"date": local.date(), "slots": []})
        group["slots"].append({"key": slot_key(slot), "label": slot_label(slot, names), "time": f"{local:%H:%M}",
                               "practitioner": names.get(slot.practitioner_id, "")})
    return list(groups.values())


def _chosen_slot(request, appointment) -> Slot | None:
    keeping, later = move_options(appointment)
    return {slot_key(slot): slot for slot in keeping + later}.get(request.POST.get("slot", ""))


@require_http_methods(["GET", "POST"])
def manage_move(request, token, number):
    """Move one session: pick a time, check the change (and any later sessions it moves), confirm."""
    series, appointment, page = _managed_session(request, token, number)
    if page:
        return page
    if request.method == "GET":
        return _move_page(request, series=series, appointment=appointment, token=token)
    new = _chosen_slot(request, appointment)
    if new is None:
        return _move_page(request, series=series, appointment=appointment, token=token, status=400,
                          error="That time is no longer free. Please choose another.")
    try:
        moves = selectors.reschedule_plan(appointment=appointment, new=new)
    except BookingError as refusal:
        return _move_page(request, series=series, appointment=appointment, token=token, status=400,
                          error=refusal.message)
    fingerprint = plan_fingerprint(moves)
    if request.POST.get("confirm") != fingerprint:
        changed_plan = "confirm" in request.POST
        return _confirm_move_page(request, series=series, token=token, moves=moves, slot=slot_key(new),
                                  fingerprint=fingerprint, changed_plan=changed_plan)
    try:
        services.appointments_reschedule(moves=moves)
    except BookingError as refusal:
        error = TAKEN if isinstance(refusal, SlotTaken) else refusal.message
        return _move_page(request, series=series, appointment=appointment, token=token, status=409, error=error)
    moved = ", ".join(f"session {a.session_number} to {_when(slot)}" for a, slot in moves)
    messages.success(request, f"Done: we moved {moved}. We have e-mailed you the new times.")
    return redirect("bookings:manage", token=token)


def _when(slot: Slot) -> str:
    return date_format(slot.start.astimezone(clinic_zone()), "l j F, H:i")


def _confirm_move_page(request, *, series, token, moves, slot, fingerprint, changed_plan):
    names = practitioner_names([new for _, new in moves])
    changes = [
        {"number": appointment.session_number,
         "old": slot_label(selectors.as_slot(appointment), {appointment.practitioner_id: appointment.practitioner.name}),
         "new": slot_label(new, names)}
        for appointment, new in moves
    ]
    return render(request, "bookings/manage_move_confirm.html", {
        "series": series, "token": token, "changes": changes, "slot": slot, "fingerprint": fingerprint,
        "number": moves[0][0].session_number, "changed_plan": changed_plan,
    }, status=409 if changed_plan else 200)


def _cancel_view(request, token, number, *, rest: bool):
    series, appointment, page = _managed_session(request, token, number)
    if page:
        return page
    later = [a for n, a in sorted(selectors.live_sessions(series).items()) if n >= number] if rest else [appointment]
    if request.method == "POST":
        reason = "Cancelled by the patient online."
        try:
            if rest:
                services.series_cancel_remaining(series=series, from_session=number, reason=reason)
            else:
                services.appointment_cancel(appointment=appointment, reason=reason)
        except BookingError as refusal:
            messages.error(request, refusal.message)
            return redirect("bookings:manage", token=token)
        cancelled = "these sessions" if len(later) > 1 else f"session {number}"
        messages.success(request, f"Done: we cancelled {cancelled} and e-mailed you a confirmation.")
        return redirect("bookings:manage", token=token)
    return render(request, "bookings/manage_cancel.html", {
        "series": series, "token": token, "number": number, "rest": rest, "sessions": later,
    })


@require_http_methods(["GET", "POST"])
def manage_cancel(request, token, number):
    """Cancel one session, after a confirmation page."""
    return _cancel_view(request, token, number, rest=False)


@require_http_methods(["GET", "POST"])
def manage_cancel_rest(request, token, number):
    """Cancel this session and every later one, after a confirmation page."""
    return _cancel_view(request, token, number, rest=True)
