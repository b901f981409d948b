"""What the clinic offers: a treatment, the explainer content around it, and how it is booked."""

from django.db import models
from django.urls import reverse


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
    session_minutes = models.PositiveSmallIntegerField(default=60, help_text="Chair time, numbing included.")
    requires_room = models.BooleanField(default=True, help_text="Needs a treatment room (or device) booked too.")

    updated_at = models.DateTimeField(auto_now=True)

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
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("treatments:detail", kwargs={"slug": self.slug})
