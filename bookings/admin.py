"""
The clinic's back office. Practitioners, hours, rooms and rules are edited here directly;
appointments are not: their times change only through the booking services (which check
spacing, working hours and double booking), so the admin shows them read-only and offers
actions that call those services.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from bookings import outbox, services, tasks
from bookings.errors import BookingError
from bookings.models import (
    Appointment,
    AuditEvent,
    ClinicRules,
    OutboxMessage,
    Patient,
    Practitioner,
    Questionnaire,
    Room,
    Series,
    TimeOff,
    WorkingHours,
)
from bookings.staff_forms import AdminLoginForm

# The admin's sign-in page counts guesses with the staff sign-in page (bookings/staff_forms.py).
admin.site.login_form = AdminLoginForm

EMAIL_TIMINGS = (
    "reminder_days_before", "reminder_morning_time", "aftercare_evening_time", "aftercare_followup_days",
    "next_session_days_before", "alert_days_before_window_closes", "message_time",
)  # fmt: skip
APPOINTMENT_TIMES = ("series", "session_number", "practitioner", "room", "start", "end")


@admin.register(ClinicRules)
class ClinicRulesAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "min_notice_hours",
        "horizon_days",
        "buffer_minutes",
        "cancellation_cutoff_hours",
        "slot_minutes",
    )
    fieldsets = (
        ("Booking", {"fields": (
            "min_notice_hours", "horizon_days", "buffer_minutes", "cancellation_cutoff_hours", "slot_minutes",
            "answers_open_days",
        )}),
        ("E-mails between sessions", {
            "description": "Clinic-time settings for the reminders, aftercare and nudges. Saving a change "
            "moves the e-mails not sent yet to the new times.",
            "fields": EMAIL_TIMINGS,
        }),
    )  # fmt: skip

    def has_add_permission(self, request):
        return not ClinicRules.objects.exists()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The cutoff counts too: the days-before reminder is planned to arrive before it.
        if set(form.changed_data) & {*EMAIL_TIMINGS, "cancellation_cutoff_hours"}:
            # Pending reminders move to the new times; done by a worker once the change commits.
            transaction.on_commit(tasks.replan_active_series.delay)
            self.message_user(request, "Planned e-mails are being moved to the new times.", messages.INFO)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")
    list_filter = ("is_active", "treatments")
    search_fields = ("name",)
    filter_horizontal = ("treatments",)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


class PractitionerAdminForm(forms.ModelForm):
    class Meta:
        model = Practitioner
        fields = "__all__"

    def clean_is_active(self):
        """Unticking "active" is refused while they have sessions ahead (listed, to move first)."""
        active = self.cleaned_data["is_active"]
        if self.instance.pk and self.instance.is_active and not active:
            refusal = services.practitioner_deactivate_refusal(practitioner=self.instance, now=timezone.now())
            if refusal:
                raise forms.ValidationError(refusal.message)
        return active


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    form = PractitionerAdminForm
    list_display = ("name", "user", "is_active")
    list_filter = ("is_active", "treatments")
    search_fields = ("name", "user__username", "user__email")
    filter_horizontal = ("treatments",)
    autocomplete_fields = ("user",)
    inlines = (WorkingHoursInline, TimeOffInline)

    def save_model(self, request, obj, form, change):
        """Deactivation goes through the service, under the lock bookings take (the form only pre-checks)."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if deactivating:
            try:
                services.practitioner_deactivate(practitioner=obj)
            except BookingError as refusal:  # booked meanwhile: the other changes stand, they stay active
                messages.error(request, refusal.message)


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ("practitioner", "weekday", "start", "end")
    list_filter = ("weekday", "practitioner")
    search_fields = ("practitioner__name",)


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ("practitioner", "start", "end", "reason")
    list_filter = ("practitioner",)
    search_fields = ("practitioner__name", "reason")
    date_hierarchy = "start"


class PatientSeriesInline(admin.TabularInline):
    model = Series
    fields = ("treatment", "status", "source", "needs_review", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # booked through the booking services


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "created_at")
    search_fields = ("name", "email", "phone")
    date_hierarchy = "created_at"
    inlines = (PatientSeriesInline,)


class AppointmentInline(admin.TabularInline):
    model = Appointment
    fields = (*APPOINTMENT_TIMES[1:], "status", "cancelled_at", "cancel_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class QuestionnaireInline(admin.StackedInline):
    model = Questionnaire
    readonly_fields = (
        "answers",
        "flagged",
        "consent_treatment",
        "consent_privacy",
        "wording_version",
        "submitted_at",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "patient", "treatment", "status", "source", "needs_review", "created_at")
    list_filter = ("status", "source", "needs_review", "treatment")
    search_fields = ("patient__name", "patient__email", "patient__phone", "public_id")
    readonly_fields = ("public_id", "patient", "treatment", "source", "created_at", "created_by")
    date_hierarchy = "created_at"
    inlines = (AppointmentInline, QuestionnaireInline)

    def has_add_permission(self, request):
        return False  # series are booked through the booking services (patient or staff flow)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelling never deletes a row


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("series", "flagged", "wording_version", "submitted_at")
    list_filter = ("wording_version",)
    search_fields = ("series__patient__name", "series__patient__email")
    readonly_fields = (
        "series",
        "answers",
        "flagged",
        "consent_treatment",
        "consent_privacy",
        "wording_version",
        "submitted_at",
    )

    def has_add_permission(self, request):
        return False


def _run(modeladmin, request, queryset, action, done: str) -> None:
    """Call a service for each selected appointment; report refusals in the service's words."""
    changed = 0
    for appointment in queryset:
        try:
            action(appointment)
        except BookingError as refusal:
            modeladmin.message_user(request, f"{appointment}: {refusal.message}", messages.WARNING)
        else:
            changed += 1
    if changed:
        modeladmin.message_user(request, f"{changed} appointment(s) {done}.", messages.SUCCESS)


def _mark_action(status: str, description: str, done: str):
    """An admin action recording `status` through services.appointment_mark."""

    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        def mark_one(appointment):
            services.appointment_mark(appointment=appointment, status=status, by=request.user)

        _run(modeladmin, request, queryset, mark_one, done)

    action.__name__ = f"mark_{status}"
    return action


@admin.action(description="Cancel (staff: the cutoff does not apply)")
def cancel(modeladmin, request, queryset):
    def cancel_one(appointment):
        services.appointment_cancel(
            appointment=appointment, by=request.user, reason="Cancelled by staff", for_staff=True
        )

    _run(modeladmin, request, queryset, cancel_one, "cancelled")


class ReadOnlyAudit:
    """The audit trail is evidence: shown to those allowed to see it, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditEventInline(ReadOnlyAudit, admin.TabularInline):
    model = AuditEvent
    fk_name = "appointment"
    fields = ("at", "action", "actor_label", "before", "after")
    readonly_fields = fields
    extra = 0


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAudit, admin.ModelAdmin):
    list_display = ("at", "action", "actor_label", "appointment", "series")
    list_filter = ("action", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_label", "series__patient__name", "series__patient__email")
    list_select_related = ("series__patient", "series__treatment", "appointment__series__treatment",
                           "appointment__series__patient")
    readonly_fields = ("at", "action", "actor", "actor_label", "series", "appointment", "before", "after")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = (
        "start",
        "end",
        "series",
        "session_number",
        "practitioner",
        "room",
        "status",
        "needs_review",
    )
    list_filter = ("status", "needs_review", "practitioner", "room", "series__treatment")
    search_fields = (
        "series__patient__name",
        "series__patient__email",
        "series__patient__phone",
        "practitioner__name",
    )
    list_select_related = ("series__patient", "series__treatment", "practitioner", "room")
    readonly_fields = (*APPOINTMENT_TIMES, "status", "cancelled_at", "created_at", "updated_at")
    date_hierarchy = "start"
    actions = (
        _mark_action(Appointment.Status.CHECKED_IN, "Mark as checked in", "checked in"),
        _mark_action(Appointment.Status.COMPLETED, "Mark as completed", "completed"),
        _mark_action(Appointment.Status.NO_SHOW, "Mark as no-show (frees the time)", "marked as no-show"),
        cancel,
    )
    inlines = (AuditEventInline,)

    def has_add_permission(self, request):
        return False  # booked through the services, which check spacing and double booking

    def has_delete_permission(self, request, obj=None):
        return False  # cancelling never deletes a row


@admin.action(description="Send again (failed e-mails: pending now, attempts reset)")
def send_again(modeladmin, request, queryset):
    count = outbox.messages_retry(ids=queryset.values_list("pk", flat=True))
    modeladmin.message_user(request, f"{count} e-mail(s) will be sent within a minute.", messages.SUCCESS)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every e-mail planned, sent, failed or cancelled: read-only, so the record stays true."""

    list_display = ("due_at", "kind", "series", "session_number", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "kind", ("due_at", admin.DateFieldListFilter))
    search_fields = ("series__patient__name", "series__patient__email", "key")
    list_select_related = ("series__patient", "series__treatment")
    date_hierarchy = "due_at"
    ordering = ("-due_at",)
    actions = (send_again,)
    readonly_fields = tuple(field.name for field in OutboxMessage._meta.fields)

    def has_add_permission(self, request):
        return False  # planned by the booking services

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # shown, never edited (the send-again action goes through bookings/outbox.py)

