"""Reads for the explainer pages: each page's treatment and everything it shows, in few queries."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from treatments.models import Treatment, TreatmentImage


def _images(*roles: str) -> Prefetch:
    shown = TreatmentImage.objects.filter(role__in=roles).prefetch_related("renditions")
    return Prefetch("images", queryset=shown)


def treatments_listed() -> QuerySet[Treatment]:
    fields = ["slug", "name", "summary", "also_known_as", "meta_description", "position"]
    return Treatment.objects.published().only(*fields)


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
