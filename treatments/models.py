"""What the clinic offers: a treatment, the explainer content around it, and how it is booked."""

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import NoReverseMatch, reverse

from treatments.illustrations import ILLUSTRATION_CHOICES
from treatments.pricing import money

# The words a new treatment starts with: plain and true of any treatment, edited in the admin.
DEFAULT_PREPARATION = (
    "Please arrive a few minutes early, with clean skin and no make-up on the area to be treated. "
    "Tell us if anything about your health or your medicines has changed since you booked."
)
DEFAULT_AFTERCARE = (
    "Follow the aftercare advice your practitioner gives you at the end of the session.\n"
    "Keep the treated skin clean, and use a plain moisturiser if it feels dry.\n"
    "Use a broad-spectrum sunscreen every day."
)
DEFAULT_AFTERCARE_FOLLOWUP = (
    "We hope your skin has settled by now. Keep using a broad-spectrum sunscreen every day, "
    "and tell us if anything about how your skin has healed worries you."
)
DEFAULT_CONSENT = (
    "I understand what this treatment involves, as explained on its pages and by my practitioner, "
    "and I agree to be treated. I will tell the clinic if any of my answers change."
)


class TreatmentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Treatment(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, help_text="One or two sentences for cards and search results.")
    is_published = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the treatments page.")

    # How the treatment is booked: a series of sessions with a spacing window between them.
    sessions_in_series = models.PositiveSmallIntegerField(default=4)
    min_days_between = models.PositiveSmallIntegerField(default=28)
    max_days_between = models.PositiveSmallIntegerField(default=42)
    session_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="Chair time for one session, from arrival to leaving."
    )
    requires_room = models.BooleanField(default=True, help_text="Needs a treatment room (or device) booked too.")

    # Price, shown before booking in settings.CURRENCY. Nothing is charged online.
    price_per_session = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Blank: pages say to ask the clinic.",
    )
    price_per_series = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="The whole series. Blank: the number of sessions times the price per session.",
    )

    # The treatment's own words wherever the site or an e-mail speaks of it (never another's).
    session_includes = models.CharField(
        max_length=120, blank=True,
        help_text='Said after the chair time, e.g. "numbing included". Blank: nothing added.',
    )
    preparation = models.TextField(
        "what to prepare", default=DEFAULT_PREPARATION,
        help_text="Before a session: shown before booking and in the reminder e-mails.",
    )
    aftercare = models.TextField(
        default=DEFAULT_AFTERCARE,
        help_text="The aftercare e-mail's advice, one point per line (the clinic's phone is added last).",
    )
    aftercare_followup = models.TextField(
        "aftercare follow-up", default=DEFAULT_AFTERCARE_FOLLOWUP,
        help_text="Opens the follow-up aftercare e-mail, a few days after each session.",
    )
    consent_text = models.TextField(
        "consent to treatment", default=DEFAULT_CONSENT,
        help_text="What the patient ticks to agree to this treatment; kept with each booking as read.",
    )
    # A plain list of question keys, e.g. ["pregnant", "keloid"].
    safety_questions = models.JSONField(
        null=True, blank=True,
        help_text="Which of the clinic's safety questions (bookings/questionnaire.py) this treatment asks; "
        "never chosen (null): every one.",
    )
    procedure_type = models.CharField(
        max_length=40, default="NoninvasiveProcedure",
        choices=[
            ("NoninvasiveProcedure", "Non-invasive (nothing passes through the skin)"),
            ("PercutaneousProcedure", "Percutaneous (needles pass through the skin)"),
        ],
        help_text="For search engines (schema.org).",
    )

    # A consultation first (issue 13 §2): a new patient books `prerequisite` (a one-session treatment)
    # with the series, its session at least `prerequisite_days_before` days before the first; one held
    # within `prerequisite_valid_days` of the first session counts, so returning patients skip it.
    prerequisite = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="required_by",
        help_text="A treatment (a consultation) a new patient must have before the first session. Blank: none.",
    )
    prerequisite_valid_days = models.PositiveSmallIntegerField(
        default=183, validators=[MinValueValidator(1)],
        help_text="A consultation this many days before the first session still counts (183: six months).",
    )
    prerequisite_days_before = models.PositiveSmallIntegerField(
        default=1, help_text="The first session is at least this many days after the consultation.",
    )

    updated_at = models.DateTimeField(auto_now=True)

    # The explainer pages. Long texts are plain text; a blank line starts a new paragraph.
    also_known_as = models.CharField(max_length=120, blank=True, help_text="e.g. collagen induction therapy.")
    meta_description = models.CharField(
        max_length=160,
        blank=True,
        help_text="For search results (up to 160 characters); the summary if blank.",
    )
    intro = models.TextField("what it is", blank=True, help_text="Opening of the overview page.")
    benefits_intro = models.TextField(blank=True, help_text="Shown above the list of benefits.")
    how_it_works_intro = models.TextField(blank=True, help_text="Opening of the how-it-works page.")
    series_explanation = models.TextField(
        blank=True, help_text="Why it takes a series, and what each session does."
    )
    benefits_illustration = models.CharField(max_length=80, blank=True, choices=ILLUSTRATION_CHOICES)
    how_it_works_illustration = models.CharField(max_length=80, blank=True, choices=ILLUSTRATION_CHOICES)

    objects = TreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_in_series__gte=1), name="treatment_series_has_sessions"
            ),
            models.CheckConstraint(
                condition=models.Q(min_days_between__lte=models.F("max_days_between")),
                name="treatment_spacing_window_ordered",
            ),
            models.CheckConstraint(condition=models.Q(session_minutes__gte=5), name="treatment_session_length"),
            # NULL (no price) passes a CHECK, so these only refuse a negative price.
            models.CheckConstraint(
                condition=models.Q(price_per_session__gte=0), name="treatment_session_price"
            ),
            models.CheckConstraint(
                condition=models.Q(price_per_series__gte=0), name="treatment_series_price"
            ),
            models.CheckConstraint(
                condition=~models.Q(prerequisite=models.F("pk")), name="treatment_not_its_own_prerequisite"
            ),
            models.CheckConstraint(
                condition=models.Q(prerequisite_valid_days__gte=1)
                & models.Q(prerequisite_days_before__lte=models.F("prerequisite_valid_days")),
                name="treatment_prerequisite_days_sensible",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("treatments:detail", kwargs={"slug": self.slug})

    def get_booking_url(self):
        # The booking flow lives in the bookings app; a plain path keeps this page working
        # while that route is missing (for example on a site that only explains).
        try:
            return reverse("bookings:book", kwargs={"slug": self.slug})
        except NoReverseMatch:
            return f"/book/{self.slug}/"

    @property
    def spacing_display(self) -> str:
        """The gap between sessions for people: "4 to 6 weeks", or in days when not whole weeks."""
        low, high = self.min_days_between, self.max_days_between
        if low % 7 == 0 and high % 7 == 0:
            low, high, unit = low // 7, high // 7, "weeks"
        else:
            unit = "days"
        return f"{low} {unit}" if low == high else f"{low} to {high} {unit}"

    @property
    def series_price(self):
        """The whole series: its own price if set, else sessions times the session price (or None)."""
        if self.price_per_series is not None:
            return self.price_per_series
        if self.price_per_session is None:
            return None
        return self.price_per_session * self.sessions_in_series

    @property
    def price_display(self) -> str:
        """"£180 per session, £720 for 4 sessions"; "" when no price is set."""
        parts = []
        if self.price_per_session is not None:
            parts.append(f"{money(self.price_per_session)} per session")
        if self.series_price is not None and (self.sessions_in_series > 1 or not parts):
            parts.append(f"{money(self.series_price)} for {self.sessions_in_series} "
                         f"session{'s' if self.sessions_in_series != 1 else ''}")
        return ", ".join(parts)

    @property
    def session_display(self) -> str:
        """"About 60 minutes, numbing included"."""
        extra = f", {self.session_includes}" if self.session_includes else ""
        return f"About {self.session_minutes} minutes{extra}"

    @property
    def aftercare_lines(self) -> list[str]:
        return [line.strip(" -•\t") for line in self.aftercare.splitlines() if line.strip(" -•\t")]

    @property
    def description(self) -> str:
        return self.meta_description or self.summary


class ExplainerItem(models.Model):
    """An ordered piece of a treatment's explainer, edited inline on the treatment."""

    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class Benefit(ExplainerItem):
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="benefits")
    title = models.CharField(max_length=120)
    body = models.TextField(blank=True)

    def __str__(self):
        return self.title


class HowItWorksStep(ExplainerItem):
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(max_length=120)
    body = models.TextField()
    duration = models.CharField(max_length=60, blank=True, help_text="e.g. 20 to 45 minutes.")

    class Meta(ExplainerItem.Meta):
        verbose_name = "how-it-works step"

    def __str__(self):
        return self.title


class FAQItem(ExplainerItem):
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="faqs")
    question = models.CharField(max_length=200)
    answer = models.TextField()

    class Meta(ExplainerItem.Meta):
        verbose_name = "FAQ item"

    def __str__(self):
        return self.question


class TreatmentImage(ExplainerItem):
    """A photo staff upload; shown through its renditions (see services.image_renditions_build)."""

    class Role(models.TextChoices):
        HERO = "hero", "Top of the overview page"
        BENEFITS = "benefits", "Beside the benefits"
        HOW = "how", "On the how-it-works page"

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to="treatments/originals/%Y/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    alt_text = models.CharField(
        max_length=250, help_text="What the picture shows, for people who cannot see it."
    )
    caption = models.CharField(max_length=250, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.HERO)

    def __str__(self):
        return self.alt_text

    def _renditions(self, formats: set[str]) -> list["ImageRendition"]:
        # Filters in Python so a prefetched `renditions` costs no query per image.
        return [r for r in self.renditions.all() if r.format in formats]

    def _srcset(self, formats: set[str]) -> str:
        return ", ".join(f"{r.file.url} {r.width}w" for r in self._renditions(formats))

    @property
    def webp_srcset(self) -> str:
        return self._srcset({ImageRendition.Format.WEBP})

    @property
    def fallback_srcset(self) -> str:
        return self._srcset({ImageRendition.Format.JPEG, ImageRendition.Format.PNG})

    @property
    def fallback_url(self) -> str:
        """The smallest fallback rendition (the `src` old browsers load), or the original."""
        fallbacks = self._renditions({ImageRendition.Format.JPEG, ImageRendition.Format.PNG})
        return fallbacks[0].file.url if fallbacks else self.image.url


class ImageRendition(models.Model):
    """A resized copy of a TreatmentImage in one format, for srcset."""

    class Format(models.TextChoices):
        WEBP = "webp", "WebP"
        JPEG = "jpeg", "JPEG"
        PNG = "png", "PNG"

    image = models.ForeignKey(TreatmentImage, on_delete=models.CASCADE, related_name="renditions")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=4, choices=Format.choices)
    file = models.FileField(upload_to="treatments/renditions/")

    class Meta:
        ordering = ["width", "format"]
        constraints = [
            models.UniqueConstraint(fields=["image", "width", "format"], name="rendition_unique_size_format"),
        ]

    def __str__(self):
        return f"{self.image} at {self.width}px ({self.format})"
