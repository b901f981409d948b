"""schema.org JSON-LD for the explainer pages, built as plain dicts (rendered by the json_ld tag)."""

from datetime import time

from django.conf import settings

from treatments.models import Treatment

CONTEXT = "https://schema.org"
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def medical_procedure(treatment: Treatment, *, steps=()) -> dict:
    procedure = {
        "@type": "MedicalProcedure",
        "name": treatment.name,
        "description": treatment.description,
        # Each treatment says how it reaches the tissue (percutaneous for needles, else non-invasive).
        "procedureType": f"{CONTEXT}/{treatment.procedure_type}",
    }
    if treatment.also_known_as:
        procedure["alternateName"] = treatment.also_known_as
    if steps:
        procedure["howPerformed"] = " ".join(f"{step.title}: {step.body}" for step in steps)
    return procedure


def medical_web_page(treatment: Treatment, *, url: str, name: str, steps=()) -> dict:
    return {
        "@context": CONTEXT,
        "@type": "MedicalWebPage",
        "name": name,
        "url": url,
        "description": treatment.description,
        "dateModified": treatment.updated_at.isoformat(),
        "about": medical_procedure(treatment, steps=steps),
    }


def faq_page(treatment: Treatment, *, url: str) -> dict:
    """An FAQPage whose questions and answers are exactly the treatment's FAQ items, in order."""
    return {
        "@context": CONTEXT,
        "@type": "FAQPage",
        "url": url,
        "about": medical_procedure(treatment),
        "mainEntity": [
            {
                "@type": "Question",
                "name": item.question,
                "acceptedAnswer": {"@type": "Answer", "text": item.answer},
            }
            for item in treatment.faqs.all()
        ],
    }


def postal_address() -> dict:
    """The clinic's address in parts (settings CLINIC_STREET, _LOCALITY, _POSTCODE, _COUNTRY)."""
    parts = {
        "streetAddress": settings.CLINIC_STREET,
        "addressLocality": settings.CLINIC_LOCALITY,
        "postalCode": settings.CLINIC_POSTCODE,
        "addressCountry": settings.CLINIC_COUNTRY,
    }
    return {"@type": "PostalAddress", **{key: value for key, value in parts.items() if value}}


def opening_hours_specification(hours: dict[int, list[tuple[time, time]]]) -> list[dict]:
    """One OpeningHoursSpecification per distinct opening period, listing the days it applies to.

    `hours` maps a weekday (Monday = 0) to its open periods, as treatments.selectors.opening_hours gives.
    """
    days_by_period: dict[tuple[time, time], list[str]] = {}
    for weekday in sorted(hours):
        for period in hours[weekday]:
            days_by_period.setdefault(period, []).append(DAY_NAMES[weekday])
    # In week order: by the first day a period applies to, then by when it opens.
    ordered = sorted(days_by_period.items(), key=lambda item: (DAY_NAMES.index(item[1][0]), item[0]))
    return [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": days,
            "opens": f"{opens:%H:%M}",
            "closes": f"{closes:%H:%M}",
        }
        for (opens, closes), days in ordered
    ]


def medical_clinic(*, url: str, treatments, hours: dict[int, list[tuple[time, time]]]) -> dict:
    """The clinic itself, for the home page: address, opening hours and the procedures it offers."""
    clinic = {
        "@context": CONTEXT,
        "@type": "MedicalClinic",
        "name": settings.CLINIC_NAME,
        "url": url,
        "telephone": settings.CLINIC_PHONE,
        "email": settings.CLINIC_EMAIL,
        "address": postal_address(),
        "availableService": [medical_procedure(treatment) for treatment in treatments],
    }
    if hours:
        clinic["openingHoursSpecification"] = opening_hours_specification(hours)
    return clinic
