"""The worklist the front desk opens each morning, and sending a failed e-mail again from it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bookings import services
from bookings.errors import BookingError
from bookings.models import OutboxMessage
from staff.access import staff_only
from staff import selectors

# The front desk and managers (both see every diary); a practitioner's work is their own diary.
WORKLIST_PERMISSION = "bookings.view_all_diaries"


@require_GET
@staff_only(WORKLIST_PERMISSION)
def worklist(request):
    """Windows closing with no next session, reviews coming up, failed e-mails, answers to re-confirm."""
    return render(request, "staff/worklist.html", {"work": selectors.worklist(now=timezone.now())})


@require_POST
@staff_only(WORKLIST_PERMISSION)
def message_resend(request, pk):
    """One click: the failed e-mail goes again now (pending, attempts reset, handed to a worker)."""
    message = get_object_or_404(OutboxMessage.objects.select_related("series__patient"), pk=pk)
    try:
        services.message_resend(message=message)
    except BookingError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request, f"“{message.get_kind_display()}” to {message.series.patient.name} is being sent again."
        )
    return redirect("staff:worklist")
