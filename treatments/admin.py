"""Staff edit a treatment and all of its explainer on one admin page (items as inlines)."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from treatments import selectors, services
from treatments.forms import TreatmentForm, TreatmentImageForm
from treatments.models import Benefit, FAQItem, HowItWorksStep, Treatment, TreatmentImage


class ExplainerInline(admin.StackedInline):
    extra = 0
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 80})}}


class BenefitInline(ExplainerInline):
    model = Benefit
    fields = ["title", "body", "position"]


class HowItWorksStepInline(ExplainerInline):
    model = HowItWorksStep
    fields = ["title", "duration", "body", "position"]


class FAQItemInline(ExplainerInline):
    model = FAQItem
    fields = ["question", "answer", "position"]


class TreatmentImageInline(ExplainerInline):
    model = TreatmentImage
    form = TreatmentImageForm
    readonly_fields = ["preview"]
    fields = ["image", "preview", "alt_text", "caption", "role", "position"]

    @admin.display(description="Preview")
    def preview(self, obj):
        if not obj.pk or not obj.image:
            return "Shown after saving."
        return format_html('<img src="{}" alt="" style="max-width: 240px; height: auto">', obj.fallback_url)


class BookableFilter(admin.SimpleListFilter):
    title = "can be booked online"
    parameter_name = "bookable"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No: something is missing")]

    def queryset(self, request, queryset):
        complete = models.Q(has_practitioner=True, has_hours=True, has_room=True)
        if self.value() == "yes":
            return queryset.filter(complete)
        if self.value() == "no":
            return queryset.exclude(complete)
        return queryset


@admin.register(Treatment)
class TreatmentAdmin(admin.ModelAdmin):
    form = TreatmentForm
    list_display = [
        "name", "slug", "is_published", "bookable", "position", "sessions_in_series", "price", "updated_at"
    ]
    list_editable = ["is_published", "position"]
    list_filter = ["is_published", BookableFilter]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BenefitInline, HowItWorksStepInline, FAQItemInline, TreatmentImageInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "is_published", "position"]}),
        (
            "Explainer pages",
            {
                "fields": [
                    "also_known_as",
                    "meta_description",
                    "intro",
                    "benefits_intro",
                    "benefits_illustration",
                    "how_it_works_intro",
                    "how_it_works_illustration",
                    "series_explanation",
                ]
            },
        ),
        (
            "Booking",
            {
                "fields": [
                    "sessions_in_series",
                    "min_days_between",
                    "max_days_between",
                    "session_minutes",
                    "requires_room",
                    "price_per_session",
                    "price_per_series",
                ]
            },
        ),
        (
            "A consultation first",
            {
                "description": "New patients book this treatment's consultation with their first series; one "
                "still valid is not booked again. A practitioner can lift it for one patient, with a reason.",
                "fields": ["prerequisite", "prerequisite_valid_days", "prerequisite_days_before"],
            },
        ),
        (
            "Its own words (pages, booking, e-mails)",
            {
                "description": "Every page and e-mail about this treatment uses these, never another's.",
                "fields": [
                    "session_includes",
                    "preparation",
                    "consent_text",
                    "safety_questions",
                    "aftercare",
                    "aftercare_followup",
                    "procedure_type",
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return selectors.with_bookability(super().get_queryset(request))

    @admin.display(description="Can be booked online", boolean=True)
    def bookable(self, obj):
        return not selectors.unbookable_reasons(obj)

    @admin.display(description="Price")
    def price(self, obj):
        return obj.price_display or "—"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A renamed slug leaves the old pages cached under the old address: stale them too.
        services.explainer_pages_invalidate(slugs={obj.slug, form.initial.get("slug") or obj.slug})

    def response_add(self, request, obj, post_url_continue=None):
        self._warn_if_unbookable(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._warn_if_unbookable(request, obj)
        return super().response_change(request, obj)

    def _warn_if_unbookable(self, request, obj) -> None:
        """A published treatment shows Book buttons: say so when patients would find no times."""
        if not obj.is_published:
            return
        treatment = selectors.with_bookability(Treatment.objects.filter(pk=obj.pk)).first()
        reasons = selectors.unbookable_reasons(treatment)
        if reasons:
            self.message_user(
                request,
                f"“{obj.name}” is published but patients cannot book it online yet: {'; '.join(reasons)}. "
                "Link a practitioner with working hours (and a room, if it needs one) under Bookings.",
                messages.WARNING,
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not TreatmentImage:
            super().save_formset(request, form, formset, change)
            return
        doomed = [
            name
            for deleted in formset.deleted_forms
            if deleted.instance.pk
            for name in services.image_files_collect(image=deleted.instance)
        ]
        super().save_formset(request, form, formset, change)
        services.files_delete_on_commit(names=doomed)
        for image_form in formset.forms:
            if image_form in formset.deleted_forms or not image_form.instance.pk:
                continue
            if "image" in image_form.changed_data:
                services.image_renditions_build(image=image_form.instance)

    def delete_model(self, request, obj):
        slug = obj.slug
        super().delete_model(request, obj)
        services.explainer_pages_invalidate(slugs=[slug])

    def delete_queryset(self, request, queryset):
        slugs = list(queryset.values_list("slug", flat=True))
        super().delete_queryset(request, queryset)
        services.explainer_pages_invalidate(slugs=slugs)
