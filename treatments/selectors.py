"""Reads for the explainer pages: each page's treatment and everything it shows, in few queries."""

from datetime import time

from django.apps import apps
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from treatments.models import Treatment, TreatmentImage


def _images(*roles: str) -> Prefetch:
    shown = TreatmentImage.objects.filter(role__in=roles).prefetch_related("renditions")
    return Prefetch("images", queryset=shown)


def treatments_listed() -> QuerySet[Treatment]:
    fields = [
        "slug", "name", "summary", "also_known_as", "meta_description", "position", "procedure_type",
        "sessions_in_series", "price_per_session", "price_per_series", "benefits_illustration",
    ]
    return Treatment.objects.published().only(*fields)


def opening_hours() -> dict[int, list[tuple[time, time]]]:
    """When the clinic is open, per weekday (Monday = 0): the union of the working hours of active
    practitioners who perform a published treatment, as merged (start, end) periods. One query."""
    working_hours = apps.get_model("bookings", "WorkingHours")  # bookings builds on treatments
    rows = (
        working_hours.objects.filter(
            practitioner__is_active=True, practitioner__treatments__is_published=True
        )
        .values_list("weekday", "start", "end")
        .distinct()
        .order_by("weekday", "start")
    )
    merged: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in rows:
        periods = merged.setdefault(weekday, [])
        if periods and start <= periods[-1][1]:
            periods[-1] = (periods[-1][0], max(end, periods[-1][1]))
        else:
            periods.append((start, end))
    return merged


def treatment_overview(*, slug: str) -> Treatment:
    """Treatment, benefits, hero and benefit images with renditions: four queries."""
    queryset = Treatment.objects.published().prefetch_related(
        "benefits", _images(TreatmentImage.Role.HERO, TreatmentImage.Role.BENEFITS)
    )
    return get_object_or_404(queryset, slug=slug)


def treatment_how_it_works(*, slug: str) -> Treatment:
    """Treatment, steps, how-it-works images with renditions: four queries."""
    queryset = Treatment.objects.published().prefetch_related("steps", _images(TreatmentImage.Role.HOW))
    return get_object_or_404(queryset, slug=slug)


def treatment_faq(*, slug: str) -> Treatment:
    """Treatment and its questions: two queries."""
    return get_object_or_404(Treatment.objects.published().prefetch_related("faqs"), slug=slug)


def with_bookability(queryset: QuerySet[Treatment]) -> QuerySet[Treatment]:
    """Annotate what online booking needs: an active practitioner who performs it, working hours for one
    of them, and (when it needs one) an active room linked to it. Three EXISTS, no extra query."""
    practitioner = apps.get_model("bookings", "Practitioner")
    room = apps.get_model("bookings", "Room")
    working_hours = apps.get_model("bookings", "WorkingHours")
    performers = {"is_active": True, "treatments": OuterRef("pk")}
    rooms = room.objects.filter(is_active=True, treatments=OuterRef("pk"))
    return queryset.annotate(
        has_practitioner=Exists(practitioner.objects.filter(**performers)),
        has_hours=Exists(working_hours.objects.filter(
            practitioner__is_active=True, practitioner__treatments=OuterRef("pk")
        )),
        has_room=ExpressionWrapper(
            Q(requires_room=False) | Q(Exists(rooms)),
            output_field=BooleanField(),
        ),
    )


def unbookable_reasons(treatment: Treatment) -> list[str]:
    """Why patients cannot book `treatment` online (annotated by with_bookability), or []."""
    reasons = []
    if not treatment.has_practitioner:
        reasons.append("no active practitioner performs it")
    elif not treatment.has_hours:
        reasons.append("none of its practitioners has working hours")
    if not treatment.has_room:
        reasons.append("it needs a room and no active room is linked to it")
    return reasons
