"""Repairing a series: book a missing session (cancelled or missed) again inside its spacing window."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from bookings import selectors, services
from bookings.errors import BookingError, SlotTaken
from bookings.forms import practitioner_names, slot_days, slot_key, slot_label
from bookings.models import Series
from staff.access import staff_only, visible_patients


@require_http_methods(["GET", "POST"])
@staff_only("bookings.add_series")
def session_rebook(request, pk, number):
    """The free times session `number` may take beside its neighbours (the engine's window); books one."""
    series = get_object_or_404(
        Series.objects.select_related("patient", "treatment").filter(
            patient__in=visible_patients(request.user)
        ),
        pk=pk,
    )
    refusal = selectors.rebook_refusal(series=series, number=number)
    context = {"series": series, "patient": series.patient, "number": number, "refusal": refusal}
    if refusal:
        no_such_session = not 1 <= number <= series.treatment.sessions_in_series
        status = 404 if no_such_session else 409 if request.method == "POST" else 200
        return render(request, "staff/rebook.html", context, status=status)
    options = selectors.window_slots(series=series, number=number, for_staff=True)
    names = practitioner_names(options)
    context["days"] = slot_days(options, names)
    if request.method == "GET":
        return render(request, "staff/rebook.html", context)
    slot = {slot_key(option): option for option in options}.get(request.POST.get("slot", ""))
    if slot is None:
        context["error"] = "That time is no longer free (or was never offered). Please choose another."
        return render(request, "staff/rebook.html", context, status=400)
    try:
        services.session_rebook(series=series, number=number, slot=slot, by=request.user, for_staff=True)
    except SlotTaken as taken:
        context["error"] = taken.message
        context["days"] = slot_days(taken.alternatives, practitioner_names(taken.alternatives))
        return render(request, "staff/rebook.html", context, status=409)
    except BookingError as refusal_:
        context["error"] = refusal_.message
        return render(request, "staff/rebook.html", context, status=409)
    messages.success(
        request, f"Booked session {number} for {series.patient.name}: {slot_label(slot, names)}."
    )
    return redirect("staff:patient", pk=series.patient.pk)
