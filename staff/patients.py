"""Patient records: search with next appointments, one patient's page (series as timelines), register
(warning of duplicates), correct, merge."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bookings import services
from bookings.errors import BookingError, PatientExists
from bookings.forms import slot_label
from bookings.models import Appointment, AuditEvent, OutboxMessage, Patient, Practitioner
from bookings.questionnaire import QUESTIONS
from staff import eligibility, selectors
from staff.access import patient_or_404, staff_only, visible_patients
from staff.booking import after_registration, picked_slot
from staff.display import audit_rows
from staff.forms import MergeForm, PatientForm, PatientSearchForm, PickedTimeForm


@require_GET
@staff_only("bookings.view_patient")
def patient_list(request):
    """Search by name, e-mail or phone; each result with their next appointment and series progress."""
    # Bound once searched: arriving from a free time in the diary (?practitioner=&date=&time=) is no error.
    form = PatientSearchForm(request.GET if "q" in request.GET else None)
    rows = None
    if form.is_valid():
        found = selectors.patient_search(user=request.user, query=form.cleaned_data["q"])
        rows = selectors.search_rows(found, now=timezone.now())
    picked = _picked_label(PickedTimeForm(request.GET)) if "time" in request.GET else ""
    return render(
        request,
        "staff/patients.html",
        {"form": form, "rows": rows, "picked_label": picked},
        status=400 if form.errors else 200,
    )


def _details_page(request, form, *, template: str, duplicates, status: int, patient=None):
    return render(
        request,
        template,
        {"form": form, "duplicates": duplicates, "patient": patient},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_only("bookings.add_patient")
def patient_create(request):
    """Register a caller; the same e-mail or phone already on file is shown first, to open or to proceed.

    The same name and e-mail is the same person (the identity rule): the service refuses that with
    the record to open, proceeding or not. A treatment chosen here goes on to its booking: the series
    planned from the free time picked in the diary (carried in hidden fields), else its free times.
    """
    form = PatientForm(request.POST or None)
    booking_next = PickedTimeForm(request.POST if request.method == "POST" else request.GET)
    duplicates, context = [], {}
    if form.is_valid() and booking_next.is_valid():
        details = services.PatientDetails(
            **{name: form.cleaned_data[name] for name in ("name", "email", "phone")}
        )
        duplicates = selectors.possible_duplicates(email=details.email, phone=details.phone)
        if not duplicates or request.POST.get("proceed") == "yes" or _same_person(details, duplicates):
            try:
                patient = services.patient_create(details=details, by=request.user)
            except PatientExists as refusal:
                duplicates, context = [], {"existing": refusal.existing, "refusal": refusal.message}
            else:
                messages.success(request, f"{patient.name} is registered.")
                treatment = booking_next.cleaned_data["treatment"]
                onward = after_registration(request, patient, treatment=treatment, picked=booking_next.picked)
                return redirect(onward or reverse("staff:patient", kwargs={"pk": patient.pk}))
    invalid = form.errors or booking_next.errors
    status = 409 if duplicates or context else 400 if invalid else 200
    return render(
        request,
        "staff/patient_new.html",
        {
            "form": form,
            "booking_next": booking_next,
            "picked": _picked_label(booking_next),
            "duplicates": duplicates,
            **context,
        },
        status=status,
    )


def _picked_label(form: PickedTimeForm) -> str:
    """'Tuesday 9 March, 14:00 with Dr Ana Silva': the diary's free time this registration books."""
    if not form.picked:
        return ""
    practitioner = form.picked[0]
    return slot_label(picked_slot(form.picked), {practitioner.pk: practitioner.name})


def _same_person(details: services.PatientDetails, patients: list[Patient]) -> bool:
    name, email = " ".join(details.name.split()).casefold(), details.email.strip().casefold()
    return any(p.name.casefold() == name and p.email.casefold() == email for p in patients)


@require_http_methods(["GET", "POST"])
@staff_only("bookings.change_patient")
def patient_edit(request, pk):
    """Correct a patient's name, e-mail or phone (through the service, which records the change)."""
    patient = patient_or_404(request, pk)
    initial = {"name": patient.name, "email": patient.email, "phone": patient.phone}
    form = PatientForm(request.POST or None, initial=initial)
    duplicates = []
    if form.is_valid():
        details = {name: form.cleaned_data[name] for name in initial}
        duplicates = selectors.possible_duplicates(
            email=details["email"], phone=details["phone"], exclude=patient.pk
        )
        unchanged_contact = (details["email"], details["phone"]) == (patient.email, patient.phone)
        if not duplicates or unchanged_contact or request.POST.get("proceed") == "yes":
            services.patient_update(
                patient=patient, details=services.PatientDetails(**details), by=request.user
            )
            messages.success(request, f"Saved {details['name']}'s contact details.")
            return redirect("staff:patient", pk=patient.pk)
    status = 409 if duplicates else 400 if form.errors else 200
    return _details_page(
        request,
        form,
        template="staff/patient_edit.html",
        duplicates=duplicates,
        status=status,
        patient=patient,
    )


@require_http_methods(["GET", "POST"])
@staff_only("bookings.delete_patient")
def patient_merge(request, pk):
    """A manager folds a duplicate record into this one: its series move here, it is deleted, both audited."""
    patient = patient_or_404(request, pk)
    suggested = selectors.possible_duplicates(email=patient.email, phone=patient.phone, exclude=patient.pk)
    chosen = request.GET.get("duplicate") if request.method == "GET" else None
    form = MergeForm(
        request.POST or None,
        initial={"duplicate": chosen or (suggested[0].pk if suggested else None)},
        candidates=visible_patients(request.user).exclude(pk=patient.pk),
    )
    if form.is_valid():
        duplicate = form.cleaned_data["duplicate"]
        try:
            services.patients_merge(keep=patient, merge=duplicate, by=request.user)
        except BookingError as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"Merged {duplicate.name} (#{duplicate.pk}) into {patient.name}.")
            return redirect("staff:patient", pk=patient.pk)
    status = (409 if form.non_field_errors() else 400) if form.errors else 200
    return render(
        request,
        "staff/patient_merge.html",
        {"patient": patient, "form": form, "suggested": suggested},
        status=status,
    )


@require_GET
@staff_only("bookings.view_patient")
def patient_detail(request, pk):
    """Contact details, answers and consents, each series as a timeline with its e-mails and history.

    Health answers only with `view_questionnaire` (managers, and practitioners, who reach only the
    patients booked with them); the front desk sees the review flag and the consents, not the answers.
    """
    patient = patient_or_404(request, pk)
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
                "missing": selectors.missing_sessions(
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
    return render(request, "staff/patient.html", {
        "patient": patient, "timelines": timelines, "eligibility": eligibility.patient_context(request.user, patient),
    })
