"""
Patient pages: book a series in three steps, then manage it from the link in the e-mail.

Every page works without JavaScript. Times picked travel as slot keys and are matched against
freshly computed availability; the booking in progress lives in the server-side session
(bookings.flow) and the final POST re-validates everything inside the service.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bookings import calendar, eligibility_services, ics, selectors, services, waitlist_services
from bookings.availability import Slot
from bookings.calendar_page import (
    calendar_context,
    calendar_query,
    move_calendar_context,
    move_month,
    offered_slot,
    performing,
    posted_day,
    rebook_month,
    slot_day_query,
)
from bookings.changes import changed_since, plan_fingerprint, seen_field, seen_posted
from bookings.errors import CHANGED, BookingError, Code
from bookings.flow import Draft, draft_clear, draft_load, draft_save, pop_notice
from bookings.forms import (
    AnswersForm,
    DetailsForm,
    day_label,
    FirstSlotForm,
    plan_change_sentence,
    posted_sessions,
    practitioner_names,
    series_review_form,
    slot_key,
    slot_label,
)
from bookings.models import Appointment, ClinicRules, Series
from bookings.questionnaire import QUESTIONS_BY_KEY, questions_for
from bookings.ratelimits import rate_limited
from bookings.tokens import manage_path, series_for_token, token_expired
from treatments.models import Treatment

TAKEN = "That time was just taken by someone else. Here are the times still free; what you typed is kept."
NOT_OFFERED = "That time is no longer free. Please choose another."
NOT_ELIGIBLE_YET = (
    "Thank you for your answers. Because of them, your first session needs to be later than the time you "
    "chose: please choose a new time below. Your answers and details are kept."
)
BOOKED_SESSION_KEY = "booking:done"


def _treatment(slug: str) -> Treatment:
    treatments = eligibility_services.with_current_rules(Treatment.objects.published().select_related("prerequisite"))
    return get_object_or_404(treatments, slug=slug)


def _bound(request):
    return request.POST if request.method == "POST" else None


# --- Step 1: the month calendar ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@rate_limited("booking", "BOOKING_POST_RATE", methods=("POST",))
def book_start(request, slug):
    """Step 1: the first session from a month calendar; each time offered has room for the series."""
    treatment = _treatment(slug)
    practitioners = performing(treatment)
    query = calendar_query(request.GET, {pk for pk, _ in practitioners})
    if request.method == "POST" and (day := posted_day(request.POST.get("slot", ""))):
        query.month, query.day = None, day  # that day's times, to match the one posted

    draft = draft_load(request, slug)
    earliest = draft.earliest if draft else None  # set when the answers asked for a later start

    def build(month, day):
        return calendar.first_session_calendar(
            treatment=treatment, month=month, day=day, practitioner_id=query.practitioner_id, earliest=earliest
        )

    month = calendar.month_with_free_times(build, month=query.month, day=query.day)
    offered = {choice.slot.start for choice in month.times}
    form = FirstSlotForm(
        _bound(request), slots=[slot for slot in month.day_slots if slot.start in offered], names=dict(practitioners)
    )
    if form.is_bound and form.is_valid():
        draft = draft or Draft(slots=[])
        draft.slots = [form.cleaned_data["slot"]]
        draft_save(request, slug, draft)
        return redirect("bookings:review", slug=slug)
    sessions = treatment.sessions_in_series
    spacing = f"{treatment.min_days_between} to {treatment.max_days_between} days apart"
    context = {
        "treatment": treatment,
        "cal": calendar_context(
            month,
            query=query,
            practitioners=practitioners,
            fits_sentence=(
                f"Each time leaves room for all {sessions} sessions, {spacing}." if sessions > 1 else ""
            ),
            left_out_reason=f"From these times the later sessions cannot all be placed {spacing}.",
            today=timezone.localdate(),
        ),
        "form": form,
        "notice": pop_notice(request, slug, draft) if draft else "",
        "eligibility": _eligibility_note(earliest, draft.why if draft else [], month),
        # A treatment that starts with a consultation: the first day a new patient's series can start.
        "consultation_from": month.consultation_from,
    }
    return render(request, "bookings/book_calendar.html", context, status=400 if form.errors else 200)


def _eligibility_note(earliest, why: list[str], month: calendar.MonthCalendar) -> dict | None:
    """What the calendar says when the answers set a later first session: from when, and why."""
    if earliest is None or earliest <= timezone.localdate():
        return None
    note = {"from": f"{earliest:%A} {earliest.day} {earliest:%B %Y}", "why": why, "too_far": ""}
    if earliest > month.last_day:
        opens = earliest - (month.last_day - timezone.localdate())
        note["too_far"] = (
            "That is further ahead than we take online bookings, so there are no times to show yet. "
            f"Please come back from {opens:%A} {opens.day} {opens:%B %Y}, or call us on {settings.CLINIC_PHONE}."
        )
    return note


# --- Step 2: the series plan -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@rate_limited("booking", "BOOKING_POST_RATE", methods=("POST",))
def book_review(request, slug):
    """Step 2: the whole series planned from the first session; each session may be changed.

    Every request re-plans from the times wanted (posted, else those kept in the draft): a time
    that still fits stays, later sessions it pushes out of their window are placed afresh, and
    the page says what changed instead of refusing a plan that contradicts itself.
    """
    treatment = _treatment(slug)
    draft = draft_load(request, slug)
    if not draft or not draft.slots:
        return redirect("bookings:book", slug=slug)
    numbers = range(2, treatment.sessions_in_series + 1)
    if request.method == "POST":
        posted, wanted = posted_sessions(request.POST, treatment)
    else:
        posted = {}
        wanted = {number: (slot.start, slot.practitioner_id) for number, slot in enumerate(draft.slots[1:], start=2)}
    reviewed = selectors.series_review(
        treatment=treatment, first=draft.slots[0], wanted={n: w for n, w in wanted.items() if w}
    )
    plan = reviewed.plan
    first = plan.sessions[0]
    if first.slot is None:
        # The first time went (or fell inside the notice) meanwhile: back to its day, saying why.
        lost = slot_label(draft.slots[0], practitioner_names(draft.slots[:1]))
        draft.notice = f"Your first session, {lost}, can no longer be booked. {first.problem}"
        draft_save(request, slug, draft)
        return redirect(reverse("bookings:book", kwargs={"slug": slug}) + slot_day_query(draft.slots[0]))
    placed = [session for session in plan.sessions[1:] if session.slot]
    changes = reviewed.changes
    names = practitioner_names(
        plan.slots
        + [slot for s in plan.sessions for slot in s.alternatives]
        + [change.old for change in changes]
    )
    bad = {n for n in numbers if request.method == "POST" and (not wanted[n] or n in reviewed.unknown)}
    form = series_review_form(plan, treatment=treatment, names=names, posted=posted, bad=bad)
    if not form.is_bound and request.method == "POST" and plan.is_complete and not changes and "replan" not in request.POST:
        draft.slots = plan.slots
        draft_save(request, slug, draft)
        return redirect("bookings:details", slug=slug)
    if request.method == "POST" and not bad:
        # Remember the re-planned times, so going back and forth shows this plan.
        draft.slots = [first.slot, *(session.slot for session in placed)]
        draft_save(request, slug, draft)
    context = {
        "treatment": treatment,
        "plan": plan,
        "first_label": slot_label(first.slot, names),
        "first_day_query": slot_day_query(first.slot),
        "problems": [session for session in plan.sessions if session.problem],
        "unplaced": next((session for session in plan.sessions if session.slot is None), None),
        "nearest": [slot_label(slot, names) for s in plan.sessions[1:] if s.slot is None for slot in s.alternatives],
        "form": form,
        "rows": [
            {"session": s, "field": form[f"session_{s.number}"] if f"session_{s.number}" in form.fields else None}
            for s in plan.sessions[1:]
        ],
        "changes": [plan_change_sentence(change, treatment, names) for change in changes],
        "notice": pop_notice(request, slug, draft),
    }
    return render(request, "bookings/book_review.html", context, status=400 if form.errors else 200)


# --- Step 3: details, questionnaire, consent ------------------------------------------------------


def _book(treatment: Treatment, draft: Draft, form: DetailsForm) -> Series:
    data = form.cleaned_data
    return services.series_book(
        treatment=treatment,
        patient=services.PatientDetails(name=data["name"], email=data["email"], phone=data["phone"]),
        slots=draft.slots,
        answers=form.answers,
        dates=form.dates,
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
    form = DetailsForm(_bound(request), initial=draft.details, treatment=treatment)
    if form.is_bound:
        # Kept as typed, so going back or losing a time to someone else never loses it.
        draft.details = {name: request.POST.get(name, "") for name in form.fields}
        draft_save(request, slug, draft)
    status = 400
    if form.is_bound and form.is_valid():
        try:
            series = _book(treatment, draft, form)
        except BookingError as refusal:
            if refusal.code == Code.TAKEN:  # back to the plan, which is fresh: the taken time is not in it
                draft.notice = TAKEN
                draft_save(request, slug, draft)
                return redirect("bookings:review", slug=slug)
            if refusal.code == Code.NOT_ELIGIBLE_YET:
                # Back to the calendar, which now starts at the earliest day the answers allow and says
                # why; the answers are kept, so the patient only picks a new time.
                verdict = refusal.verdict
                draft.earliest, draft.why = verdict.earliest, verdict.sentences
                draft.notice = NOT_ELIGIBLE_YET
                draft_save(request, slug, draft)
                return redirect("bookings:book", slug=slug)
            form.add_error(None, refusal.message)  # what they typed is kept; busy: try again
            status = 409 if refusal.is_conflict else 400
        else:
            draft_clear(request, slug)
            request.session[BOOKED_SESSION_KEY] = str(series.public_id)
            return redirect("bookings:done", slug=slug)
    names = practitioner_names(draft.slots)
    sessions = [slot_label(slot, names) for slot in draft.slots]
    context = {"treatment": treatment, "form": form, "sessions": sessions}
    return render(request, "bookings/book_details.html", context, status=status if form.errors else 200)


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
        "consultation": series.consultation.appointments.active().select_related("practitioner", "series__treatment").first()
        if series.consultation_id else None,
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
    appointments = series.appointments.not_held().select_related("practitioner")  # holds are offers, not sessions
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
    # The waitlist beside each session: waiting for sooner, or a held offer to take.
    waiting, offers = waitlist_services.live_entries(series), waitlist_services.open_offers(series, now=timezone.now())
    for row in rows:
        row["waiting"], row["offer"] = waiting.get(row["number"]), offers.get(row["number"])
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


def _label(appointment: Appointment) -> str:
    names = {appointment.practitioner_id: appointment.practitioner.name}
    return slot_label(selectors.as_slot(appointment), names)


def _flag_earliest(appointment: Appointment):
    """The first day the patient's new answers allow for this session (None: no open eligibility flag)."""
    flag = eligibility_services.open_flag(appointment)
    return flag.earliest if flag else None


def _move_page(request, session: ManagedSession, token: str, *, error: str = "", status: int = 200):
    month, query, practitioners = move_month(
        request.GET, session.appointment, for_staff=False, posted_key=request.POST.get("slot", ""),
        earliest=_flag_earliest(session.appointment),
    )
    return render(request, "bookings/manage_move.html", {
        "series": session.series,
        "appointment": session.appointment,
        "token": token,
        "current_label": _label(session.appointment),
        "cal": move_calendar_context(month, query, practitioners, later="your later sessions"),
        "error": error,
        "seen": seen_field([session.appointment]),
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
        "seen": request.POST.get("seen", ""),  # what the first page showed, carried to the change
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
    seen = seen_posted(request.POST)
    if changed_since(seen, [session.appointment]):  # another tab (or the clinic) changed it
        return _move_page(request, session, token, status=409, error=CHANGED)
    month, _, _ = move_month(request.GET, session.appointment, for_staff=False, posted_key=request.POST.get("slot", ""),
                             earliest=_flag_earliest(session.appointment))
    new = offered_slot(month, request.POST.get("slot", ""))
    if new is None:
        return _move_page(request, session, token, status=400, error=NOT_OFFERED)
    try:
        moves = selectors.reschedule_plan(appointment=session.appointment, new=new)
    except BookingError as refusal:
        return _move_page(request, session, token, status=400, error=refusal.message)
    if request.POST.get("confirm") != plan_fingerprint(moves):
        return _confirm_move_page(request, session, token, moves=moves, new=new)
    try:
        services.appointments_reschedule(moves=moves, seen=seen)
    except BookingError as refusal:
        error = TAKEN if refusal.code == Code.TAKEN else refusal.message
        session = _managed_session(request, token, number)  # as it is now
        return session.page or _move_page(request, session, token, status=409, error=error)
    moved = ", ".join(f"session {a.session_number} to {slot_label(slot, {})}" for a, slot in moves)
    messages.success(request, f"Done: we moved {moved}. We have e-mailed you the new times.")
    return redirect("bookings:manage", token=token)


def _cancel_page(request, session: ManagedSession, token: str, number: int, *, rest: bool, error: str = ""):
    """The question "cancel these?", listing the sessions as they are now (409 with a reason)."""
    live = selectors.live_sessions(session.series)
    cancelling = [live[n] for n in sorted(live) if n >= number] if rest else [session.appointment]
    return render(request, "bookings/manage_cancel.html", {
        "series": session.series, "token": token, "number": number, "rest": rest,
        "sessions": cancelling, "seen": seen_field(cancelling), "error": error,
    }, status=409 if error else 200)


def _book_page(request, series: Series, token: str, number: int, *, chosen: Slot | None = None,
               error: str = "", status: int = 200):
    """The times session `number` may be booked at again (or the chosen one, to confirm)."""
    now = timezone.now()
    window = selectors.session_window(
        series=series, number=number, sessions=selectors.live_sessions(series), now=now, rules=ClinicRules.load()
    )
    names = practitioner_names([chosen] if chosen else [])
    return render(request, "bookings/manage_book.html", {
        "series": series,
        "token": token,
        "number": number,
        "window": window,
        "cal": None if chosen else rebook_month(request.GET, series, number, posted_key=request.POST.get("slot", ""))[1],
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
    month, _ = rebook_month(request.GET, series, number, posted_key=request.POST.get("slot", ""))
    chosen = offered_slot(month, request.POST.get("slot", ""))
    if chosen is None:
        return _book_page(request, series, token, number, status=400, error=NOT_OFFERED)
    if request.POST.get("confirm") != slot_key(chosen):
        return _book_page(request, series, token, number, chosen=chosen)
    try:
        services.session_rebook(series=series, number=number, slot=chosen)
    except BookingError as refusal:
        error = TAKEN if refusal.code == Code.TAKEN else refusal.message
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
    if request.method == "GET":
        return _cancel_page(request, session, token, number, rest=rest)
    seen = seen_posted(request.POST)
    reason = "Cancelled by the patient online."
    try:
        if rest:
            cancelled = services.series_cancel_remaining(
                series=session.series, from_session=number, reason=reason, seen=seen
            )
        else:
            cancelled = [
                services.appointment_cancel(appointment=session.appointment, reason=reason, seen=seen)
            ]
    except BookingError as refusal:
        if refusal.is_conflict:  # changed meanwhile (another tab, the clinic), or busy: ask again
            session = _managed_session(request, token, number)
            error = refusal.message
            return session.page or _cancel_page(request, session, token, number, rest=rest, error=error)
        messages.error(request, refusal.message)
        return redirect("bookings:manage", token=token)
    what = "these sessions" if len(cancelled) > 1 else f"session {number}"
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
    if request.method == "POST" and request.POST.get("answer") == "changed" and "new_answers" in request.POST:
        return _new_answers(request, token, series, appointment)
    if request.method == "POST":  # the service refuses it while re-confirming has not opened
        if request.POST.get("answer") not in ANSWERS:
            return render(request, "bookings/manage_answers.html", {
                "series": series, "token": token, "appointment": appointment,
                "questions": questions_for(series.treatment),
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
        "series": series, "token": token, "appointment": appointment,
        "questions": questions_for(series.treatment),
        "not_yet": selectors.answers_not_open_yet(appointment, now=timezone.now()),
        "form": AnswersForm(treatment=series.treatment),
    })


def _new_answers(request, token: str, series: Series, appointment: Appointment):
    """The answers as they are now: the same engine as at booking decides whether the session can go
    ahead; if not, the page proposes the first eligible time and the front desk's worklist shows it."""
    form = AnswersForm(request.POST, treatment=series.treatment)
    context = {"series": series, "token": token, "appointment": appointment,
               "questions": questions_for(series.treatment), "form": form}
    if not form.is_valid():
        return render(request, "bookings/manage_answers.html", {**context, "open_form": True}, status=400)
    try:
        result = eligibility_services.appointment_reassess(
            appointment=appointment, answers=form.answers, dates=form.dates
        )
    except BookingError as refusal:
        messages.error(request, refusal.message)
        return redirect("bookings:manage", token=token)
    if result.allowed:
        messages.success(request, (
            f"Thank you. Your session {appointment.session_number} can go ahead on these answers; a practitioner "
            "will look at them before it and may call you."
        ))
        return redirect("bookings:manage", token=token)
    verdict = result.verdict
    proposal = None
    if verdict.earliest is not None:
        choice = eligibility_services.first_eligible_time(appointment=appointment, earliest=verdict.earliest)
        if choice is not None:
            proposal = {"label": slot_label(choice.slot, practitioner_names([choice.slot])),
                        "query": slot_day_query(choice.slot)}
    return render(request, "bookings/manage_answers_result.html", {
        **context, "verdict": verdict, "proposal": proposal,
        "earliest": day_label(verdict.earliest) if verdict.earliest else "",
    })

