"""schema.org JSON-LD for the explainer pages, built as plain dicts (rendered by the json_ld tag)."""

from django.conf import settings

from treatments.models import Treatment

CONTEXT = "https://schema.org"


def medical_procedure(treatment: Treatment, *, steps=()) -> dict:
    procedure = {
        "@type": "MedicalProcedure",
        "name": treatment.name,
        "description": treatment.description,
        # Fine needles reach the tissue through the skin: schema.org's "percutaneous" procedure.
        "procedureType": f"{CONTEXT}/PercutaneousProcedure",
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


def medical_clinic(*, url: str, treatments) -> dict:
    """The clinic itself, for the home page, with the procedures it offers."""
    return {
        "@context": CONTEXT,
        "@type": "MedicalClinic",
        "name": settings.CLINIC_NAME,
        "url": url,
        "telephone": settings.CLINIC_PHONE,
        "email": settings.CLINIC_EMAIL,
        "address": settings.CLINIC_ADDRESS,
        "availableService": [medical_procedure(treatment) for treatment in treatments],
    }
