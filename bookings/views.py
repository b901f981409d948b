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
from django.views.decorators.http import require_GET, require_http_methods

from bookings import availability, ics, selectors, services
from bookings.availability import Slot
from bookings.errors import BookingError, SlotTaken
from bookings.flow import Draft, draft_clear, draft_load, draft_save, pop_notice
from bookings.forms import (
    DetailsForm,
    FirstSlotForm,
    SeriesReviewForm,
    WeekForm,
    clinic_zone,
    day_label,
    practitioner_names,
    slot_key,
    slot_label,
    week_start,
)
from bookings.models import Appointment, ClinicRules, Series
from bookings.questionnaire import QUESTIONS, QUESTIONS_BY_KEY
from bookings.ratelimits import rate_limited
from bookings.tokens import manage_path, series_for_token, token_expired
from treatments.models import Treatment

TAKEN = "That time was just taken by someone else. Here are the times still free; what you typed is kept."
NOT_OFFERED = "That time is no longer free. Please choose another."
BOOKED_SESSION_KEY = "booking:done"


def _treatment(slug: str) -> Treatment:
    return get_object_or_404(Treatment.objects.published(), slug=slug)


def _bound(request):
    return request.POST if request.method == "POST" else None


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
    form.is_valid()  # a bad value simply falls back to the defaults below
    today = timezone.localdate()
    first = week_start(today)
    last = week_start(today + timedelta(days=ClinicRules.load().horizon_days))
    start = min(max(week_start(form.cleaned_data.get("week") or today), first), last)
    week = CalendarWeek(
        start=start,
        previous=start - timedelta(days=7) if start > first else None,
        next=start + timedelta(days=7) if start < last else None,
        practitioner=form.cleaned_data.get("practitioner"),
    )
    return week, form


@require_http_methods(["GET", "POST"])
@rate_limited("booking", "BOOKING_POST_RATE", methods=("POST",))
def book_start(request, slug):
    """Step 1: pick the first session from a week of real free slots."""
    treatment = _treatment(slug)
    week, week_form = calendar_week(request.GET, treatment)
    slots = selectors.available_slots(
        treatment=treatment, start_date=week.start, days=7, practitioner=week.practitioner
    )
    names = practitioner_names(slots)
    form = FirstSlotForm(_bound(request), slots=slots, names=names)
    draft = draft_load(request, slug)
    if form.is_bound and form.is_valid():
        draft = draft or Draft(slots=[])
        draft.slots = [form.cleaned_data["slot"]]
        draft_save(request, slug, draft)
        return redirect("bookings:review", slug=slug)
    context = {
        "treatment": treatment,
        "week": week,
        "week_form": week_form,
        "week_end": week.start + timedelta(days=6),
        "previous_query": week.query(week.previous),
        "next_query": week.query(week.next),
        "this_query": week.query(week.start),
        "days": slot_days(slots, names, week=week.start),
        "form": form,
        "notice": pop_notice(request, slug, draft) if draft else "",
    }
    return render(request, "bookings/book_calendar.html", context, status=400 if form.errors else 200)


# --- Step 2: the series plan -------------------------------------------------------------------------


def _still_free(options: list[Slot], chosen: Slot | None) -> Slot:
    """The patient's earlier choice while it is still offered, else the freshly proposed time."""
    offered = {slot_key(slot): slot for slot in options}
    return offered.get(slot_key(chosen), options[0]) if chosen else options[0]


@require_http_methods(["GET", "POST"])
@rate_limited("booking", "BOOKING_POST_RATE", methods=("POST",))
def book_review(request, slug):
    """Step 2: the whole series planned from the first session; each session may be changed."""
    treatment = _treatment(slug)
    draft = draft_load(request, slug)
    if not draft or not draft.slots:
        return redirect("bookings:book", slug=slug)
    plan = selectors.series_plan(treatment=treatment, first=draft.slots[0])
    first = plan.sessions[0]
    if first.slot is None:
        # The first time went (or fell inside the notice) meanwhile: back to its week, saying why.
        draft.notice = first.problem or TAKEN
        draft_save(request, slug, draft)
        day = draft.slots[0].start.astimezone(clinic_zone()).date()
        return redirect(reverse("bookings:book", kwargs={"slug": slug}) + f"?week={day:%Y-%m-%d}")
    names = practitioner_names(plan.slots + [slot for s in plan.sessions for slot in s.alternatives])
    form = None
    if plan.is_complete:
        options = [[session.slot, *session.alternatives] for session in plan.sessions[1:]]
        earlier = draft.slots[1:] + [None] * len(options)
        form = SeriesReviewForm(
            _bound(request),
            first=first.slot,
            sessions=options,
            initial_slots=[_still_free(offered, chosen) for offered, chosen in zip(options, earlier)],
            names=names,
            treatment=treatment,
        )
        if form.is_bound and form.is_valid():
            draft.slots = [first.slot, *form.chosen_slots]
            draft_save(request, slug, draft)
            return redirect("bookings:details", slug=slug)
    context = {
        "treatment": treatment,
        "plan": plan,
        "first_label": slot_label(first.slot, names),
        "first_week_query": f"?week={first.slot.start.astimezone(clinic_zone()):%Y-%m-%d}",
        "problems": [session for session in plan.sessions if session.problem],
        "form": form,
        "notice": pop_notice(request, slug, draft),
    }
    return render(request, "bookings/book_review.html", context, status=400 if form and form.errors else 200)


# --- Step 3: details, questionnaire, consent ------------------------------------------------------


def _book(treatment: Treatment, draft: Draft, form: DetailsForm) -> Series:
    data = form.cleaned_data
    return services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name=data["name"], email=data["email"], phone=data["phone"]),
        slots=draft.slots,
        answers=form.answers,
        consent_treatment=data["consent_treatment"],
        consent_privacy=data["consent_privacy"],
    )


@require_http_methods(["GET", "POST"])
@rate_limited("booking", "BOOKING_POST_RATE", methods=("POST",))
def book_details(request, slug):
    """Step 3: who you are, the safety questions and consent; books the series."""
    treatment = _treatment(slug)
    draft = draft_load(request, slug)
    if not draft or len(draft.slots) != treatment.sessions_in_series:
        return redirect("bookings:review" if draft else "bookings:book", slug=slug)
    form = DetailsForm(_bound(request), initial=draft.details)
    if form.is_bound:
        # Kept as typed, so going back or losing a time to someone else never loses it.
        draft.details = {name: request.POST.get(name, "") for name in form.fields}
        draft_save(request, slug, draft)
    if form.is_bound and form.is_valid():
        try:
            series = _book(treatment, draft, form)
        except SlotTaken:
            draft.notice = TAKEN
            draft_save(request, slug, draft)
            return redirect("bookings:review", slug=slug)
        except BookingError as refusal:
            form.add_error(None, refusal.message)
        else:
            draft_clear(request, slug)
            request.session[BOOKED_SESSION_KEY] = str(series.public_id)
            return redirect("bookings:done", slug=slug)
    names = practitioner_names(draft.slots)
    sessions = [slot_label(slot, names) for slot in draft.slots]
    context = {"treatment": treatment, "form": form, "sessions": sessions}
    return render(request, "bookings/book_details.html", context, status=400 if form.errors else 200)


def _flagged_questions(series: Series) -> list:
    questionnaire = series.questionnaires.first()
    keys = questionnaire.flagged if questionnaire else []
    return [QUESTIONS_BY_KEY[key] for key in keys if key in QUESTIONS_BY_KEY]


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
        "details_note": selectors.details_note(series),
    })


# --- The manage link -----------------------------------------------------------------------------------


def _invalid_link(request, token: str) -> HttpResponse:
    """A page saying the link does not work: 410 when it was genuine but has expired, else 404."""
    if token_expired(token):
        return render(request, "bookings/manage_expired.html", status=410)
    return render(request, "bookings/manage_invalid.html", status=404)


def timeline(series: Series) -> list[dict]:
    """Each session with its live (else its last cancelled) appointment and whether it may change."""
    now = timezone.now()
    shown: dict[int, Appointment] = {}
    appointments = series.appointments.select_related("practitioner")
    for appointment in appointments.order_by("session_number", "-created_at"):
        current = shown.get(appointment.session_number)
        if current is None or (appointment.is_active and not current.is_active):
            shown[appointment.session_number] = appointment
    rows = []
    rules = ClinicRules.load()
    live = {number: appointment for number, appointment in shown.items() if appointment.is_active}
    for number, appointment in sorted(shown.items()):
        past = appointment.end <= now
        refusal = None if past else selectors.change_refusal(appointment=appointment, now=now)
        answers_open_from = selectors.answers_open_from(appointment, rules)
        rows.append({
            "number": number,
            "appointment": appointment,
            "past": past,
            "refusal": refusal,
            "changeable": appointment.is_active and not past and refusal is None,
            "answers_open_from": answers_open_from,
            "answers_open": now >= answers_open_from,
            "bookable": not appointment.is_active
            and selectors.rebook_refusal(series=series, number=number, sessions=live) is None,
        })
    return rows


@require_GET
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage(request, token):
    """The series as a timeline, with move and cancel actions per session."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request, token)
    rows = timeline(series)
    return render(request, "bookings/manage.html", {
        "series": series,
        "treatment": series.treatment,
        "rows": rows,
        "token": token,
        "cutoff_hours": ClinicRules.load().cancellation_cutoff_hours,
        "flagged": _flagged_questions(series) if series.needs_review else [],
        "gaps": selectors.series_gaps(series),
    })


@require_GET
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_calendar(request, token):
    """The series' sessions as an .ics file (cancelled ones marked cancelled: see bookings/ics.py)."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request, token)
    response = HttpResponse(ics.series_calendar(series), content_type=ics.content_type(ics.PUBLISH))
    response["Content-Disposition"] = f'attachment; filename="{ics.calendar_filename(series)}"'
    return response


@dataclass
class ManagedSession:
    series: Series | None = None
    appointment: Appointment | None = None
    page: HttpResponse | None = None  # shown instead, when the session cannot be changed


def _managed_session(request, token: str, number: int) -> ManagedSession:
    series = series_for_token(token)
    if series is None:
        return ManagedSession(page=_invalid_link(request, token))
    appointment = (
        series.appointments.active()
        .select_related("practitioner", "series__treatment")
        .filter(session_number=number)
        .first()
    )
    if appointment is None:
        messages.error(request, f"Session {number} has no booked time to change.")
        return ManagedSession(page=redirect("bookings:manage", token=token))
    refusal = selectors.change_refusal(appointment=appointment)
    if refusal:
        context = {"series": series, "token": token, "number": number, "refusal": refusal}
        return ManagedSession(page=render(request, "bookings/manage_refused.html", context, status=409))
    return ManagedSession(series, appointment)


def plan_fingerprint(moves: list[tuple[Appointment, Slot]]) -> str:
    """What the patient was shown, to confirm exactly that plan and nothing else."""
    return ",".join(f"{appointment.session_number}:{slot_key(slot)}" for appointment, slot in moves)


def move_options(appointment: Appointment, *, for_staff: bool = False) -> tuple[list[Slot], list[Slot]]:
    """(times that keep both neighbours, later times that push the following sessions too)."""
    current = slot_key(selectors.as_slot(appointment))
    options = selectors.session_options(appointment=appointment, for_staff=for_staff)
    keeping = [slot for slot in options if slot_key(slot) != current]
    sessions = selectors.live_sessions(appointment.series)
    previous_number, following_number = availability.live_neighbours(sessions, appointment.session_number)
    following = sessions.get(following_number)
    if following is None:
        return keeping, []
    treatment = appointment.series.treatment
    previous = sessions.get(previous_number)
    zone = clinic_zone()
    # From the day after the next session's window closes to the end of the previous one's.
    first_day = following.start.astimezone(zone).date() - timedelta(days=treatment.min_days_between - 1)
    if previous:
        last_day = previous.start.astimezone(zone).date() + timedelta(days=treatment.max_days_between)
    else:
        last_day = first_day + timedelta(days=treatment.max_days_between - treatment.min_days_between)
    if last_day < first_day:
        return keeping, []
    days = (last_day - first_day).days + 1
    return keeping, selectors.available_slots(
        treatment=treatment, start_date=first_day, days=days, for_staff=for_staff
    )


def _label(appointment: Appointment) -> str:
    names = {appointment.practitioner_id: appointment.practitioner.name}
    return slot_label(selectors.as_slot(appointment), names)


def _move_page(request, session: ManagedSession, token: str, *, error: str = "", status: int = 200):
    keeping, later = move_options(session.appointment)
    names = practitioner_names(keeping + later)
    return render(request, "bookings/manage_move.html", {
        "series": session.series,
        "appointment": session.appointment,
        "token": token,
        "current_label": _label(session.appointment),
        "keeping": slot_days(keeping, names),
        "later": slot_days(later, names),
        "error": error,
    }, status=status)


def _confirm_move_page(request, session: ManagedSession, token: str, *, moves, new: Slot):
    names = practitioner_names([slot for _, slot in moves])
    changed_plan = "confirm" in request.POST  # confirming a plan that is no longer the one shown
    return render(request, "bookings/manage_move_confirm.html", {
        "series": session.series,
        "token": token,
        "number": session.appointment.session_number,
        "changes": [
            {"number": appointment.session_number, "old": _label(appointment), "new": slot_label(slot, names)}
            for appointment, slot in moves
        ],
        "slot": slot_key(new),
        "fingerprint": plan_fingerprint(moves),
        "changed_plan": changed_plan,
    }, status=409 if changed_plan else 200)


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_move(request, token, number):
    """Move one session: pick a time, check the change (and any later sessions it moves), confirm."""
    session = _managed_session(request, token, number)
    if session.page:
        return session.page
    if request.method == "GET":
        return _move_page(request, session, token)
    keeping, later = move_options(session.appointment)
    new = {slot_key(slot): slot for slot in keeping + later}.get(request.POST.get("slot", ""))
    if new is None:
        return _move_page(request, session, token, status=400, error=NOT_OFFERED)
    try:
        moves = selectors.reschedule_plan(appointment=session.appointment, new=new)
    except BookingError as refusal:
        return _move_page(request, session, token, status=400, error=refusal.message)
    if request.POST.get("confirm") != plan_fingerprint(moves):
        return _confirm_move_page(request, session, token, moves=moves, new=new)
    try:
        services.appointments_reschedule(moves=moves)
    except BookingError as refusal:
        error = TAKEN if isinstance(refusal, SlotTaken) else refusal.message
        return _move_page(request, session, token, status=409, error=error)
    moved = ", ".join(f"session {a.session_number} to {slot_label(slot, {})}" for a, slot in moves)
    messages.success(request, f"Done: we moved {moved}. We have e-mailed you the new times.")
    return redirect("bookings:manage", token=token)


def _book_page(request, series: Series, token: str, number: int, *, chosen: Slot | None = None,
               error: str = "", status: int = 200):
    """The times session `number` may be booked at again (or the chosen one, to confirm)."""
    now = timezone.now()
    window = selectors.session_window(
        series=series, number=number, sessions=selectors.live_sessions(series), now=now, rules=ClinicRules.load()
    )
    options = [] if chosen else selectors.window_slots(series=series, number=number, now=now)
    names = practitioner_names(options + ([chosen] if chosen else []))
    return render(request, "bookings/manage_book.html", {
        "series": series,
        "token": token,
        "number": number,
        "window": window,
        "days": slot_days(options, names),
        "chosen": chosen,
        "chosen_key": slot_key(chosen) if chosen else "",
        "chosen_practitioner": names.get(chosen.practitioner_id, "") if chosen else "",
        "error": error,
    }, status=status)


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_book(request, token, number):
    """Book a cancelled session again: pick a time inside its window, check it, confirm."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request, token)
    refusal = selectors.rebook_refusal(series=series, number=number)
    if refusal:
        messages.error(request, refusal)
        return redirect("bookings:manage", token=token)
    if request.method == "GET":
        return _book_page(request, series, token, number)
    options = selectors.window_slots(series=series, number=number)
    chosen = {slot_key(slot): slot for slot in options}.get(request.POST.get("slot", ""))
    if chosen is None:
        return _book_page(request, series, token, number, status=400, error=NOT_OFFERED)
    if request.POST.get("confirm") != slot_key(chosen):
        return _book_page(request, series, token, number, chosen=chosen)
    try:
        services.session_rebook(series=series, number=number, slot=chosen)
    except BookingError as refusal:
        error = TAKEN if isinstance(refusal, SlotTaken) else refusal.message
        return _book_page(request, series, token, number, status=409, error=error)
    messages.success(
        request, f"Done: session {number} is booked for {slot_label(chosen, {})}. We have e-mailed you the details."
    )
    return redirect("bookings:manage", token=token)


def _cancel(request, token: str, number: int, *, rest: bool):
    """Confirm, then cancel one session (or it and every later one)."""
    session = _managed_session(request, token, number)
    if session.page:
        return session.page
    live = selectors.live_sessions(session.series)
    cancelling = [live[n] for n in sorted(live) if n >= number] if rest else [session.appointment]
    if request.method == "GET":
        context = {"series": session.series, "token": token, "number": number, "rest": rest}
        return render(request, "bookings/manage_cancel.html", {**context, "sessions": cancelling})
    reason = "Cancelled by the patient online."
    try:
        if rest:
            services.series_cancel_remaining(series=session.series, from_session=number, reason=reason)
        else:
            services.appointment_cancel(appointment=session.appointment, reason=reason)
    except BookingError as refusal:
        messages.error(request, refusal.message)
        return redirect("bookings:manage", token=token)
    what = "these sessions" if len(cancelling) > 1 else f"session {number}"
    messages.success(request, f"Done: we cancelled {what} and e-mailed you a confirmation.")
    return redirect("bookings:manage", token=token)


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_cancel(request, token, number):
    """Cancel one session, after a confirmation page."""
    return _cancel(request, token, number, rest=False)


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_cancel_rest(request, token, number):
    """Cancel this session and every later one, after a confirmation page."""
    return _cancel(request, token, number, rest=True)


# --- Re-confirming the safety answers before a session (the reminder e-mail links here) ----------

ANSWERS = {"unchanged": False, "changed": True}


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_answers(request, token, number):
    """Before a session: one click says the safety answers still hold, or that something changed."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request, token)
    appointment = (
        series.appointments.filter(session_number=number, status=Appointment.Status.BOOKED)
        .select_related("practitioner")
        .first()
    )
    if appointment is None or appointment.end <= timezone.now():
        messages.error(request, f"Session {number} is not booked ahead, so there are no answers to confirm for it.")
        return redirect("bookings:manage", token=token)
    if request.method == "POST":  # the service refuses it while re-confirming has not opened
        if request.POST.get("answer") not in ANSWERS:
            return render(request, "bookings/manage_answers.html", {
                "series": series, "token": token, "appointment": appointment, "questions": QUESTIONS,
                "error": "Please choose one of the two buttons.",
            }, status=400)
        changed = ANSWERS[request.POST["answer"]]
        try:
            services.appointment_confirm_answers(appointment=appointment, changed=changed)
        except BookingError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, (
                f"Thank you. A practitioner will look at your answers before session {number} and may call you."
                if changed else f"Thank you: your answers are confirmed for session {number}."
            ))
        return redirect("bookings:manage", token=token)
    return render(request, "bookings/manage_answers.html", {
        "series": series, "token": token, "appointment": appointment, "questions": QUESTIONS,
        "not_yet": selectors.answers_not_open_yet(appointment, now=timezone.now()),
    })

