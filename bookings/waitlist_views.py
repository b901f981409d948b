"""Patient pages of the waitlist: ask for a sooner session (manage link), join as a new patient, and
claim an offer from its e-mail (GET shows it, only POST claims: link scanners never take a time)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bookings import selectors, waitlist_services
from bookings.errors import BookingError
from bookings.models import Offer, Practitioner, WaitlistEntry
from bookings.ratelimits import rate_limited
from bookings.tokens import manage_path, series_for_token
from bookings.views import _invalid_link, _treatment
from bookings.forms import DetailsForm
from bookings.waitlist_forms import NewPatientWaitForm, PreferencesForm


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_sooner(request, token, number):
    """Ask for a sooner time for one session, with the days and times that suit."""
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request, token)
    appointment = selectors.live_sessions(series).get(number)
    if appointment is None:
        messages.error(request, f"Session {number} has no booked time to bring forward.")
        return redirect("bookings:manage", token=token)
    entry = waitlist_services.live_entries(series).get(number)
    initial = {"weekdays": entry.weekdays, "parts": _parts_of(entry)} if entry else {}
    form = PreferencesForm(request.POST or None, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            waitlist_services.entry_join(
                series=series, number=number, weekdays=form.cleaned_data["weekdays"], parts=form.cleaned_data["parts"]
            )
        except BookingError as refusal:
            error = refusal.message
        else:
            messages.success(
                request,
                f"You are on the waitlist for a sooner session {number}. If a time that suits you comes free, we "
                "e-mail you and hold it for you for a while; your session stays as it is until you take it.",
            )
            return redirect("bookings:manage", token=token)
    return render(request, "bookings/manage_sooner.html", {
        "series": series, "token": token, "number": number, "appointment": appointment, "form": form,
        "entry": entry, "error": error, "hold_minutes": waitlist_services.hold_duration().seconds // 60,
    }, status=400 if error or form.errors else 200)


def _parts_of(entry: WaitlistEntry) -> list[str]:
    return [key for key, (_, lo, hi) in waitlist_services.DAY_PARTS.items() if [f"{lo:%H:%M}", f"{hi:%H:%M}"] in entry.times]


@require_POST
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def manage_sooner_withdraw(request, token, number):
    series = series_for_token(token)
    if series is None:
        return _invalid_link(request, token)
    entry = waitlist_services.live_entries(series).get(number)
    if entry is not None:
        waitlist_services.entry_withdraw(entry=entry)
        messages.success(request, f"Done: session {number} is off the waitlist and stays where it is.")
    return redirect("bookings:manage", token=token)


@require_http_methods(["GET", "POST"])
@rate_limited("booking", "BOOKING_POST_RATE", methods=("POST",))
def waitlist_join(request, slug):
    """A new patient for whom no first-session time suits: name, contact, and what would suit."""
    treatment = _treatment(slug)
    form = NewPatientWaitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        waitlist_services.entry_join_new(
            treatment=treatment, name=data["name"], email=data["email"], phone=data["phone"],
            weekdays=data["weekdays"], parts=data["parts"],
        )
        return render(request, "bookings/waitlist_joined.html", {"treatment": treatment, "email": data["email"]})
    return render(request, "bookings/waitlist_join.html", {"treatment": treatment, "form": form},
                  status=400 if form.errors else 200)


def _offer_context(offer: Offer) -> dict:
    names = dict(Practitioner.objects.filter(
        pk__in=[item["practitioner_id"] for item in offer.proposed]).values_list("pk", "name"))
    current = selectors.live_sessions(offer.series)
    return {
        "offer": offer,
        "series": offer.series,
        "treatment": offer.series.treatment,
        "offered": [
            {"number": number, "start": start, "end": end, "practitioner": names.get(pid, ""),
             "current": current.get(number)}
            for number, start, end, pid in waitlist_services.proposed_slots(offer)
        ],
        "manage_path": manage_path(offer.series),
    }


@require_http_methods(["GET", "POST"])
@rate_limited("manage-link", "MANAGE_LINK_RATE")
def offer(request, token):
    """The offer from the e-mail: GET shows it with one button, POST takes the time."""
    offer = get_object_or_404(Offer.objects.select_related("series__treatment", "series__patient", "entry"),
                              token=token)
    context = _offer_context(offer)
    new_patient = None
    if waitlist_services.is_new_patient(offer):
        # A new patient answers the safety questions and gives the consents here, as on step 3.
        entry = offer.entry
        contact = {"name": entry.name, "email": entry.email, "phone": entry.phone}
        data = {**request.POST.dict(), **contact} if request.method == "POST" else None
        form = DetailsForm(data, initial=contact, treatment=offer.series.treatment)
        context["form"], context["answer_fields"] = form, [form[name] for name in form.answer_fields]
        if request.method == "POST":
            if not form.is_valid():
                return render(request, "bookings/offer.html", context, status=400)
            new_patient = waitlist_services.NewPatientAnswers(
                form.answers, form.cleaned_data["consent_treatment"], form.cleaned_data["consent_privacy"]
            )
    if request.method == "POST":
        try:
            waitlist_services.offer_claim(offer=offer, new_patient=new_patient)
        except BookingError as refusal:
            offer.refresh_from_db()
            return render(request, "bookings/offer.html", {**context, "offer": offer, "error": refusal.message},
                          status=409)
        messages.success(request, "Done: the sooner time is yours. We have e-mailed you the new times.")
        return redirect(manage_path(offer.series))
    refusal = waitlist_services.offer_refusal(offer, now=timezone.now())
    return render(request, "bookings/offer.html", {**context, "refusal": refusal.message if refusal else ""})


