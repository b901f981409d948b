"""Staff edit a treatment and all of its explainer on one admin page (items as inlines)."""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from treatments import services
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


@admin.register(Treatment)
class TreatmentAdmin(admin.ModelAdmin):
    form = TreatmentForm
    list_display = ["name", "slug", "is_published", "position", "sessions_in_series", "updated_at"]
    list_editable = ["is_published", "position"]
    list_filter = ["is_published"]
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
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A renamed slug leaves the old pages cached under the old address: stale them too.
        services.explainer_pages_invalidate(slugs={obj.slug, form.initial.get("slug") or obj.slug})

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
