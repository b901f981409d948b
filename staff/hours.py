"""Practitioners' regular hours and time off (managers); bookings they no longer cover, to move or confirm."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bookings.audit import formset_save
from bookings.models import Practitioner
from bookings.selectors import stranded_appointments
from staff.access import staff_only
from staff.forms import TimeOffFormSet, WorkingHoursFormSet


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
        stranded = stranded_appointments(practitioner=practitioner, now=timezone.now())
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
            "stranded": stranded_appointments(practitioner=practitioner, now=timezone.now()),
        },
        status=400 if invalid else 200,
    )

