"""The waitlist at the front desk: who waits, which offers are open, and offering a time by hand.

Reads for the worklist (`board`, a fixed number of queries) and two pages over the same services
the patients' side uses (bookings/waitlist_services.py): offer a time to one waiting patient (the
matcher checks it against the whole series, under staff rules), release an open offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from bookings import selectors, waitlist_services
from bookings.errors import BookingError
from bookings.models import Appointment, Offer, Practitioner, WaitlistEntry
from staff.access import staff_only

OFFER_PERMISSION = "bookings.add_series"  # who books sessions at the desk may offer times


@dataclass
class WaitingRow:
    entry: WaitlistEntry
    current: Appointment | None  # the session's booked time (None: a new patient's first session)
    preferences: str


@dataclass
class Board:
    waiting: list[WaitingRow]
    offers: list[Offer]


def board(*, now: datetime) -> Board:
    """Waiting entries, first come first, with their session's current time; open offers, soonest expiry first.

    Four queries: the entries, their booked sessions, the open offers and their holds.
    """
    entries = list(
        WaitlistEntry.objects.waiting().select_related("series__patient", "treatment").order_by("created_at", "pk")
    )
    booked = Appointment.objects.filter(
        series_id__in=[entry.series_id for entry in entries if entry.series_id], status=Appointment.Status.BOOKED
    ).select_related("practitioner")
    current = {(a.series_id, a.session_number): a for a in booked}
    offers = list(
        Offer.objects.filter(status=Offer.Status.OPEN)
        .select_related("entry", "series__patient", "series__treatment", "created_by")
        .prefetch_related("holds")
        .order_by("expires_at")
    )
    return Board(
        waiting=[
            WaitingRow(entry, None if entry.is_new_patient else current.get((entry.series_id, entry.session_number)),
                       waitlist_services.preferences_sentence(entry))
            for entry in entries
        ],
        offers=offers,
    )


class OfferForm(forms.Form):
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time"}))
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.none(), label="Practitioner")

    def __init__(self, *args, treatment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = Practitioner.objects.performing(treatment)


@require_http_methods(["GET", "POST"])
@staff_only(OFFER_PERMISSION)
def offer_by_hand(request, pk):
    """Offer one waiting patient a time: held for them, e-mailed, claimed like any offer."""
    entry = get_object_or_404(WaitlistEntry.objects.select_related("series__patient", "treatment"), pk=pk)
    form = OfferForm(request.POST or None, treatment=entry.treatment)
    context = {"entry": entry, "form": form, "preferences": waitlist_services.preferences_sentence(entry),
               "current": None if entry.is_new_patient else selectors.live_sessions(entry.series).get(entry.session_number)}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start = datetime.combine(data["day"], data["start"], tzinfo=selectors.clinic_zone())
        try:
            offer = waitlist_services.offer_make(entry=entry, start=start, practitioner=data["practitioner"],
                                                 by=request.user)
        except BookingError as refusal:
            context["error"] = refusal.message
            return render(request, "staff/waitlist_offer.html", context, status=409)
        until = offer.expires_at.astimezone(selectors.clinic_zone())
        messages.success(request, f"Offered to {entry.patient_name} and held until {until:%H:%M}; "
                                  "they have been e-mailed a link to take it.")
        return redirect("staff:worklist")
    status = 400 if form.errors else 200
    return render(request, "staff/waitlist_offer.html", context, status=status)


@require_POST
@staff_only(OFFER_PERMISSION)
def offer_release(request, pk):
    """Withdraw an open offer: the holds go, the time goes to the next waiting patient."""
    offer = get_object_or_404(Offer.objects.select_related("entry"), pk=pk)
    if waitlist_services.offer_release(offer=offer, status=Offer.Status.RELEASED):
        messages.success(request, f"The offer to {offer.entry.patient_name} was withdrawn; the time is free again.")
    else:
        messages.error(request, "This offer was already taken, expired or withdrawn.")
    return redirect("staff:worklist")
