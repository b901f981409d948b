"""
Prices and each treatment's own wording (preparation, aftercare, consent, what a session includes).

Microneedling's words move out of the templates into its row here, and a second treatment (a
chemical peel) ships with the content, so every page and e-mail is seen with two treatments.
"""

import django.core.validators
from decimal import Decimal

from django.db import migrations, models

MICRONEEDLING = {
    "price_per_session": Decimal("180"),
    "session_includes": "numbing included",
    "preparation": (
        "Please arrive with clean skin and no make-up on the area to be treated. The numbing cream needs "
        "20 to 45 minutes to work before the treatment itself starts."
    ),
    "aftercare": (
        "Redness like mild sunburn for 1 to 3 days is normal.\n"
        "Wash with a gentle cleanser and use a plain moisturiser.\n"
        "No make-up for 24 hours.\n"
        "No retinoids, acids or exfoliants for 3 to 5 days.\n"
        "Use a broad-spectrum sunscreen every day.\n"
        "No swimming, sauna or heavy sweating for 24 to 48 hours."
    ),
    "aftercare_followup": (
        "Redness has usually settled by now. Many patients can go back to their usual skincare, but keep "
        "the sunscreen going: new skin is more sensitive to the sun."
    ),
    "consent_text": (
        "I understand what microneedling involves, including redness for a few days afterwards, and I "
        "agree to be treated. I will tell the clinic if any of my answers change."
    ),
    # Fine needles reach the tissue through the skin.
    "procedure_type": "PercutaneousProcedure",
}

PEEL_SLUG = "chemical-peel"
PEEL = {
    "name": "Chemical peel",
    "summary": (
        "A short series of light peels that lift away dull surface cells, which can leave skin smoother, "
        "brighter and more even in tone."
    ),
    "also_known_as": "superficial peel",
    "meta_description": (
        "Chemical peels explained: what a light peel can improve, how a session feels, why it is done as a "
        "short series and how to care for your skin afterwards."
    ),
    "intro": (
        "A chemical peel is a gentle acid solution, chosen for your skin, that your practitioner paints onto "
        "the area and leaves on for a few minutes before neutralising it.\n\n"
        "The solution loosens the bonds between the tired cells on the very surface of the skin. Over the "
        "following days they shed, and the fresher layer underneath shows through. The peels we offer online "
        "are light (superficial) ones, which work on that outer layer only."
    ),
    "benefits_intro": (
        "What a peel can do depends on your skin and the solution used; your practitioner will say what is "
        "realistic at your first visit. Patients often choose a light peel for one of these reasons."
    ),
    "how_it_works_intro": (
        "A light peel speeds up something your skin does anyway: shedding its outermost cells. The solution "
        "loosens them in a controlled way, so they come away over a few days rather than weeks.\n\n"
        "Each peel only goes a little way, which keeps recovery short. That is why peels are booked as a "
        "short series, a few weeks apart."
    ),
    "series_explanation": (
        "One light peel refreshes the surface; a few of them, spaced out, give a more even and lasting "
        "change. Waiting two to four weeks between peels lets your skin finish shedding and settle before "
        "the next one.\n\n"
        "Most people have 3 to 6 peels. Coming back sooner than the planned gap can irritate the skin, so "
        "the booking system keeps every peel inside that window."
    ),
}
PEEL_BOOKING = {
    "sessions_in_series": 3,
    "min_days_between": 14,
    "max_days_between": 28,
    "session_minutes": 45,
    "requires_room": True,
    "is_published": True,
    "position": 1,
    "price_per_session": Decimal("95"),
    "price_per_series": Decimal("255"),
    "session_includes": "",
    "preparation": (
        "For 5 to 7 days before a peel, stop retinoid creams and exfoliating acids or scrubs on the area, and "
        "avoid waxing or other hair removal there. Keep out of strong sun, and come with clean skin and no "
        "make-up on the area."
    ),
    "aftercare": (
        "Tightness, redness and light flaking for 3 to 7 days are normal.\n"
        "Let flaking skin come away on its own: do not pick or peel it.\n"
        "Wash with a gentle cleanser and use a plain moisturiser.\n"
        "No retinoids, acids or scrubs until the flaking has stopped.\n"
        "Use a broad-spectrum sunscreen every day and keep out of strong sun."
    ),
    "aftercare_followup": (
        "Any flaking should be easing by now. Let it finish on its own, keep moisturising, and keep the "
        "sunscreen going: fresh skin is more sensitive to the sun."
    ),
    "consent_text": (
        "I understand what a chemical peel involves, including tingling while the solution is on and redness "
        "or flaking for several days afterwards, and I agree to be treated. I will tell the clinic if any of my "
        "answers change."
    ),
    "procedure_type": "NoninvasiveProcedure",
    # Bleeding is not a concern with a light peel, so it does not ask about blood thinners.
    "safety_questions": ["pregnant", "isotretinoin", "active_skin_condition", "keloid"],
}
PEEL_BENEFITS = [
    ("Dull or tired-looking skin", "Removing the outermost cells can leave skin looking brighter and fresher."),
    ("Uneven tone", "A series can help blotchy areas and mild marks blend in with the skin around them."),
    ("Rough texture", "Many patients find their skin feels smoother and make-up sits more evenly."),
]
PEEL_STEPS = [
    (
        "A check and a cleanse",
        "",
        "Your practitioner looks at your skin, goes over your health questionnaire and cleanses the area so "
        "the solution works evenly.",
    ),
    (
        "The peel",
        "5 to 10 minutes",
        "The solution is brushed on and left for a few minutes. Most people feel warmth or tingling, which "
        "fades once it is neutralised and rinsed off.",
    ),
    (
        "Calm and protect",
        "",
        "A soothing moisturiser and a sunscreen go on, and you go home with written aftercare advice. Allow "
        "about 45 minutes for the visit.",
    ),
]
PEEL_FAQS = [
    (
        "Does a chemical peel hurt?",
        "A light peel usually feels warm or tingly for a few minutes while the solution is on. Tell your "
        "practitioner if it feels too strong: it can be neutralised at once.",
    ),
    (
        "Will my skin peel afterwards?",
        "Often only a little. Light flaking for a few days is common, and some people see hardly any. Let it "
        "come away on its own.",
    ),
    (
        "How many peels will I need?",
        "Most people have 3 to 6 light peels, two to four weeks apart. We usually plan a series of 3 and "
        "review your skin as we go.",
    ),
    (
        "Is a peel right for everyone?",
        "Not always. Before booking you answer a short health questionnaire, and some answers mean a "
        "practitioner reviews your booking first: for example pregnancy or breastfeeding, isotretinoin in the "
        "last 6 months, or an active cold sore or infection in the area.",
    ),
]


def add_wording_and_peel(apps, schema_editor):
    Treatment = apps.get_model("treatments", "Treatment")
    Treatment.objects.filter(slug="microneedling").update(**MICRONEEDLING)
    peel, created = Treatment.objects.get_or_create(slug=PEEL_SLUG, defaults={**PEEL, **PEEL_BOOKING})
    if not created:
        return  # someone made it by hand before this migration: leave their words alone
    for model_name, fields, rows in [
        ("Benefit", ["title", "body"], PEEL_BENEFITS),
        ("HowItWorksStep", ["title", "duration", "body"], PEEL_STEPS),
        ("FAQItem", ["question", "answer"], PEEL_FAQS),
    ]:
        model = apps.get_model("treatments", model_name)
        model.objects.bulk_create(
            model(treatment=peel, position=position, **dict(zip(fields, row, strict=True)))
            for position, row in enumerate(rows, start=1)
        )


def unpublish_peel(apps, schema_editor):
    # The peel may have bookings by now: hide it rather than delete it. The new fields go with the schema.
    apps.get_model("treatments", "Treatment").objects.filter(slug=PEEL_SLUG).update(is_published=False)


class Migration(migrations.Migration):

    dependencies = [
        ('treatments', '0003_microneedling_content'),
    ]

    operations = [
        migrations.AddField(
            model_name='treatment',
            name='aftercare',
            field=models.TextField(default='Follow the aftercare advice your practitioner gives you at the end of the session.\nKeep the treated skin clean, and use a plain moisturiser if it feels dry.\nUse a broad-spectrum sunscreen every day.', help_text="The aftercare e-mail's advice, one point per line (the clinic's phone is added last)."),
        ),
        migrations.AddField(
            model_name='treatment',
            name='aftercare_followup',
            field=models.TextField(default='We hope your skin has settled by now. Keep using a broad-spectrum sunscreen every day, and tell us if anything about how your skin has healed worries you.', help_text='Opens the follow-up aftercare e-mail, a few days after each session.', verbose_name='aftercare follow-up'),
        ),
        migrations.AddField(
            model_name='treatment',
            name='consent_text',
            field=models.TextField(default='I understand what this treatment involves, as explained on its pages and by my practitioner, and I agree to be treated. I will tell the clinic if any of my answers change.', help_text='What the patient ticks to agree to this treatment; kept with each booking as read.', verbose_name='consent to treatment'),
        ),
        migrations.AddField(
            model_name='treatment',
            name='preparation',
            field=models.TextField(default='Please arrive a few minutes early, with clean skin and no make-up on the area to be treated. Tell us if anything about your health or your medicines has changed since you booked.', help_text='Before a session: shown before booking and in the reminder e-mails.', verbose_name='what to prepare'),
        ),
        migrations.AddField(
            model_name='treatment',
            name='price_per_series',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='The whole series. Blank: the number of sessions times the price per session.', max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(0)]),
        ),
        migrations.AddField(
            model_name='treatment',
            name='price_per_session',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='Blank: pages say to ask the clinic.', max_digits=8, null=True, validators=[django.core.validators.MinValueValidator(0)]),
        ),
        migrations.AddField(
            model_name='treatment',
            name='procedure_type',
            field=models.CharField(choices=[('NoninvasiveProcedure', 'Non-invasive (nothing passes through the skin)'), ('PercutaneousProcedure', 'Percutaneous (needles pass through the skin)')], default='NoninvasiveProcedure', help_text='For search engines (schema.org).', max_length=40),
        ),
        migrations.AddField(
            model_name='treatment',
            name='safety_questions',
            field=models.JSONField(blank=True, help_text="Which of the clinic's safety questions (bookings/questionnaire.py) this treatment asks; never chosen (null): every one.", null=True),
        ),
        migrations.AddField(
            model_name='treatment',
            name='session_includes',
            field=models.CharField(blank=True, help_text='Said after the chair time, e.g. "numbing included". Blank: nothing added.', max_length=120),
        ),
        migrations.AlterField(
            model_name='treatment',
            name='session_minutes',
            field=models.PositiveSmallIntegerField(default=60, help_text='Chair time for one session, from arrival to leaving.'),
        ),
        migrations.AddConstraint(
            model_name='treatment',
            constraint=models.CheckConstraint(condition=models.Q(('price_per_session__gte', 0)), name='treatment_session_price'),
        ),
        migrations.AddConstraint(
            model_name='treatment',
            constraint=models.CheckConstraint(condition=models.Q(('price_per_series__gte', 0)), name='treatment_series_price'),
        ),
        migrations.RunPython(add_wording_and_peel, unpublish_peel),
    ]
