"""The clinic-wide history: every recorded change, filterable, in names (people, rooms), page by page."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bookings.models import AuditEvent, Practitioner, Room
from staff import selectors
from staff.display import audit_rows
from staff.forms import HistoryForm

PER_PAGE = 50
DETAILS = {"name": "Name", "email": "Email", "phone": "Phone"}


def _with_details(row: dict) -> dict:
    """A patient's changed details or merged records, in words (the appointment fields say nothing)."""
    event = row["event"]
    if event.action == AuditEvent.Action.PATIENT_CHANGED:
        row["changes"] = [
            (DETAILS[key], event.before[key], event.after.get(key)) for key in event.before if key in DETAILS
        ]
    elif event.action == AuditEvent.Action.PATIENTS_MERGED:
        before, after = event.before, event.after
        row["changes"] = [
            (
                "Record",
                f"{before.get('name')} (#{before.get('patient_id')})",
                f"{after.get('name')} (#{after.get('patient_id')})",
            )
        ]
    return row


@require_GET
@login_required
def history(request):
    """Managers: everyone's changes; practitioners: their own patients'; the front desk uses each
    appointment's own history (clinical matters such as review flags stay with those treating)."""
    if not selectors.may_see_history(request.user):
        raise PermissionDenied
    people = (
        get_user_model()
        .objects.filter(pk__in=AuditEvent.objects.values("actor_id"))
        .order_by("first_name", "last_name", "username")
    )
    form = HistoryForm(request.GET or None, people=people)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.history_events(
        user=request.user,
        actor=filters.get("person"),
        patient=filters.get("patient", ""),
        since=filters.get("since"),
        until=filters.get("until"),
        action=filters.get("kind", ""),
    )
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    names = dict(Practitioner.objects.values_list("pk", "name"))
    rooms = dict(Room.objects.values_list("pk", "name"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/history.html",
        {
            "form": form,
            "page": page,
            "rows": [_with_details(row) for row in audit_rows(page.object_list, names, rooms=rooms)],
            "query": query.urlencode(),
        },
        status=400 if form.errors else 200,
    )
