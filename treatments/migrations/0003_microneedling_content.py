"""The microneedling explainer that ships with the site (staff edit it in the admin afterwards)."""

from django.db import migrations

SLUG = "microneedling"

TREATMENT = {
    "name": "Microneedling",
    "also_known_as": "collagen induction therapy",
    "summary": (
        "A course of gentle in-clinic sessions that prompts your skin to repair itself, which can soften "
        "fine lines, acne scars and stretch marks and refine skin texture and tone."
    ),
    "meta_description": (
        "Microneedling (collagen induction therapy) explained: what it can improve, how a session is done, "
        "why it takes a series and how numbing keeps it comfortable."
    ),
    "intro": (
        "Microneedling, also called collagen induction therapy, uses very fine needles to make a pattern of "
        "tiny, controlled micro-injuries in the outer layer of your skin.\n\n"
        "Your body treats each one as a small wound and starts its natural healing response: old cells are "
        "replaced by new ones, and fresh collagen and elastin, the proteins that keep skin firm and springy, "
        "are laid down. The openings are far too small to see, yet the repair they set off can gradually "
        "make scars, lines and stretch marks look softer with every session."
    ),
    "benefits_intro": (
        "Results differ from person to person, and your practitioner will talk through what is realistic "
        "for your skin at your first visit. Many patients choose microneedling for one or more of these."
    ),
    "how_it_works_intro": (
        "Microneedling works with your skin's own repair process. A handheld pen glides over the treated "
        "area while its fine needles make thousands of tiny micro-channels in the outer layer of the skin. "
        "They are invisible to the eye and close again quickly.\n\n"
        "Your skin reacts as it would to any small injury: it renews cells and produces new collagen and "
        "elastin. That remodelling carries on for weeks after the appointment, so the effect keeps "
        "developing between visits."
    ),
    "series_explanation": (
        "Each session adds a little. It sets off one round of repair, and the new collagen takes several "
        "weeks to form and settle. The next session then builds on skin that has already renewed, so "
        "improvements add up over the series rather than appearing all at once.\n\n"
        "Most people need 3 to 6 sessions, spaced about 4 to 6 weeks apart. Coming back too soon does not "
        "give the skin time to heal; leaving it much longer loses some of the momentum. Many patients "
        "notice a small change after the first session and a clearer difference as the series goes on."
    ),
    "benefits_illustration": "microneedling-benefits",
    "how_it_works_illustration": "microneedling-collagen",
}

BOOKING = {
    "sessions_in_series": 4,
    "min_days_between": 28,
    "max_days_between": 42,
    "session_minutes": 60,
    "requires_room": True,
    "is_published": True,
    "position": 0,
}

BENEFITS = [
    (
        "Fine lines and wrinkles",
        "New collagen can plump and firm the skin, so fine lines and wrinkles may look less deep.",
    ),
    (
        "Stretch marks",
        "Microneedling can improve the look of stretch marks, helping them blend in with the skin "
        "around them.",
    ),
    (
        "Acne scars",
        "Many patients with pitted or rolling acne scars find they become shallower and less noticeable "
        "over a series.",
    ),
    (
        "Skin texture and tone",
        "Skin can feel smoother and look more even, with a fresher, brighter tone.",
    ),
]

STEPS = [
    (
        "A quick check before we start",
        "",
        "Your practitioner looks at the area, goes over your health questionnaire and makes sure today is "
        "a good day to treat. Then your skin is cleansed.",
    ),
    (
        "Numbing cream",
        "20 to 45 minutes",
        "A topical numbing cream is applied to the area and left to take effect, so the treatment itself "
        "feels comfortable.",
    ),
    (
        "Treatment with the microneedling pen",
        "15 to 30 minutes",
        "The cream is wiped away and your practitioner moves a sterile handheld pen over the skin, section "
        "by section. Its fine needles make thousands of tiny, invisible micro-channels in the outer layer. "
        "Most people feel light pressure or a mild prickling.",
    ),
    (
        "A soothing finish",
        "",
        "A calming serum or mask settles the skin, and you go home with written aftercare advice. Allow "
        "about an hour for the whole visit.",
    ),
]

# Comfort first: it is what people ask about most.
FAQS = [
    (
        "Does microneedling hurt?",
        "Most patients find it far more comfortable than they expect. The needles are very fine and only "
        "reach the shallow outer layer of the skin, and we numb the area first, so you are likely to feel "
        "pressure or a light prickling rather than pain. Everyone's tolerance is different: tell your "
        "practitioner at any point if you would like a pause.",
    ),
    (
        "How does the numbing cream work?",
        "Before treatment we apply a topical numbing (anaesthetic) cream to the area and leave it on for "
        "20 to 45 minutes, depending on the area and how sensitive your skin is. It dulls feeling in the "
        "surface of the skin and is wiped off just before we begin. The numbness fades within an hour or so.",
    ),
    (
        "How long does a session take?",
        "Plan for about an hour: a short check, 20 to 45 minutes for the numbing cream to work, 15 to 30 "
        "minutes of treatment and a soothing finish.",
    ),
    (
        "How many sessions will I need?",
        "Most people have 3 to 6 sessions, about 4 to 6 weeks apart. We usually plan a series of 4 and "
        "review your skin as we go. Collagen takes weeks to rebuild, so each session builds on the last.",
    ),
    (
        "What should I do after a session?",
        "Expect redness, rather like mild sunburn, for 1 to 3 days. Wash with a gentle cleanser and use a "
        "simple moisturiser. Skip make-up for 24 hours, and avoid retinoids, acids and exfoliants for 3 to "
        "5 days. Wear a broad-spectrum sunscreen every day. Avoid swimming, saunas and heavy sweating for "
        "24 to 48 hours. Call the clinic straight away if you notice signs of infection, such as "
        "increasing pain, swelling, heat or pus.",
    ),
    (
        "Is microneedling right for everyone?",
        "Not always. Before your first session you answer a short health questionnaire, and some answers "
        "mean a practitioner reviews your booking before treatment: for example pregnancy or "
        "breastfeeding, isotretinoin in the last 6 months, an active acne flare, cold sore or infection "
        "in the area, a history of keloid scarring, blood thinners or a bleeding disorder, or a recent "
        "peel, laser or injectables in the area.",
    ),
    (
        "When will I see results?",
        "Some people notice fresher-looking skin within a week or two of the first session. Changes to "
        "scars, lines and stretch marks build gradually as new collagen forms, so the clearest difference "
        "usually shows a few months into the series. Results vary from person to person.",
    ),
]


def add_microneedling(apps, schema_editor):
    Treatment = apps.get_model("treatments", "Treatment")
    treatment, created = Treatment.objects.get_or_create(slug=SLUG, defaults={**TREATMENT, **BOOKING})
    if not created:
        # Someone added it by hand before this migration: fill only what is still empty.
        for field, value in TREATMENT.items():
            if not getattr(treatment, field):
                setattr(treatment, field, value)
        treatment.save()
    for model_name, fields, rows in [
        ("Benefit", ["title", "body"], BENEFITS),
        ("HowItWorksStep", ["title", "duration", "body"], STEPS),
        ("FAQItem", ["question", "answer"], FAQS),
    ]:
        _add_items(apps.get_model("treatments", model_name), treatment, fields, rows)


def _add_items(model, treatment, fields, rows):
    if model.objects.filter(treatment=treatment).exists():
        return
    model.objects.bulk_create(
        model(treatment=treatment, position=position, **dict(zip(fields, row, strict=True)))
        for position, row in enumerate(rows, start=1)
    )


def remove_microneedling(apps, schema_editor):
    # Only the content this migration added; the treatment itself may have bookings by now.
    Treatment = apps.get_model("treatments", "Treatment")
    for model_name in ("Benefit", "HowItWorksStep", "FAQItem"):
        apps.get_model("treatments", model_name).objects.filter(treatment__slug=SLUG).delete()
    explainer_fields = [field for field in TREATMENT if field not in ("name", "summary")]
    Treatment.objects.filter(slug=SLUG).update(**dict.fromkeys(explainer_fields, ""))


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_explainer_content")]

    operations = [migrations.RunPython(add_microneedling, remove_microneedling)]
