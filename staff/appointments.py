"""
One appointment: its page (actions, e-mails, history), check in / complete / no-show / undo / clear
review, cancel, and move. Thin views: forms validate, the booking services write (with
`for_staff=True` and `by=request.user`, so the audit trail names the person), selectors read.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import selectors, services
from bookings.availability import Slot
from bookings.calendar_page import move_calendar_context, move_month, offered_slot
from bookings.changes import changed_since, plan_fingerprint, seen_field, seen_posted
from bookings.errors import CHANGED, BookingError
from bookings.forms import clinic_zone, day_label, parse_slot_key, practitioner_names, slot_key, slot_label
from bookings.models import Appointment, Practitioner
from staff.access import staff_only, visible_appointments
from staff.display import audit_rows, messages_for
from staff.forms import CancelForm


# --- One appointment -----------------------------------------------------------------------------------


def _appointment(request, pk: int) -> Appointment:
    appointments = visible_appointments(request.user).select_related(
        "series__patient", "series__treatment", "practitioner", "room"
    )
    return get_object_or_404(appointments, pk=pk)


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


DROP_REFUSED = (
    "This session cannot move to the time it was dropped on: that time is taken, outside the "
    "practitioner's hours, outside the series' spacing, or the practitioner does not give this "
    "treatment. The times it can move to that day are below."
)


def _diary_target(query, appointment: Appointment) -> str | None:
    """The slot key of a diary drop (?day=YYYY-MM-DD&time=HH:MM&practitioner=ID, clinic time), or
    None when the query names no drop; "" when it names one badly."""
    if "time" not in query:
        return None
    try:
        day = date.fromisoformat(query.get("day", ""))
        clock = datetime.strptime(query.get("time", ""), "%H:%M").time()
        practitioner_id = int(query.get("practitioner") or appointment.practitioner_id)
    except ValueError:
        return ""
    start = datetime.combine(day, clock, tzinfo=clinic_zone())
    key = slot_key(Slot(start, start, practitioner_id))
    return key if parse_slot_key(key) else ""  # too far off, or no such id


def _move_confirm(request, context: dict, appointment: Appointment, moves, new, *, seen: str, back: str):
    """The change to confirm: the moved session, then every later one (fits, or where it goes)."""
    all_names = practitioner_names([slot for _, slot in moves] + [selectors.as_slot(a) for a, _ in moves])
    later = selectors.later_sessions(appointment=appointment, moves=moves)
    all_names.update(practitioner_names([row.now for row in later]))
    return render(
        request,
        "staff/move_confirm.html",
        {
            **context,
            "slot": slot_key(new),
            "fingerprint": plan_fingerprint(moves),
            "seen": seen,
            "next": back,
            "new_label": slot_label(new, all_names),
            "moves_count": len(moves),
            "later": [
                {
                    "number": row.number,
                    "now": slot_label(row.now, all_names),
                    "new": slot_label(row.new, all_names) if row.new else "",
                    "fits": row.fits,
                    "after": row.previous_number,
                    "window": f"{day_label(row.window[0])} – {day_label(row.window[1])}",
                }
                for row in later
            ],
        },
    )


@require_http_methods(["GET", "POST"])
@staff_only("bookings.change_appointment")
def appointment_move(request, pk):
    """Offer only the times the engine allows, in the session's spacing window, on the month
    calendar; a time that moves the following sessions too is confirmed first.

    A block dropped in the diary arrives as ?day=&time=&practitioner=&seen=: that move is always
    confirmed first, on a page listing the series' later sessions (do they still fit, what moves).
    """
    appointment = _appointment(request, pk)
    refusal = selectors.change_refusal(appointment=appointment, for_staff=True)
    if refusal:
        messages.error(request, refusal)
        return redirect("staff:appointment", pk=appointment.pk)
    dropped = _diary_target(request.GET, appointment) if request.method == "GET" else None
    month, query, practitioners = move_month(
        request.GET, appointment, for_staff=True, posted_key=request.POST.get("slot", "") or dropped or ""
    )
    names = {**dict(practitioners), appointment.practitioner_id: appointment.practitioner.name}
    context = {
        "appointment": appointment,
        "patient": appointment.series.patient,
        "current_label": slot_label(selectors.as_slot(appointment), names),
        "cal": move_calendar_context(month, query, practitioners, later="the following sessions"),
        "seen": seen_field([appointment]),
    }
    if request.method == "GET" and dropped is None:
        return render(request, "staff/move.html", context)
    data = request.GET if request.method == "GET" else request.POST
    seen = seen_posted(data)
    if changed_since(seen, [appointment]):  # the patient or a colleague changed it meanwhile
        return render(request, "staff/move.html", {**context, "error": CHANGED}, status=409)
    new = offered_slot(month, dropped if request.method == "GET" else request.POST.get("slot", ""))
    if new is None:
        if dropped == "":
            error = "The time to move to could not be read. Please choose one below."
        else:
            error = DROP_REFUSED if dropped else "That time is no longer free. Please choose another."
        return render(request, "staff/move.html", {**context, "error": error}, status=400)
    try:
        moves = selectors.reschedule_plan(appointment=appointment, new=new, for_staff=True)
        if request.method == "GET":
            back = reverse("staff:day") + f"?date={new.start.astimezone(clinic_zone()):%Y-%m-%d}"
            if request.GET.get("by") == "room":
                back += "&by=room"
            shown = seen_field(selectors.live_sessions(appointment.series).values())
            return _move_confirm(request, context, appointment, moves, new, seen=shown, back=back)
        if len(moves) > 1 and request.POST.get("confirm") != plan_fingerprint(moves):
            return _move_confirm(
                request, context, appointment, moves, new,
                seen=request.POST.get("seen", ""),  # what the first page showed
                back=request.POST.get("next", ""),
            )  # fmt: skip
        services.appointments_reschedule(moves=moves, by=request.user, for_staff=True, seen=seen)
    except BookingError as refusal:
        return render(request, "staff/move.html", {**context, "error": refusal.message}, status=409)
    moved = "; ".join(
        f"session {moving.session_number} to {slot_label(slot, practitioner_names([slot]))}"
        for moving, slot in moves
    )
    messages.success(request, f"Moved {moved}. The patient is e-mailed the new times.")
    return _back(request, appointment)
