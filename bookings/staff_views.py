"""
The front-desk workspace under /staff/: the day and week diaries, actions on an appointment,
patients, and booking a series by phone. Thin views: forms validate, the booking services write
(with `for_staff=True` and `by=request.user`, so the audit trail names the person), selectors read.

Every page needs a login; every action a permission (bookings/migrations/0005 gives them to the
Front desk, Practitioner and Manager groups). A practitioner without `view_all_diaries` reaches
only their own appointments and patients: other rows answer 404, as if they did not exist.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import ratelimits, selectors, services, staff_selectors
from bookings.audit import SYSTEM, audit_record, changed_fields, formset_save
from bookings.errors import CHANGED, BookingError, Code
from bookings.forms import (
    FURTHEST_AHEAD,
    SeriesReviewForm,
    clinic_zone,
    practitioner_names,
    slot_days,
    slot_key,
    slot_label,
    week_start,
)
from bookings.models import Appointment, AuditEvent, ClinicRules, OutboxMessage, Practitioner, Room, Series
from bookings.questionnaire import QUESTIONS
from bookings.staff_forms import (
    BookStartForm,
    CancelForm,
    DayForm,
    PhoneAnswersForm,
    SignInUnlockForm,
    StaffLoginForm,
    TimeOffFormSet,
    WeekForm,
    WorkingHoursFormSet,
    date_problem,
)
from bookings.calendar_page import move_calendar_context, move_month, offered_slot
from bookings.views import changed_since, plan_fingerprint, seen_field, seen_posted
from treatments.models import Treatment


def staff_only(permission: str):
    """Login first (anonymous people go to the login page), then the permission (else 403)."""

    def decorate(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate


# --- Signing in ------------------------------------------------------------------------------------


class StaffLoginView(auth_views.LoginView):
    """The staff sign-in page; too many attempts answer 429 with a sentence, not a lock-out of everyone."""

    template_name = "staff/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("staff:day")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limited:
            response.status_code = 429
        return response


class StaffLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("staff:login")


# --- The diary ---------------------------------------------------------------------------------------


def _day(query) -> tuple[date, str]:
    """The day asked for (today when none), and why a bad one was not used."""
    form = DayForm(query)
    day = (form.cleaned_data.get("date") if form.is_valid() else None) or timezone.localdate()
    return day, date_problem(form)


@require_GET
@staff_only("bookings.view_appointment")
def day_view(request):
    """Every working practitioner's column for one day (today unless ?date=YYYY-MM-DD); ?by=room: rooms."""
    day, problem = _day(request.GET)
    by_room = request.GET.get("by") == "room"
    practitioners = list(staff_selectors.visible_practitioners(request.user))
    if not practitioners:
        diary = None
    elif by_room:
        diary = staff_selectors.room_diary(practitioners=practitioners, day=day, now=timezone.now())
    else:
        diary = staff_selectors.diary(
            practitioners=practitioners, days=[day], now=timezone.now(), working_only=True
        )
    return render(
        request,
        "staff/day.html",
        {
            "day": day,
            "diary": diary,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "today": timezone.localdate(),
            "form": DayForm(initial={"date": day}),
            "date_problem": problem,
            "here": request.get_full_path(),
            "by_room": by_room,
        },
    )


@require_GET
@staff_only("bookings.view_appointment")
def week_view(request):
    """One practitioner's week, Monday to Sunday; ?practitioner=all: everyone's week at a glance."""
    practitioners = staff_selectors.visible_practitioners(request.user)
    form = WeekForm(request.GET, practitioners=practitioners)
    form.is_valid()  # bad values fall back to this week and the first practitioner
    practitioner = form.cleaned_data.get("practitioner") or practitioners.first()
    if practitioner is None:
        raise Http404("No practitioner to show.")
    start = week_start(form.cleaned_data.get("date") or timezone.localdate())
    days = [start + timedelta(days=n) for n in range(7)]
    if request.GET.get("practitioner") == "all":
        grid, rows = staff_selectors.week_overview(practitioners=list(practitioners), days=days)
        return render(
            request,
            "staff/week_all.html",
            {
                "start": start,
                "end": days[-1],
                "days": days,
                "grid": grid,
                "rows": rows,
                "previous": start - timedelta(days=7),
                "next": start + timedelta(days=7),
                "practitioners": practitioners,
            },
        )
    return render(
        request,
        "staff/week.html",
        {
            "practitioner": practitioner,
            "start": start,
            "end": days[-1],
            "diary": staff_selectors.diary(practitioners=[practitioner], days=days),
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
            "form": WeekForm(
                initial={"date": start, "practitioner": practitioner}, practitioners=practitioners
            ),
            "date_problem": date_problem(form),
            "here": request.get_full_path(),
        },
    )


# --- One appointment -----------------------------------------------------------------------------------


def _appointment(request, pk: int) -> Appointment:
    appointments = staff_selectors.visible_appointments(request.user).select_related(
        "series__patient", "series__treatment", "practitioner", "room"
    )
    return get_object_or_404(appointments, pk=pk)


FIELD_LABELS = {
    "status": "Status",
    "start": "Start",
    "end": "End",
    "practitioner_id": "Practitioner",
    "room_id": "Room",
    "needs_review": "Review needed",
    "cancel_reason": "Reason",
    "name": "Name",
    "phone": "Phone",
}


def audit_rows(events, names: dict[int, str], rooms: dict[int, str] | None = None) -> list[dict]:
    """Each event with its changes in words ('start: Tue 9 Mar 10:00 → Wed 10 Mar 11:00'), rooms by name."""
    events = list(events)
    if rooms is None and any(event.before.get("room_id") or event.after.get("room_id") for event in events):
        rooms = dict(Room.objects.values_list("pk", "name"))
    return [
        {
            "event": event,
            "changes": [
                (
                    FIELD_LABELS.get(field, field),
                    None if old is None and not event.before else _shown(field, old, names, rooms),
                    _shown(field, new, names, rooms),
                )
                for field, old, new in changed_fields(event)
            ],
        }
        for event in events
    ]


def _shown(field: str, value, names: dict[int, str], rooms: dict[int, str] | None) -> str:
    if value in (None, ""):
        return "—"
    if field in ("start", "end"):
        return f"{datetime.fromisoformat(value).astimezone(clinic_zone()):%a %-d %b %Y %H:%M}"
    if field == "practitioner_id":
        return names.get(value, f"#{value}")
    if field == "room_id":
        return (rooms or {}).get(value, f"#{value}")
    if field == "status":
        return Appointment.Status(value).label if value in Appointment.Status.values else value
    if field == "needs_review":
        return "yes" if value else "no"
    return str(value)


def messages_for(appointments) -> dict[int, list[OutboxMessage]]:
    """The e-mails planned, sent or failed about each appointment (reminders and confirmations)."""
    ids = [appointment.pk for appointment in appointments]
    found: dict[int, list[OutboxMessage]] = {pk: [] for pk in ids}
    condition = Q(appointment_id__in=ids)
    for pk in ids:
        condition |= Q(appointment_ids__contains=[pk])
    for message in OutboxMessage.objects.filter(condition).order_by("due_at", "pk"):
        for pk in {message.appointment_id, *message.appointment_ids} & set(ids):
            found[pk].append(message)
    return found


def _actions(user, appointment: Appointment) -> dict[str, bool]:
    booked = appointment.status == Appointment.Status.BOOKED
    can_mark, can_change = (
        user.has_perm("bookings.mark_appointment"),
        user.has_perm("bookings.change_appointment"),
    )
    now = timezone.now()

    def open_now(status: str) -> bool:  # the service's own rule: the state and the clock
        return services.mark_refusal(appointment=appointment, status=status, now=now) is None

    return {
        "check_in": can_mark and open_now(Appointment.Status.CHECKED_IN),
        "complete": can_mark and open_now(Appointment.Status.COMPLETED),
        "no_show": can_change and open_now(Appointment.Status.NO_SHOW),
        "undo": user.has_perm(_undo_permission(appointment))
        and services.unmark_refusal(appointment=appointment, now=now) is None,
        "move": can_change and booked,
        "cancel": can_change and booked,
        "clear_review": user.has_perm("bookings.clear_review")
        and (appointment.needs_review or appointment.series.needs_review),
    }


def _appointment_page(request, appointment: Appointment, *, cancel_form=None, status: int = 200):
    events = list(appointment.audit_events.select_related("actor"))
    names = dict(Practitioner.objects.values_list("pk", "name"))
    return render(
        request,
        "staff/appointment.html",
        {
            "appointment": appointment,
            "series": appointment.series,
            "patient": appointment.series.patient,
            "actions": _actions(request.user, appointment),
            "cancel_form": cancel_form or CancelForm(),
            "gaps": selectors.series_gaps(appointment.series),
            "audit": audit_rows(events, names),
            "outbox": messages_for([appointment])[appointment.pk],
            "here": request.get_full_path(),
            "seen": seen_field([appointment]),
        },
        status=status,
    )


@require_GET
@staff_only("bookings.view_appointment")
def appointment_detail(request, pk):
    return _appointment_page(request, _appointment(request, pk))


def _back(request, appointment: Appointment):
    """Back where the action was started (the diary, usually), else the appointment page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("staff:appointment", pk=appointment.pk)


@dataclass(frozen=True)
class Action:
    permission: str
    done: str


ACTIONS = {
    "check-in": Action("bookings.mark_appointment", "checked in"),
    "complete": Action("bookings.mark_appointment", "marked as completed"),
    "no-show": Action("bookings.change_appointment", "marked as a no-show"),
    "clear-review": Action("bookings.clear_review", "cleared for treatment (review done)"),
    "undo": Action("", "back to booked (the change is undone)"),
}
MARK_STATUS = {
    "check-in": Appointment.Status.CHECKED_IN,
    "complete": Appointment.Status.COMPLETED,
    "no-show": Appointment.Status.NO_SHOW,
}
# Asked before doing: no undo once the session's day is over (a no-show also frees the time).
CONFIRM = {
    "complete": "Mark session {number} as completed?",
    "no-show": "Mark session {number} as a no-show?",
}


def _undo_permission(appointment: Appointment) -> str:
    """Undo needs the permission that recorded the status."""
    no_show = appointment.status == Appointment.Status.NO_SHOW
    return "bookings.change_appointment" if no_show else "bookings.mark_appointment"


def _confirm_page(request, appointment: Appointment, action: str, *, review: bool):
    question = CONFIRM.get(action, "Check in session {number}?").format(number=appointment.session_number)
    return render(
        request,
        "staff/appointment_confirm.html",
        {
            "appointment": appointment,
            "patient": appointment.series.patient,
            "action": action,
            "question": question,
            "irreversible": action in CONFIRM,
            "review": review,
            "can_review": request.user.has_perm("bookings.clear_review"),
            "next": request.POST.get("next", ""),
        },
    )


@require_POST
@login_required
def appointment_action(request, pk, action):
    """Check in, complete, no-show, undo the same day's one, or clear the review flag; then go back
    where the click came from. Completed and no-show are asked first, and so is treating a session
    held for review (a practitioner confirms the review was done)."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    user = request.user
    if action == "undo":  # the permission that recorded the status, checked once it is known
        allowed = user.has_perm("bookings.mark_appointment") or user.has_perm("bookings.change_appointment")
    else:
        allowed = user.has_perm(ACTIONS[action].permission)
    if not allowed:
        raise PermissionDenied
    appointment = _appointment(request, pk)
    if action == "undo" and not user.has_perm(_undo_permission(appointment)):
        raise PermissionDenied
    status = MARK_STATUS.get(action)
    flagged = appointment.needs_review or appointment.series.needs_review
    review = status in services.REVIEWED_BEFORE and flagged
    confirmed = request.POST.get("confirm") == "yes"
    review_done = review and request.POST.get("review_done") == "on"
    try:
        if status and (action in CONFIRM or review) and not confirmed:
            # Refuse before asking when the clock or the state says no anyway.
            refusal = services.mark_refusal(appointment=appointment, status=status, now=timezone.now())
            if refusal is None:
                return _confirm_page(request, appointment, action, review=review)
            raise refusal
        if review_done and not request.user.has_perm("bookings.clear_review"):
            raise BookingError(
                code="review_needed",
                message="This patient's safety answers are waiting for a practitioner's review: a "
                "practitioner checks them in once they have reviewed the answers.",
            )
        if action == "clear-review":
            services.appointment_review_clear(appointment=appointment, by=request.user)
        elif action == "undo":
            services.appointment_unmark(appointment=appointment, by=request.user)
        else:
            services.appointment_mark(
                appointment=appointment, status=status, by=request.user, review_done=review_done
            )
    except BookingError as refusal:
        messages.error(request, refusal.message)
    else:
        patient = appointment.series.patient
        messages.success(
            request, f"{patient.name}, session {appointment.session_number}: {ACTIONS[action].done}."
        )
    return _back(request, appointment)


@require_POST
@staff_only("bookings.change_appointment")
def appointment_cancel(request, pk):
    """Cancel one session, or it and every later one, with a reason (staff: no patients' cutoff)."""
    appointment = _appointment(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, appointment, cancel_form=form, status=400)
    reason, number, seen = form.cleaned_data["reason"], appointment.session_number, seen_posted(request.POST)
    try:
        if form.cleaned_data["rest"]:
            cancelled = services.series_cancel_remaining(
                series=appointment.series,
                from_session=number,
                by=request.user,
                reason=reason,
                for_staff=True,
                seen=seen,
            )
        else:
            cancelled = [
                services.appointment_cancel(
                    appointment=appointment, by=request.user, reason=reason, for_staff=True, seen=seen
                )
            ]
    except BookingError as refusal:
        messages.error(request, refusal.message)
        if refusal.is_conflict:  # changed meanwhile, or busy: the session as it is now, and why
            return _appointment_page(request, _appointment(request, pk), status=409)
    else:
        sessions = ", ".join(str(session.session_number) for session in cancelled)
        plural = "s" if len(cancelled) > 1 else ""
        patient = appointment.series.patient.name
        messages.success(
            request, f"Session{plural} {sessions} for {patient} {'are' if plural else 'is'} cancelled."
        )
        for gap in selectors.series_gaps(appointment.series):
            messages.warning(request, gap.sentence)
    return redirect("staff:appointment", pk=appointment.pk)


@require_http_methods(["GET", "POST"])
@staff_only("bookings.change_appointment")
def appointment_move(request, pk):
    """Offer only the times the engine allows, in the session's spacing window, on the month
    calendar; a time that moves the following sessions too is confirmed first."""
    appointment = _appointment(request, pk)
    refusal = selectors.change_refusal(appointment=appointment, for_staff=True)
    if refusal:
        messages.error(request, refusal)
        return redirect("staff:appointment", pk=appointment.pk)
    month, query, practitioners = move_month(
        request.GET, appointment, for_staff=True, posted_key=request.POST.get("slot", "")
    )
    names = {**dict(practitioners), appointment.practitioner_id: appointment.practitioner.name}
    context = {
        "appointment": appointment,
        "patient": appointment.series.patient,
        "current_label": slot_label(selectors.as_slot(appointment), names),
        "cal": move_calendar_context(month, query, practitioners, later="the following sessions"),
        "seen": seen_field([appointment]),
    }
    if request.method == "GET":
        return render(request, "staff/move.html", context)
    seen = seen_posted(request.POST)
    if changed_since(seen, [appointment]):  # the patient or a colleague changed it meanwhile
        return render(request, "staff/move.html", {**context, "error": CHANGED}, status=409)
    new = offered_slot(month, request.POST.get("slot", ""))
    if new is None:
        return render(
            request,
            "staff/move.html",
            {**context, "error": "That time is no longer free. Please choose another."},
            status=400,
        )
    try:
        moves = selectors.reschedule_plan(appointment=appointment, new=new, for_staff=True)
        if len(moves) > 1 and request.POST.get("confirm") != plan_fingerprint(moves):
            all_names = practitioner_names(
                [slot for _, slot in moves] + [selectors.as_slot(a) for a, _ in moves]
            )
            return render(
                request,
                "staff/move_confirm.html",
                {
                    **context,
                    "slot": slot_key(new),
                    "fingerprint": plan_fingerprint(moves),
                    "seen": request.POST.get("seen", ""),  # what the first page showed
                    "changes": [
                        {
                            "number": moving.session_number,
                            "old": slot_label(selectors.as_slot(moving), all_names),
                            "new": slot_label(slot, all_names),
                        }
                        for moving, slot in moves
                    ],
                },
            )
        services.appointments_reschedule(moves=moves, by=request.user, for_staff=True, seen=seen)
    except BookingError as refusal:
        return render(request, "staff/move.html", {**context, "error": refusal.message}, status=409)
    moved = "; ".join(
        f"session {moving.session_number} to {slot_label(slot, practitioner_names([slot]))}"
        for moving, slot in moves
    )
    messages.success(request, f"Moved {moved}. The patient is e-mailed the new times.")
    return redirect("staff:appointment", pk=appointment.pk)


# --- Patients -------------------------------------------------------------------------------------------


def _patient(request, pk: int):
    return get_object_or_404(staff_selectors.visible_patients(request.user), pk=pk)


@require_GET
@staff_only("bookings.view_patient")
def patient_detail(request, pk):
    """Contact details, answers and consents, each series as a timeline with its e-mails and history.

    Health answers only with `view_questionnaire` (managers, and practitioners, who reach only the
    patients booked with them); the front desk sees the review flag and the consents, not the answers.
    """
    patient = _patient(request, pk)
    sees_answers = request.user.has_perm("bookings.view_questionnaire")
    series_list = list(
        patient.series.select_related("treatment", "eligibility_rules").prefetch_related(
            Prefetch(
                "appointments",
                Appointment.objects.select_related("practitioner").order_by("session_number", "created_at"),
            ),
            "questionnaires",
            Prefetch("audit_events", AuditEvent.objects.select_related("actor")),
        )
    )
    appointments = [appointment for series in series_list for appointment in series.appointments.all()]
    outbox: dict[int, list[OutboxMessage]] = {appointment.pk: [] for appointment in appointments}
    series_outbox: dict[int, list[OutboxMessage]] = {series.pk: [] for series in series_list}
    for message in OutboxMessage.objects.filter(series__in=series_list).order_by("due_at", "pk"):
        about = {message.appointment_id, *message.appointment_ids} & set(outbox)
        for appointment_id in about:
            outbox[appointment_id].append(message)
        if not about:  # the booking confirmation and other series-wide e-mails
            series_outbox[message.series_id].append(message)
    names = {appointment.practitioner_id: appointment.practitioner.name for appointment in appointments}
    names |= dict(Practitioner.objects.values_list("pk", "name"))
    timelines = []
    for series in series_list:
        events = audit_rows(series.audit_events.all(), names)
        questionnaire = next(iter(series.questionnaires.all()), None)  # the latest
        timelines.append(
            {
                "series": series,
                "questionnaire": questionnaire,
                "answers": [
                    {
                        "question": question.text,
                        "answer": questionnaire.answers.get(question.key),
                        "on": questionnaire.dates.get(question.key, ""),
                        "flagged": question.key in questionnaire.flagged,
                    }
                    for question in QUESTIONS
                ]
                if questionnaire and sees_answers
                else [],
                "messages": series_outbox[series.pk],
                "completed": sum(a.status == Appointment.Status.COMPLETED for a in series.appointments.all()),
                "missing": staff_selectors.missing_sessions(
                    series, {a.session_number: a for a in series.appointments.all() if a.is_active}
                ),
                "sessions": [
                    {
                        "appointment": appointment,
                        "messages": outbox[appointment.pk],
                        "events": [row for row in events if row["event"].appointment_id == appointment.pk],
                    }
                    for appointment in series.appointments.all()
                ],
            }
        )
    from staff.eligibility import patient_context  # staff builds on bookings: imported when used

    return render(request, "staff/patient.html", {
        "patient": patient, "timelines": timelines, "eligibility": patient_context(request.user, patient),
    })


# --- Booking by phone ------------------------------------------------------------------------------------


@require_GET
@staff_only("bookings.add_series")
def book_start(request, pk):
    """Step 1: the treatment and a week of free first-session times (staff: no notice or horizon)."""
    patient = _patient(request, pk)
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
    patient = _patient(request, pk)
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


# --- Practitioners' hours and time off (managers) ---------------------------------------------------------


@require_GET
@staff_only("bookings.change_workinghours")
def practitioner_list(request):
    return render(request, "staff/practitioners.html", {"practitioners": Practitioner.objects.all()})


@require_http_methods(["GET", "POST"])
@staff_only("bookings.change_workinghours")
def practitioner_hours(request, pk):
    """Edit the regular week and time off; availability reads them directly, so it changes at once."""
    if not request.user.has_perm("bookings.change_timeoff"):
        raise PermissionDenied
    practitioner = get_object_or_404(Practitioner, pk=pk)
    bound = request.POST if request.method == "POST" else None
    hours = WorkingHoursFormSet(bound, instance=practitioner, prefix="hours")
    time_off = TimeOffFormSet(
        bound,
        instance=practitioner,
        prefix="off",
        queryset=practitioner.time_off.filter(end__gt=timezone.now()),
    )
    if bound is not None and hours.is_valid() and time_off.is_valid():
        # Plain data, saved as the admin saves it; no booking moves because of it (see below).
        with transaction.atomic():
            formset_save(hours, by=request.user, at=timezone.now())
            formset_save(time_off, by=request.user, at=timezone.now())
        stranded = staff_selectors.stranded_appointments(practitioner=practitioner, now=timezone.now())
        messages.success(request, f"Saved {practitioner.name}'s hours and time off.")
        if stranded:
            messages.warning(
                request,
                f"{len(stranded)} booked session{'s' if len(stranded) != 1 else ''} now fall outside "
                f"{practitioner.name}'s hours or in time off: they are listed below to move or confirm.",
            )
        return redirect("staff:hours", pk=practitioner.pk)
    invalid = bool(bound is not None)
    return render(
        request,
        "staff/hours.html",
        {
            "practitioner": practitioner,
            "hours": hours,
            "time_off": time_off,
            "stranded": staff_selectors.stranded_appointments(practitioner=practitioner, now=timezone.now()),
        },
        status=400 if invalid else 200,
    )


# --- Sign-in locks (managers) ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_only("bookings.lift_signin_lock")
def signin_locks(request):
    """The usernames whose sign-in is paused after failed attempts; lift one (audited)."""
    form = SignInUnlockForm(request.POST or None)
    if form.is_valid():
        username = form.cleaned_data["username"]
        User = get_user_model()
        user = User.objects.filter(username__iexact=username).first() or User(username=username)
        with transaction.atomic():
            audit_record(
                action=AuditEvent.Action.SIGNIN_UNLOCKED,
                changes=[(user, {"username": username})],
                after={"username": username, "unlocked": True},
                by=request.user,
                default_actor=SYSTEM,
                at=timezone.now(),
            )
            was_paused = ratelimits.signin_unlock(username)
        state = "was paused and" if was_paused else "was not paused, and"
        messages.success(request, f"{username} {state} can sign in again.")
        return redirect("staff:signin_locks")
    return render(
        request,
        "staff/signin_locks.html",
        {"form": form, "locks": ratelimits.signin_locks()},
        status=400 if form.errors else 200,
    )
