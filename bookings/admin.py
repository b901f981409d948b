"""
The clinic's back office: a managers' tool (clinic/admin.py lets in only `bookings.use_admin`;
practitioners and the front desk work in /staff/, which shows each role what it may see).

Practitioners, hours, rooms, patients' contact details and the rules are edited here directly, and
every save or delete is recorded in the audit trail as the admin user. Bookings are not: series,
appointments, questionnaires and e-mails are shown read-only, and every change to them is an
action that calls the booking services (which check the rules, cancel the e-mails, and audit).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from bookings import eligibility_services, outbox, ratelimits, selectors, services, tasks
from bookings.audit import SYSTEM, audit_record, formset_save, record
from bookings.errors import BookingError
from bookings.forms import validate_phone
from bookings.models import (
    Appointment,
    AuditEvent,
    ClinicRules,
    EligibilityRule,
    EligibilityRules,
    OutboxMessage,
    Patient,
    Practitioner,
    Questionnaire,
    Room,
    Series,
    TimeOff,
    WorkingHours,
)
from bookings.questionnaire import QUESTIONS
from clinic.admin import USE_ADMIN

NOT_A_MANAGER = (
    "The admin is for managers. Your diary, patients and bookings are in the staff workspace: "
    "sign in at /staff/ instead."
)


class AdminLoginForm(ratelimits.LoginRateLimit, AdminAuthenticationForm):
    """The Django admin's sign-in form (managers only: clinic/admin.py), under the same limits."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.has_perm(USE_ADMIN):
            raise forms.ValidationError(NOT_A_MANAGER, code="not_a_manager")


# The admin's sign-in page counts guesses with the staff sign-in page (ratelimits.LoginRateLimit).
admin.site.login_form = AdminLoginForm

EMAIL_TIMINGS = (
    "reminder_days_before", "reminder_morning_time", "aftercare_evening_time", "aftercare_followup_days",
    "next_session_days_before", "alert_days_before_window_closes", "message_time",
)  # fmt: skip
APPOINTMENT_TIMES = ("series", "session_number", "practitioner", "room", "start", "end")


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete (inline rows too) recorded in the audit trail as the admin user,
    inside the admin's own transaction."""

    def _audit(self, request, action: str, changes) -> None:
        audit_record(action=action, changes=changes, by=request.user, default_actor=SYSTEM, at=timezone.now())

    def save_model(self, request, obj, form, change):
        # The row as stored (many-to-many too: the admin saves those after this).
        obj._audit_before = record(type(obj)._default_manager.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        # Called once the object, its many-to-many and its inlines are saved.
        self._audit(request, AuditEvent.Action.CREATED, [(obj, {})])
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if getattr(obj, "_audit_before", None):
            self._audit(request, AuditEvent.Action.CHANGED, [(obj, obj._audit_before)])
        return super().log_change(request, obj, message)

    def save_formset(self, request, form, formset, change):
        formset_save(formset, by=request.user, at=timezone.now())

    def delete_model(self, request, obj):
        self._audit(request, AuditEvent.Action.DELETED, [(obj, record(obj))])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # the bulk "delete selected" action has no transaction of its own
            self._audit(request, AuditEvent.Action.DELETED, [(obj, record(obj)) for obj in queryset])
            super().delete_queryset(request, queryset)


class WarnsOfStrandedBookings:
    """After hours or time off change, name the booked sessions left outside them (none is moved:
    the staff hours page lists them to move or confirm)."""

    def _warn_stranded(self, request, obj) -> None:
        practitioner = obj if isinstance(obj, Practitioner) else obj.practitioner
        stranded = selectors.stranded_appointments(practitioner=practitioner, now=timezone.now())
        if stranded:
            self.message_user(
                request,
                f"{len(stranded)} booked session(s) now fall outside {practitioner.name}'s hours or in time "
                f"off: move or confirm them from {reverse('staff:hours', args=[practitioner.pk])}.",
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._warn_stranded(request, form.instance)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._warn_stranded(request, obj)


@admin.register(ClinicRules)
class ClinicRulesAdmin(AuditedAdmin):
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
class RoomAdmin(AuditedAdmin):
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
class PractitionerAdmin(WarnsOfStrandedBookings, AuditedAdmin):
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
class WorkingHoursAdmin(WarnsOfStrandedBookings, AuditedAdmin):
    list_display = ("practitioner", "weekday", "start", "end")
    list_filter = ("weekday", "practitioner")
    search_fields = ("practitioner__name",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from bookings import notifications  # hours added may suit someone waiting: offered after commit

        notifications.hours_opened([obj], now=timezone.now())


@admin.register(TimeOff)
class TimeOffAdmin(WarnsOfStrandedBookings, AuditedAdmin):
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


class PatientAdminForm(forms.ModelForm):
    """Contact details under the same checks as the staff and booking forms."""

    class Meta:
        model = Patient
        fields = ["name", "email", "phone"]

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        validate_phone(phone)
        return phone


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    form = PatientAdminForm
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
    date_hierarchy = "created_at"
    inlines = (AppointmentInline, QuestionnaireInline)
    actions = ("cancel_series",)

    def has_add_permission(self, request):
        return False  # series are booked through the booking services (patient or staff flow)

    def has_change_permission(self, request, obj=None):
        # Status and review flag follow the sessions and the answers: shown, changed only by the
        # services (the actions here, the staff pages, the patient's manage link).
        return False

    def has_cancel_permission(self, request):
        return request.user.has_perm("bookings.change_appointment")

    @admin.action(
        description="Cancel every booked session left (staff: the cutoff does not apply)", permissions=["cancel"]
    )
    def cancel_series(self, request, queryset):
        for series in queryset:
            try:
                cancelled = services.series_cancel_remaining(
                    series=series,
                    from_session=1,
                    by=request.user,
                    reason="Cancelled by staff",
                    for_staff=True,
                )
            except BookingError as refusal:
                self.message_user(request, f"{series}: {refusal.message}", messages.WARNING)
            else:
                done = f"{series}: {len(cancelled)} session(s) cancelled."
                self.message_user(request, done, messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelling never deletes a row


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("series", "flagged", "wording_version", "submitted_at")
    list_filter = ("wording_version",)
    search_fields = ("series__patient__name", "series__patient__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what the patient answered and agreed to, as they did

    def has_delete_permission(self, request, obj=None):
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


def _mark_action(status: str, description: str, done: str, permission: str):
    """An admin action recording `status` through services.appointment_mark."""

    @admin.action(description=description, permissions=[permission])
    def action(modeladmin, request, queryset):
        def mark_one(appointment):
            services.appointment_mark(appointment=appointment, status=status, by=request.user)

        _run(modeladmin, request, queryset, mark_one, done)

    action.__name__ = f"mark_{status}"
    return action


@admin.action(description="Cancel (staff: the cutoff does not apply)", permissions=["cancel"])
def cancel(modeladmin, request, queryset):
    def cancel_one(appointment):
        services.appointment_cancel(
            appointment=appointment, by=request.user, reason="Cancelled by staff", for_staff=True
        )

    _run(modeladmin, request, queryset, cancel_one, "cancelled")


@admin.action(description="Answers reviewed: clear the review flag", permissions=["clear_review"])
def clear_review(modeladmin, request, queryset):
    def clear_one(appointment):
        services.appointment_review_clear(appointment=appointment, by=request.user)

    _run(modeladmin, request, queryset, clear_one, "cleared for treatment")


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
    list_display = (
        "at", "action", "actor_label", "subject", "appointment", "series", "patient", "practitioner",
    )  # fmt: skip
    list_filter = ("action", "subject_kind", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_label", "series__patient__name", "series__patient__email", "patient__name",
                     "patient__email", "practitioner__name")
    list_select_related = ("series__patient", "series__treatment", "appointment__series__treatment",
                           "appointment__series__patient", "patient", "practitioner")
    readonly_fields = ("at", "action", "actor", "actor_label", "subject", "series", "appointment", "patient",
                       "practitioner", "before", "after")
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
    date_hierarchy = "start"
    actions = (
        _mark_action(Appointment.Status.CHECKED_IN, "Mark as checked in", "checked in", "mark"),
        _mark_action(Appointment.Status.COMPLETED, "Mark as completed", "completed", "mark"),
        _mark_action(
            Appointment.Status.NO_SHOW, "Mark as no-show (frees the time)", "marked as no-show", "cancel"
        ),
        cancel,
        clear_review,
    )
    inlines = (AuditEventInline,)

    def has_add_permission(self, request):
        return False  # booked through the services, which check spacing and double booking

    def has_change_permission(self, request, obj=None):
        # Times, status, review flag and reason change only through the actions (the services),
        # so no form can contradict the appointment's real state.
        return False

    # The actions need what the same buttons need in /staff/.
    def has_mark_permission(self, request):
        return request.user.has_perm("bookings.mark_appointment")

    def has_cancel_permission(self, request):
        return request.user.has_perm("bookings.change_appointment")

    def has_clear_review_permission(self, request):
        return request.user.has_perm("bookings.clear_review")

    def has_delete_permission(self, request, obj=None):
        return False  # cancelling never deletes a row


@admin.action(description="Send again (failed e-mails: pending now, attempts reset)", permissions=["resend"])
def send_again(modeladmin, request, queryset):
    count = outbox.messages_retry(ids=queryset.values_list("pk", flat=True), by=request.user)
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

    def has_resend_permission(self, request):
        return request.user.has_perm("bookings.change_outboxmessage")



# --- Eligibility rules (issue 13): versions, never edited --------------------------------------------


class EligibilityRuleForm(forms.ModelForm):
    key = forms.ChoiceField(label="Question", choices=())

    class Meta:
        model = EligibilityRule
        fields = ("key", "kind", "reason", "wait_months", "wait_days", "review")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(q.key, f"{q.key}: {q.text}") for q in QUESTIONS]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        waits = (cleaned.get("wait_months") or 0) + (cleaned.get("wait_days") or 0)
        if kind in (EligibilityRule.Kind.WAIT, EligibilityRule.Kind.DEFER) and not waits:
            self.add_error("wait_days", "A waiting rule needs a wait: give months, days or both.")
        if kind in (EligibilityRule.Kind.REFER, EligibilityRule.Kind.REVIEW) and waits:
            self.add_error("wait_days", "Only waiting rules have a wait: leave months and days at 0.")
        return cleaned


class EligibilityRuleInline(admin.TabularInline):
    model = EligibilityRule
    form = EligibilityRuleForm
    extra = 3

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and obj.pk else max(len(getattr(request, "_rules_initial", [])), 3)


@admin.register(EligibilityRules)
class EligibilityRulesAdmin(admin.ModelAdmin):
    """Publishing a version adds a row; a published version is only ever read (series name it)."""

    list_display = ("treatment", "version", "note", "created_by", "created_at", "in_use")
    list_filter = ("treatment",)
    fields = ("treatment", "note")
    inlines = (EligibilityRuleInline,)

    @admin.display(description="Used for new bookings", boolean=True)
    def in_use(self, obj):
        return not EligibilityRules.objects.filter(treatment=obj.treatment_id, version__gt=obj.version).exists()

    def has_change_permission(self, request, obj=None):
        return False  # a change is a new version: "Start a new version from this one"

    def has_delete_permission(self, request, obj=None):
        return False  # series booked under it name it

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        source = self._source(request)
        if source is not None:
            initial["treatment"] = source.treatment_id
        return initial

    def _source(self, request) -> EligibilityRules | None:
        """The version a new one starts from (?from=<id>)."""
        pk = request.GET.get("from", "")
        return EligibilityRules.objects.filter(pk=pk).first() if pk.isdigit() else None

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        source = self._source(request) if obj is None or obj.pk is None else None
        if source is not None and request.method == "GET":
            kwargs["initial"] = [
                {name: getattr(rule, name) for name in eligibility_services.RULE_FIELDS}
                for rule in source.rules.all()
            ]
        return kwargs

    def get_formsets_with_inlines(self, request, obj=None):
        source = self._source(request) if obj is None or obj.pk is None else None
        request._rules_initial = list(source.rules.all()) if source is not None else []
        return super().get_formsets_with_inlines(request, obj)

    def construct_change_message(self, request, form, formsets, add=False):
        return [{"added": {}}]  # the rows are the version's own (the audit trail lists them)

    def save_model(self, request, obj, form, change):
        pass  # published in save_related, through the service, once the rules are read

    def save_related(self, request, form, formsets, change):
        rules = [
            {name: row.cleaned_data[name] for name in eligibility_services.RULE_FIELDS}
            for formset in formsets
            for row in formset.forms
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
        ]
        # The form and its rows are valid (question choices, one rule per question): the service publishes.
        published = eligibility_services.rules_publish(
            treatment=form.cleaned_data["treatment"], rules=rules, note=form.cleaned_data["note"], by=request.user
        )
        form.instance.pk, form.instance.version = published.pk, published.version
        form.instance.created_at, form.instance.created_by = published.created_at, published.created_by

    def get_fields(self, request, obj=None):
        return ("treatment", "version", "note", "created_by", "created_at", "new_version") if obj else self.fields

    def get_readonly_fields(self, request, obj=None):
        return ("version", "created_by", "created_at", "new_version") if obj else ()

    @admin.display(description="Change these rules")
    def new_version(self, obj):
        url = reverse("admin:bookings_eligibilityrules_add") + f"?from={obj.pk}"
        return format_html('<a href="{}">Start a new version from this one</a> (this one stays as it is).', url)
