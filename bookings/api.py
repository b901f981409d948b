"""
JSON API: free slots, and booking a whole series in one request.

    GET  /api/availability/?treatment=<slug>&start=YYYY-MM-DD&days=N[&practitioner=<id>]
    POST /api/series/   {"treatment", "first_start", "practitioner"?, "patient", "answers", "dates"?, "consent"}

"dates" gives the day a "yes" refers to ({"isotretinoin": "2026-09-30"}: the last dose). A first session
the answers do not allow yet is a 400 with code "not_eligible_yet", "earliest" and "reasons"; answers
that need a practitioner's decision are a 400 with code "call_us".

Errors are JSON: 400 {"errors": {field: [sentences]}} for bad input, 409 {"error", "code", "session",
"alternatives"} when a time is taken or a session cannot be placed, 413 for oversized bodies.
Field names in errors follow the request: "patient.email", "answers.pregnant". A refusal by the
booking rules carries its code (bookings/errors.py) next to the sentence; the code alone decides
400 (the request breaks a rule: "too_soon", "outside_rules", …) or 409 (the world moved: "taken",
"no_free_time", "busy", "changed").
"""

import json
from datetime import datetime, timedelta

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bookings import availability, selectors, services
from bookings.availability import Slot
from bookings.errors import BookingError, Code
from bookings.forms import AvailabilityQueryForm, SeriesRequestForm, answer_field_name, clinic_zone, date_field_name
from bookings.models import ClinicRules, Room, Series
from bookings.questionnaire import QUESTIONS, QUESTIONS_BY_KEY
from bookings.ratelimits import rate_limited
from bookings.tokens import manage_url

MAX_BODY_BYTES = 16 * 1024  # a booking is well under 1 KB; anything near this is not one
PATIENT_FIELDS = ("name", "email", "phone")


def slot_json(slot: Slot) -> dict:
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "practitioner": slot.practitioner_id,
    }


def _bad_request(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


def _conflict(refusal: BookingError, *, alternatives: list[Slot], session: int | None = None) -> JsonResponse:
    body = {
        "error": refusal.message,
        "code": refusal.code,
        "alternatives": [slot_json(slot) for slot in alternatives],
    }
    if session is not None:
        body["session"] = session
    response = JsonResponse(body, status=409)
    if refusal.code == Code.BUSY:
        response["Retry-After"] = "2"
    return response


def _refused(refusal: BookingError, *, field: str = "non_field_errors", session: int | None = None,
             alternatives: list[Slot] = ()) -> JsonResponse:
    """A refusal by the booking rules: 409 when the world moved, else 400 naming `field` (by code)."""
    if refusal.is_conflict:
        alternatives = alternatives or getattr(refusal, "alternatives", [])
        return _conflict(refusal, alternatives=list(alternatives), session=session)
    body = {"errors": {field: [refusal.message]}, "code": refusal.code}
    verdict = getattr(refusal, "verdict", None)  # eligibility: from when, and the engine's reasons
    if verdict is not None:
        body["earliest"] = verdict.earliest.isoformat() if verdict.earliest else None
        body["reasons"] = verdict.sentences
    return JsonResponse(body, status=400)


@require_GET
@rate_limited("api-availability", "AVAILABILITY_API_RATE", methods=("GET",), api=True)
def availability_list(request):
    """Free first-session slots over 1–31 days, in the clinic's zone."""
    form = AvailabilityQueryForm(request.GET)
    if not form.is_valid():
        return _bad_request({field: list(errors) for field, errors in form.errors.items()})
    slots = selectors.available_slots(
        treatment=form.cleaned_data["treatment"],
        start_date=form.cleaned_data["start"],
        days=form.cleaned_data["days"],
        practitioner=form.cleaned_data["practitioner"],
    )
    return JsonResponse({"timezone": settings.TIME_ZONE, "slots": [slot_json(slot) for slot in slots]})



# --- Booking -------------------------------------------------------------------------------------


def _flatten(payload: dict) -> tuple[dict, dict[str, list[str]]]:
    """The JSON body as the booking form's flat data, plus the type errors found on the way."""
    data: dict = {}
    errors: dict[str, list[str]] = {}
    for name in ("treatment", "first_start"):
        if name in payload and not isinstance(payload[name], str):
            errors[name] = ["Give this as a string."]
        elif name in payload:
            data[name] = payload[name]
    practitioner = payload.get("practitioner")
    if practitioner is not None:
        if isinstance(practitioner, bool) or not isinstance(practitioner, int):
            errors["practitioner"] = ["Give a practitioner id (a number)."]
        else:
            data["practitioner"] = practitioner
    _flatten_patient(payload.get("patient"), data, errors)
    _flatten_answers(payload.get("answers"), data, errors)
    _flatten_dates(payload.get("dates"), data, errors)
    consent = payload.get("consent")
    if consent is not True:
        errors["consent"] = ["The patient must consent to the treatment and to the privacy notice (true)."]
    data["consent_treatment"] = data["consent_privacy"] = consent is True
    return data, errors


def _flatten_patient(patient, data: dict, errors: dict) -> None:
    if patient is None:
        errors["patient"] = ["Give the patient's name, email and phone."]
        return
    if not isinstance(patient, dict):
        errors["patient"] = ["Give the patient as an object with name, email and phone."]
        return
    for name in PATIENT_FIELDS:
        value = patient.get(name)
        if value is not None and not isinstance(value, str):
            errors[f"patient.{name}"] = ["Give this as a string."]
        elif value is not None:
            data[name] = value


def _flatten_answers(answers, data: dict, errors: dict) -> None:
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        errors["answers"] = ["Give the answers as an object of question keys to true or false."]
        return
    unknown = sorted(set(answers) - set(QUESTIONS_BY_KEY))
    if unknown:
        errors["answers"] = [f"Unknown question: {key}." for key in unknown]
    for question in QUESTIONS:
        value = answers.get(question.key)
        if value is None:
            continue
        if isinstance(value, bool):
            data[answer_field_name(question.key)] = "yes" if value else "no"
        else:
            errors[f"answers.{question.key}"] = ["Answer true or false."]


def _flatten_dates(dates, data: dict, errors: dict) -> None:
    """`dates`: {question key: "YYYY-MM-DD"}, the day a "yes" refers to (last dose, expected healing)."""
    if dates is None:
        return
    if not isinstance(dates, dict):
        errors["dates"] = ["Give the dates as an object of question keys to YYYY-MM-DD."]
        return
    dated = {question.key for question in QUESTIONS if question.date_label}
    unknown = sorted(set(dates) - dated)
    if unknown:
        errors["dates"] = [f"No date is asked for with {key}." for key in unknown]
    for key in sorted(set(dates) & dated):
        if isinstance(dates[key], str):
            data[date_field_name(key)] = dates[key][:10]
        else:
            errors[f"dates.{key}"] = ["Give the date as YYYY-MM-DD."]


def _api_field(name: str) -> str:
    if name in PATIENT_FIELDS:
        return f"patient.{name}"
    if name.startswith("answer_"):
        return f"answers.{name.removeprefix('answer_')}"
    if name.startswith("date_"):
        return f"dates.{name.removeprefix('date_')}"
    if name in ("consent_treatment", "consent_privacy"):
        return "consent"
    return "non_field_errors" if name == "__all__" else name


def _form_errors(form: SeriesRequestForm, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    merged = dict(errors)
    for name, messages in form.errors.items():
        key = _api_field(name)
        if key.startswith("answers."):
            messages = ["Answer true or false."]  # the form's "yes or no" is for people
        if key not in merged:  # a type error already says more than "required"
            merged[key] = list(messages)
    return merged


def _body_too_large(request) -> bool:
    """Refused on the declared length before reading; on the actual length when none is declared."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    # Django itself stops reading at DATA_UPLOAD_MAX_MEMORY_SIZE (a 400) whatever is declared.
    return declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES


def first_slot(
    *, treatment, start: datetime, practitioner, schedule: availability.Schedule, now: datetime
) -> tuple[Slot, bool]:
    """(the free slot starting at `start`, True), or (a stand-in for the planner to explain, False).

    `schedule`: the series' diaries (selectors.series_schedule), which cover the first day.
    """
    local = start.astimezone(clinic_zone())
    free = selectors.free_between(
        schedule,
        first_day=local.date(),
        last_day=local.date(),
        now=now,
        for_staff=False,
        first_session=True,
        practitioner_id=practitioner.pk if practitioner else None,
    )
    matching = [slot for slot in free if slot.start == start]
    if matching:
        return matching[0], True
    performer = practitioner or treatment.practitioners.filter(is_active=True).order_by("pk").first()
    room = Room.objects.filter(treatments=treatment, is_active=True).order_by("pk").first()
    return Slot(
        local,
        availability.later(local, timedelta(minutes=treatment.session_minutes), clinic_zone()),
        performer.pk if performer else 0,
        room.pk if (room and treatment.requires_room) else None,
    ), False


def series_json(series: Series, slots: list[Slot]) -> dict:
    """The series just booked, its sessions in the order of `slots` (those it was booked with)."""
    return {
        "id": str(series.public_id),
        "treatment": series.treatment.slug,
        "status": series.status,
        "needs_review": series.needs_review,
        "manage_url": manage_url(series),
        # Set when booking changed the patient's details on record (the identity rule: services._patient_for).
        "details_note": selectors.details_note(series),
        "appointments": [
            {
                "session": number,
                "start": slot.start.astimezone(clinic_zone()).isoformat(),
                "end": slot.end.astimezone(clinic_zone()).isoformat(),
                "practitioner": slot.practitioner_id,
            }
            for number, slot in enumerate(sorted(slots), start=1)
        ],
    }


# The API authenticates nobody and reads no cookie, so a cross-site form cannot act with a
# patient's session: CSRF protection has nothing to protect here (every request stands alone).
@csrf_exempt
@require_POST
@rate_limited("api-booking", "API_BOOKING_RATE", methods=("POST",), api=True)
def series_create(request):
    """Plan a series from its first start and book it: 201, 400, 409 or 413."""
    if _body_too_large(request):
        errors = {"body": [f"The body is larger than {MAX_BODY_BYTES} bytes."]}
        return JsonResponse({"errors": errors}, status=413)
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return _bad_request({"body": ["Send a JSON object (Content-Type: application/json)."]})
    if not isinstance(payload, dict):
        return _bad_request({"body": ["Send a JSON object, not a list or a single value."]})
    data, type_errors = _flatten(payload)
    form = SeriesRequestForm(data)
    if not form.is_valid() or type_errors:
        return _bad_request(_form_errors(form, type_errors))
    treatment = form.cleaned_data["treatment"]
    start = form.cleaned_data["first_start"]
    now = timezone.now()
    if start <= now:
        return _bad_request({"first_start": ["That time is in the past."]})
    practitioner = form.cleaned_data["practitioner"]
    # The rules and the diaries are read once here and passed down to the plan and the booking.
    rules = ClinicRules.load()
    schedule = selectors.series_schedule(
        treatment=treatment, first_day=start.astimezone(clinic_zone()).date(), rules=rules
    )
    first, listed = first_slot(
        treatment=treatment, start=start, practitioner=practitioner, schedule=schedule, now=now
    )
    plan = selectors.series_plan(treatment=treatment, first=first, now=now, schedule=schedule)
    unplaced = next((session for session in plan.sessions if session.slot is None), None)
    if unplaced is None and not listed:
        # Within hours and free, but not a time the clinic offers (off the slot grid).
        return _bad_request({"first_start": ["Choose one of the start times /api/availability/ lists."]})
    if unplaced is not None:
        return _refused(
            BookingError(unplaced.problem),
            field="first_start" if unplaced.number == 1 else "non_field_errors",
            session=unplaced.number,
            alternatives=unplaced.alternatives,
        )
    try:
        series = services.series_book(
            treatment=treatment,
            patient=services.PatientDetails(**{name: form.cleaned_data[name] for name in PATIENT_FIELDS}),
            slots=plan.slots,
            answers=form.answers,
            dates=form.dates,
            consent_treatment=True,
            consent_privacy=True,
            now=now,
            rules=rules,
            schedule=schedule,
        )
    except BookingError as refusal:
        return _refused(refusal)
    body = series_json(series, plan.slots)
    response = JsonResponse({"series": body}, status=201)
    response["Location"] = body["manage_url"]
    return response
