"""
Who can be booked (practitioners, rooms, their hours), who books (patients), and what is booked
(a Series of Appointments). Times are stored in UTC and shown in the clinic's zone.

The rule that matters most — a practitioner, a room or a patient is never in two active
appointments at once — is kept by PostgreSQL exclusion constraints created with SQL in migrations
0002 and 0008 (PostgreSQL is the only database: embedded for `make run`, a server elsewhere).
"""

import uuid
from datetime import time

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q

from treatments.models import Treatment


# Callables rather than fixed time values: Django's system check (fields.W161) otherwise warns
# whenever it happens to run within seconds of that time of day, failing `check --deploy`.
def default_morning_time() -> time:
    return time(8, 0)


def default_evening_time() -> time:
    return time(19, 0)


def default_message_time() -> time:
    return time(10, 0)


class ClinicRules(models.Model):
    """Clinic-wide booking rules: a single row, edited by a manager in the admin."""

    min_notice_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Patients cannot book or move a session sooner than this."
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=90, help_text="How far ahead a patient may book the first session of a series."
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Kept free after each appointment for cleaning and notes."
    )
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Inside this, patients must call the clinic to cancel or move."
    )
    slot_minutes = models.PositiveSmallIntegerField(default=30, help_text="Start times are offered on this grid.")

    # When the between-session e-mails go (bookings/reminders.py plans them; local clinic times).
    reminder_days_before = models.PositiveSmallIntegerField(
        default=2, help_text="A reminder goes this many days before each session, at the session's time of day "
        "(earlier when needed, so it arrives at least 12 hours before the cancellation cutoff, while its move or "
        "cancel link still works). 0: none.",
    )
    reminder_morning_time = models.TimeField(
        default=default_morning_time, null=True, blank=True,
        help_text="A reminder goes at this time on the morning of each session (at the latest an hour before "
        "it starts). Empty: none.",
    )
    aftercare_evening_time = models.TimeField(
        default=default_evening_time, null=True, blank=True,
        help_text="Aftercare advice goes at this time on the evening of each session (at the earliest an hour "
        "after it ends). Empty: none.",
    )
    aftercare_followup_days = models.PositiveSmallIntegerField(
        default=3, help_text="A second aftercare e-mail goes this many days after each session. 0: none."
    )
    next_session_days_before = models.PositiveSmallIntegerField(
        default=7, help_text="Between sessions, a 'your next session' e-mail goes this many days before sessions "
        "2 onwards. 0: none.",
    )
    alert_days_before_window_closes = models.PositiveSmallIntegerField(
        default=7, help_text="When a series has no next session booked, the patient is nudged the day its window "
        "opens and the front desk is alerted this many days before it closes.",
    )
    message_time = models.TimeField(
        default=default_message_time,
        help_text="Day-based e-mails (aftercare follow-up, next session, nudge, front-desk alert) go at this time.",
    )
    answers_open_days = models.PositiveSmallIntegerField(
        default=3, help_text="Patients can re-confirm their safety answers for a session from this many days before "
        "the session's day (the reminders link there).",
    )

    class Meta:
        verbose_name = "clinic rules"
        verbose_name_plural = "clinic rules"
        # Clinic-wide powers of the Manager group (granted by migration 0007).
        permissions = [
            ("use_admin", "Can use the back office (/admin/): managers"),
            ("lift_signin_lock", "Can lift a staff member's sign-in lock"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="clinic_rules_single_row"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="clinic_rules_slot_minutes"),
        ]

    def __str__(self):
        return "Clinic booking rules"

    @classmethod
    def load(cls) -> "ClinicRules":
        rules, _ = cls.objects.get_or_create(pk=1)
        return rules


class Room(models.Model):
    """A treatment room or device: booked alongside the practitioner when a treatment needs one."""

    name = models.CharField(max_length=80, unique=True)
    treatments = models.ManyToManyField(Treatment, related_name="rooms", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PractitionerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def performing(self, treatment):
        return self.active().filter(treatments=treatment)


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="practitioner"
    )
    name = models.CharField(max_length=120)
    treatments = models.ManyToManyField(Treatment, related_name="practitioners", blank=True)
    is_active = models.BooleanField(default=True)

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    """One block of a practitioner's regular week, in the clinic's local wall-clock time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["practitioner", "weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="working_hours_ordered")]

    def __str__(self):
        return f"{self.practitioner} {self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class TimeOff(models.Model):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="time_off_ordered")]
        indexes = [models.Index(fields=["practitioner", "start", "end"])]

    def __str__(self):
        return f"{self.practitioner} off {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"


class Patient(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField()
    phone = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["phone"])]

    def __str__(self):
        return self.name


class Series(models.Model):
    """A patient's course of one treatment: N appointments spaced by the treatment's window."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        ONLINE = "online", "Online"
        PHONE = "phone", "Phone (front desk)"

    # Public, unguessable identifier: the manage link signs this, never the integer id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="series")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="series")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ONLINE)
    needs_review = models.BooleanField(
        default=False, help_text="Questionnaire answers need a practitioner's review before treatment."
    )
    # Set when "this session and all later ones" were cancelled: the series now ends after this
    # session, so no later one is expected (no nudge, no front-desk alert). 0: nothing left.
    ends_after_session = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The rest of the series was cancelled after this session."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Eligibility (issue 13): the rules version the series was booked under (None: the treatment had
    # none), and the consultation series that let it start (None: none needed, valid one held, or lifted).
    eligibility_rules = models.ForeignKey(
        "bookings.EligibilityRules", on_delete=models.PROTECT, null=True, blank=True, related_name="series"
    )
    consultation = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The consultation booked with (or before) this series, when the treatment requires one.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "series"

    def __str__(self):
        return f"{self.treatment} for {self.patient}"

    @property
    def sessions_expected(self) -> int:
        """How many sessions the series runs to: the treatment's, unless the rest was cancelled."""
        planned = self.treatment.sessions_in_series
        return planned if self.ends_after_session is None else min(planned, self.ends_after_session)


class Questionnaire(models.Model):
    """Safety answers and consents given with a booking, kept with the wording they answered."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="questionnaires")
    answers = models.JSONField(default=dict)
    # The dates given with "yes" answers (question key -> ISO date: last dose, expected healing...).
    dates = models.JSONField(default=dict, blank=True)
    flagged = models.JSONField(default=list, help_text="Keys of answers that need a practitioner's review.")
    consent_treatment = models.BooleanField()
    consent_privacy = models.BooleanField()
    # The treatment's consent sentence exactly as the patient read it (staff may reword it later).
    consent_text = models.TextField(blank=True)
    wording_version = models.CharField(max_length=20)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"Questionnaire for {self.series} ({self.submitted_at:%Y-%m-%d})"


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Appointment.ACTIVE_STATUSES)

    def overlapping(self, start, end):
        """Appointments whose [start, end) intersects [start, end): the range-index query."""
        return self.filter(start__lt=end, end__gt=start)

    def blocking(self):
        """Rows that take a practitioner's, room's or patient's time: the active ones and waitlist holds."""
        return self.filter(status__in=Appointment.BLOCKING_STATUSES)

    def not_held(self):
        """Everything but waitlist holds: what a patient's timeline and calendar file show."""
        return self.exclude(status=Appointment.Status.HELD)


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"
        # A waitlist offer's reservation (bookings/waitlist_services.py): not the patient's session
        # (no reminders, not on their timeline) until they claim it, but it blocks the time.
        HELD = "held", "Held for a waitlist offer"

    # Statuses that hold the practitioner's (and room's) time. Mirrored in migration 0002.
    ACTIVE_STATUSES = (Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED)
    # What the exclusion constraints refuse to overlap (migration 0014): live sessions and holds.
    BLOCKING_STATUSES = (*ACTIVE_STATUSES, Status.HELD)

    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="appointments")
    # The series' patient, copied so the database can refuse a patient's overlapping appointments
    # (an exclusion constraint cannot look through a join). Migration 0008 ties the pair
    # (series, patient) to the series' own with a foreign key (ON UPDATE CASCADE): never out of step.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    session_number = models.PositiveSmallIntegerField()
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    # The reminder asks the patient to confirm their safety answers still hold (manage link).
    answers_confirmed_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(
        default=False, help_text="The patient said their safety answers changed: review before this session."
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # Goes up with every move, cancellation and status change (the services): a page that offers
    # a change carries the version it showed, and a change made from a stale page is refused.
    version = models.PositiveIntegerField(default=1)
    # The calendar event's revision (iCalendar SEQUENCE, bookings/ics.py): 0 when booked, one more
    # for each move or cancellation the patient is told about, so calendars keep the newest copy.
    sequence = models.PositiveIntegerField(default=0)
    # A hold (status "held") belongs to one waitlist offer and lasts until the offer expires.
    offer = models.ForeignKey(
        "bookings.Offer", on_delete=models.CASCADE, null=True, blank=True, related_name="holds"
    )
    held_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="appointment_ordered"),
            models.CheckConstraint(condition=Q(session_number__gte=1), name="appointment_session_number"),
            # One live appointment per session of a series; cancelled rows stay for the record.
            models.UniqueConstraint(
                fields=["series", "session_number"],
                condition=Q(status__in=["booked", "checked_in", "completed"]),
                name="appointment_one_active_per_session",
            ),
            # A hold always names its offer and its expiry; nothing else carries either.
            models.CheckConstraint(
                condition=(Q(status="held") & Q(offer__isnull=False) & Q(held_until__isnull=False))
                | (~Q(status="held") & Q(offer__isnull=True) & Q(held_until__isnull=True)),
                name="appointment_hold_has_offer",
            ),
        ]
        indexes = [
            models.Index(fields=["practitioner", "start", "end"]),
            models.Index(fields=["room", "start", "end"]),
            models.Index(fields=["start"]),
        ]
        # The staff workspace's roles (granted to groups by migration 0005).
        permissions = [
            ("view_all_diaries", "Can see every practitioner's diary and patients"),
            ("mark_appointment", "Can check a patient in and mark a session completed"),
            ("clear_review", "Can clear a questionnaire review flag"),
        ]

    def __str__(self):
        return f"{self.series} — session {self.session_number}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class OutboxMessageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=OutboxMessage.Status.PENDING, due_at__lte=now)

    def open(self):
        """Not sent, failed or cancelled yet: what a replan may still change."""
        return self.filter(status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING))


class OutboxMessage(models.Model):
    """One e-mail to send: the plan is data (bookings/outbox.py writes it, bookings/tasks.py sends it).

    `key` names the message itself (its kind, series, session and the time it was planned from),
    so planning the same message twice is refused by the database, not by hope.
    """

    class Kind(models.TextChoices):
        SERIES_BOOKED = "series_booked", "Booking confirmation"
        RESCHEDULED = "appointments_rescheduled", "Change confirmation: moved"
        CANCELLED = "appointments_cancelled", "Change confirmation: cancelled"
        REBOOKED = "appointments_rebooked", "Change confirmation: booked again"
        REMINDER = "reminder", "Reminder (days before)"
        REMINDER_MORNING = "reminder_morning", "Reminder (morning of)"
        AFTERCARE = "aftercare", "Aftercare (evening)"
        AFTERCARE_FOLLOWUP = "aftercare_followup", "Aftercare (follow-up)"
        NEXT_SESSION = "next_session", "Your next session"
        NUDGE = "nudge", "Nudge: next session not booked"
        FRONT_DESK_ALERT = "front_desk_alert", "Front desk: next session not booked"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist: a sooner time is offered"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="outbox_messages")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox_messages"
    )
    # The session the message is about (0: the whole series), and the start it was planned from:
    # a session that moves no longer matches, so its old messages are stale and never sent.
    session_number = models.PositiveSmallIntegerField(default=0)
    anchor_at = models.DateTimeField(help_text="The session start (or change) this message was planned from.")
    # Change confirmations list the appointments that changed.
    appointment_ids = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Who is sending it: the dispatcher's claim (one per batch) and when; a claim older than the
    # lease (settings.OUTBOX_CLAIM_LEASE_SECONDS) belonged to a worker that died, and is taken over.
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = "outgoing e-mail"
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="outbox_sent_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claim__isnull=False), name="outbox_sending_has_claim"
            ),
        ]
        indexes = [
            # The dispatcher's query: due pending rows, oldest first (small: sent rows are not in it).
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="outbox_sending_claimed"),
            models.Index(fields=["claim"], name="outbox_claim"),
            models.Index(fields=["status", "due_at"], name="outbox_status_due"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.series_id} due {self.due_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """One change to a record: who made it, when, and the record before and after.

    Most are about an appointment (the booking services record its whole snapshot); others about a
    patient, a practitioner and their hours or time off, the clinic rules, an e-mail sent again or a
    staff member's sign-in lock (the fields that changed). `subject_kind` and `subject_id` name the
    record ("bookings.timeoff", 12) even once it is deleted; the foreign keys place the event on a
    series, a patient's or a practitioner's history.

    Written by bookings/audit.py inside the change's own transaction, so a change and its record
    commit or roll back together. Never edited: the admin shows it read-only.
    """

    class Action(models.TextChoices):
        BOOKED = "booked", "Booked"
        MOVED = "moved", "Moved"
        CANCELLED = "cancelled", "Cancelled"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        ANSWERS_CONFIRMED = "answers_confirmed", "Safety answers re-confirmed"
        REVIEW_CLEARED = "review_cleared", "Review flag cleared"
        UNDONE = "undone", "Status change undone"
        PATIENT_CHANGED = "patient_changed", "Patient's details changed"
        PATIENTS_MERGED = "patients_merged", "Patient records merged"
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"
        RESENT = "resent", "E-mail sent again"
        SIGNIN_UNLOCKED = "signin_unlocked", "Sign-in lock lifted"

    subject_kind = models.CharField(max_length=64, default="bookings.appointment")
    subject_id = models.BigIntegerField(null=True, blank=True)
    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text too: it names patients (no user) and survives the user's deletion.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=24, choices=Action.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        # The clinic-wide history (staff/history.py): managers; practitioners see their own patients'.
        permissions = [("view_history", "Can see the clinic-wide history of every patient")]
        indexes = [
            models.Index(fields=["appointment", "at"]),
            models.Index(fields=["series", "at"]),
            models.Index(fields=["patient", "at"], name="audit_patient_at"),
            models.Index(fields=["practitioner", "at"], name="audit_practitioner_at"),
            models.Index(fields=["subject_kind", "subject_id"], name="audit_subject"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} by {self.actor_label} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def subject(self) -> str:
        """What the event is about, in words ("time off #12")."""
        try:
            name = apps.get_model(self.subject_kind)._meta.verbose_name
        except (LookupError, ValueError):
            name = self.subject_kind
        return f"{name} #{self.subject_id}" if self.subject_id is not None else str(name)


# --- The waitlist (issue 13 §3; bookings/waitlist.py matches, bookings/waitlist_services.py writes) ---


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=WaitlistEntry.Status.WAITING)


class WaitlistEntry(models.Model):
    """A session waiting for a sooner time: a series' session, or a new patient's first session.

    First come, first served: `created_at` ranks entries (bookings/waitlist.py). The days and times
    that suit are the clinic's local wall clock.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a time"
        FULFILLED = "fulfilled", "Moved sooner"
        WITHDRAWN = "withdrawn", "Withdrawn"

    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="waitlist_entries")
    # A running series' session (the manage link); empty for a new patient's first session.
    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, null=True, blank=True, related_name="waitlist_entries"
    )
    session_number = models.PositiveSmallIntegerField(default=1)
    # A new patient's details (the series' patient otherwise).
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    weekdays = models.JSONField(default=list, blank=True, help_text="Days that suit (Monday = 0); empty: any.")
    times = models.JSONField(
        default=list, blank=True, help_text='Local time ranges that suit, e.g. [["09:00", "12:00"]]; empty: any.'
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            # One live wish per session of a series (asking twice updates the days and times).
            models.UniqueConstraint(
                fields=["series", "session_number"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_one_live_entry_per_session",
            ),
            models.CheckConstraint(
                condition=Q(series__isnull=False) | (~Q(email="") & ~Q(name="") & Q(session_number=1)),
                name="waitlist_new_patient_has_details",
            ),
            models.CheckConstraint(condition=Q(session_number__gte=1), name="waitlist_session_number"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="waitlist_status_created")]

    def __str__(self):
        return f"{self.patient_name}: {self.treatment} session {self.session_number} sooner"

    @property
    def is_new_patient(self) -> bool:
        """A new patient's first session (their series is made when a time is offered)."""
        return bool(self.email)

    @property
    def patient_name(self) -> str:
        return self.name or self.series.patient.name


class Offer(models.Model):
    """A freed time offered to one waiting entry: held (Appointment rows, status "held") until it
    expires, claimed in one click from the e-mail. `proposed` keeps the times offered for the record
    (the hold rows go once the offer is claimed, expires or is released)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        EXPIRED = "expired", "Expired"
        RELEASED = "released", "Released"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="offers")
    # [{"number", "start", "end", "practitioner_id", "room_id"}]: the session first, then the later
    # sessions it moves, ISO instants in UTC.
    proposed = models.JSONField(default=list)
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open offer per entry at a time.
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="open"), name="offer_one_open_per_entry"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False), name="offer_closed_has_time"
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], condition=Q(status="open"), name="offer_open_expiry")]

    def __str__(self):
        return f"Offer to {self.entry.patient_name} ({self.get_status_display()})"


# Eligibility rules, versions and overrides (issue 13) live in their own module.
from bookings.eligibility_models import (  # noqa: E402, F401
    EligibilityFlag,
    EligibilityOverride,
    EligibilityRule,
    EligibilityRules,
)
