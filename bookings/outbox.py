"""
The outbox: every e-mail is a row (OutboxMessage) before it is a message.

Writing the plan happens inside the booking services' transactions, so a booking that rolls back
plans nothing, and a committed change always has its rows:

- `confirmation_add` writes a booked/moved/cancelled confirmation, due now;
- `series_replan` makes the series' reminders, aftercare, next-session e-mails, nudge and
  front-desk alert match its sessions (bookings/reminders.py decides what and when).

Sending happens in Celery (bookings/tasks.py):

- `messages_claim_due` (beat, every minute) claims due rows in batches with
  SELECT … FOR UPDATE SKIP LOCKED: each row goes to exactly one batch, whoever else is claiming.
- `messages_send` sends one batch over one SMTP connection, one row at a time, each in its own
  transaction: a conditional UPDATE wins the row (still this batch's, still unsent) and marks it
  sent, the row is checked to be still wanted, the server takes the message, COMMIT.

Delivery is at-least-once, on purpose. A row is marked sent in the same transaction that holds its
lock while the mail server accepts the message, so nobody else can send it meanwhile; but if the
worker dies in the instant between the server's "250 accepted" and our COMMIT, the row is still
"sending" and is sent again once its claim expires (OUTBOX_CLAIM_LEASE_SECONDS). The opposite
order (commit "sent", then talk to the server) would lose the e-mail instead: a patient would
miss a reminder or a confirmation, which is worse than a rare duplicate. Each row carries a fixed
Message-ID (emails.message_id), so a duplicate is recognisable as the same message.
"""

from __future__ import annotations

import logging
import re
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from bookings import emails, reminders
from bookings.audit import SYSTEM, audit_record
from bookings.models import Appointment, AuditEvent, ClinicRules, OutboxMessage, Series

logger = logging.getLogger(__name__)

Kind, Status = OutboxMessage.Kind, OutboxMessage.Status
# Sent only while their session is still ahead: a reminder after the session began is noise.
BEFORE_SESSION = {Kind.REMINDER, Kind.REMINDER_MORNING, Kind.NEXT_SESSION}
STALE = "Not sent: the plan changed (the session moved, was cancelled or has passed)."
LEASE_EXPIRED = "The worker sending this stopped before finishing; it was handed out again."


# A mail server's refusal names the recipient: logs (and the Celery task's failure) say "<address>".
_ADDRESS = re.compile(r"[^\s<>'\"(){}\[\],;:]+@[^\s<>'\"(){}\[\],;:]+")


def without_addresses(error: Exception) -> str:
    """The error's repr with every e-mail address in it replaced, fit for a log line."""
    return _ADDRESS.sub("<address>", repr(error))


class MailServerError(Exception):
    """The mail server failed for `message_id`; it may be tried again (`retry`) after a pause."""

    def __init__(self, message_id: int, attempts: int, retry: bool, error: Exception):
        failed = without_addresses(error)
        super().__init__(f"Outbox message {message_id}: attempt {attempts} failed: {failed}")
        self.message_id, self.attempts, self.retry = message_id, attempts, retry


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def timings(rules: ClinicRules) -> reminders.Timings:
    return reminders.Timings(
        reminder_days_before=rules.reminder_days_before,
        cancellation_cutoff_hours=rules.cancellation_cutoff_hours,
        reminder_morning_time=rules.reminder_morning_time,
        aftercare_evening_time=rules.aftercare_evening_time,
        aftercare_followup_days=rules.aftercare_followup_days,
        next_session_days_before=rules.next_session_days_before,
        alert_days_before_window_closes=rules.alert_days_before_window_closes,
        message_time=rules.message_time,
    )


def series_state(series: Series, appointments: Iterable[Appointment]) -> reminders.SeriesState:
    """The series as the pure planner sees it: its live appointments as plain values."""
    treatment = series.treatment
    return reminders.SeriesState(
        series_id=series.pk,
        active=series.status == Series.Status.ACTIVE,
        sessions_in_series=series.sessions_expected,  # fewer once the rest was cancelled
        min_days_between=treatment.min_days_between,
        max_days_between=treatment.max_days_between,
        sessions=tuple(
            reminders.Session(a.session_number, a.pk, a.start, a.end, a.status)
            for a in appointments
            if a.is_active
        ),
    )


def series_plan(
    series: Series, appointments: Iterable[Appointment], rules: ClinicRules
) -> list[reminders.Planned]:
    return reminders.plan(series_state(series, appointments), timings(rules), clinic_zone())


# --- Writing the plan (inside the services' transactions) -------------------------------------------


def confirmation_add(
    *, kind: str, series: Series, appointments: Iterable[Appointment] = (), now: datetime
) -> OutboxMessage:
    """A confirmation of a change made in the current transaction, due now.

    Its key carries a fresh id: each committed change is its own event, and the row commits or
    rolls back with the change itself, so it exists exactly once per change.
    """
    ids = [appointment.pk for appointment in appointments]
    return OutboxMessage.objects.create(
        key=f"{kind}:{series.pk}:{uuid.uuid4().hex}",
        kind=kind,
        series=series,
        session_number=min((a.session_number for a in appointments), default=0),
        anchor_at=now,
        appointment_ids=ids,
        due_at=now,
    )


def series_replan(*, series: Series, now: datetime) -> None:
    """Make the series' planned e-mails match its sessions as they are now in this transaction."""
    # Lock the series row: two services changing different sessions of one series at once would
    # each plan from a snapshot without the other's change. The services lock appointments before
    # the series, and so does this (they call it last), so the order is the same everywhere.
    series = Series.objects.select_for_update().select_related("treatment").get(pk=series.pk)
    rules = ClinicRules.load()
    planned = series_plan(series, series.appointments.active(), rules)
    wanted = {message.key: message for message in planned}

    # Planned earlier, gone from the plan now: moved, cancelled, no-show, a window that moved.
    # A row a worker is sending right now is locked by it; this UPDATE waits for that commit and
    # then leaves the row alone (PostgreSQL re-checks the status): that e-mail went out before
    # the change, which is the order things happened in.
    stale = (
        series.outbox_messages.open().filter(kind__in=reminders.PLANNED_KINDS).exclude(key__in=list(wanted))
    )
    stale.update(status=Status.CANCELLED, claim=None, claimed_at=None, last_error=STALE, updated_at=now)

    # Only what is still ahead: a session booked tomorrow gets no "2 days before" reminder.
    future = {key: message for key, message in wanted.items() if message.due_at > now}
    existing = {row.key: row for row in series.outbox_messages.filter(key__in=list(future))}
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                key=message.key,
                kind=message.kind,
                series=series,
                appointment_id=message.appointment_id,
                session_number=message.session_number,
                anchor_at=message.anchor_at,
                due_at=message.due_at,
            )
            for key, message in future.items()
            if key not in existing
        ],
        # The series lock means no one else inserts these keys now; the unique key is the
        # guarantee all the same, and a conflict means the row is already there.
        ignore_conflicts=True,
    )
    for key, row in existing.items():
        # Moved away and back again (cancelled row revived), or new timings in the admin.
        due = future[key].due_at
        if row.status == Status.CANCELLED or (row.status == Status.PENDING and row.due_at != due):
            row.status, row.due_at, row.last_error = Status.PENDING, due, ""
            row.save(update_fields=["status", "due_at", "last_error", "updated_at"])


def series_replan_all(*, now: datetime | None = None) -> int:
    """Replan every active series (after the clinic changed the e-mail timings); how many."""
    now = now or timezone.now()
    count = 0
    for series in Series.objects.filter(status=Series.Status.ACTIVE).order_by("pk").iterator():
        with transaction.atomic():  # one series at a time: short locks, progress kept if stopped
            series_replan(series=series, now=now)
        count += 1
    return count


# --- Claiming -------------------------------------------------------------------------------------


def messages_claim_due(
    *,
    now: datetime | None = None,
    on_claim: Callable[[uuid.UUID], None],
    batch_size: int | None = None,
    limit: int | None = None,
) -> int:
    """Claim due rows in batches (and expired claims of dead workers); `on_claim` each after commit."""
    now = now or timezone.now()
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    limit = limit or settings.OUTBOX_DISPATCH_LIMIT
    claims_expired(now=now)
    claimed = 0
    while claimed < limit:
        with transaction.atomic():
            # SKIP LOCKED: a second dispatcher running at the same moment takes the next rows
            # instead of the same ones (or waiting); rows a service is replanning are skipped too
            # and come back next minute if they are still due.
            ids = list(
                OutboxMessage.objects.due(now)
                .order_by("due_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[: min(batch_size, limit - claimed)]
            )
            if not ids:
                break
            claim = _claim(ids, now)
            transaction.on_commit(partial(on_claim, claim))
        claimed += len(ids)
    return claimed


def messages_claim(*, ids: list[int], now: datetime | None = None) -> uuid.UUID | None:
    """Claim these rows if they are still pending (the confirmations' prompt path), else None."""
    now = now or timezone.now()
    with transaction.atomic():
        # The dispatcher may have claimed a due confirmation first: then it sends it, not us.
        ids = list(
            OutboxMessage.objects.filter(pk__in=ids, status=Status.PENDING)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        return _claim(ids, now) if ids else None


def _claim(ids: list[int], now: datetime) -> uuid.UUID:
    claim = uuid.uuid4()
    OutboxMessage.objects.filter(pk__in=ids).update(
        status=Status.SENDING, claim=claim, claimed_at=now, updated_at=now
    )
    return claim


def claims_expired(*, now: datetime) -> int:
    """Hand out again rows whose claim outlived the lease: their worker died (or lost the task)."""
    lease = timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    released = 0
    with transaction.atomic():
        # A row a live worker is sending is locked by it: SKIP LOCKED leaves it to that worker.
        expired = list(
            OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - lease).select_for_update(
                skip_locked=True
            )
        )
        for row in expired:
            # Counted as an attempt, so a message that kills its worker every time ends up failed
            # (where staff see it) instead of being handed out for ever.
            row.attempts += 1
            row.status = Status.FAILED if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS else Status.PENDING
            row.claim = row.claimed_at = None
            row.last_error = LEASE_EXPIRED
            row.save(update_fields=["attempts", "status", "claim", "claimed_at", "last_error", "updated_at"])
            released += 1
    if released:
        logger.warning("Outbox: %d message(s) of a stopped worker handed out again", released)
    return released


# --- Sending --------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Exponential backoff after the `attempts`-th failure, capped (kept far below the lease)."""
    base = settings.OUTBOX_RETRY_BACKOFF_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_BACKOFF_MAX_SECONDS)


def messages_send(*, claim: uuid.UUID, now: Callable[[], datetime] = timezone.now) -> SendReport:
    """Send the rows of one claim over one mail connection; raise MailServerError to retry later.

    Each row is won before it is sent: one that was sent, cancelled or handed to a newer claim
    meanwhile is skipped; one whose session moved or was cancelled is marked cancelled (stale).
    On a mail-server error the rest of the batch goes back to pending (for the next dispatch, so
    one troubled message does not hold up the others) and the caller retries the failing row with
    backoff; after OUTBOX_MAX_ATTEMPTS it is marked failed.
    """
    # The batch's rows with their series and patient, read once: the per-row work below is one
    # UPDATE, one read of the series' sessions, the SMTP exchange and the COMMIT.
    messages = list(
        OutboxMessage.objects.filter(claim=claim, status=Status.SENDING)
        .select_related("series__patient", "series__treatment")
        .order_by("due_at", "pk")
    )
    report = SendReport()
    if not messages:
        return report
    rules = ClinicRules.load()
    mail = get_connection()
    opened = False
    try:
        for index, message in enumerate(messages):
            try:
                opened = _send_one(message, claim, mail, rules, report, opened=opened, now=now)
            except MailServerError:
                _release([later.pk for later in messages[index + 1 :]], claim)
                raise
    finally:
        if opened:
            mail.close()
    return report


def _send_one(
    message: OutboxMessage,
    claim: uuid.UUID,
    mail,
    rules: ClinicRules,
    report: SendReport,
    *,
    opened: bool,
    now,
) -> bool:
    """Send one row of the claim in its own transaction; return whether the mail connection is open."""
    pk = message.pk
    failure = None
    with transaction.atomic():
        # Do not wait for the disk at COMMIT. If PostgreSQL itself crashed in the next fraction
        # of a second (wal_writer_delay), this row's "sent" would be lost and the e-mail sent
        # again after the lease: the same at-least-once as a worker dying after "250", so
        # flushing on every e-mail buys no guarantee, only a slower outbox (most of its cost
        # per message on a busy disk; see bench/reminders.py).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Win the row first: a conditional UPDATE that marks it sent only if this claim still
        # holds it. It takes the row lock until COMMIT, i.e. through the SMTP exchange below, so:
        # - a duplicate delivery of this batch waits here, then finds claim/status changed: skip;
        # - a service cancelling or moving the session waits for our COMMIT, then leaves the sent
        #   row alone (the e-mail went before the change); a service that committed first has
        #   cancelled the row already, and this UPDATE matches nothing.
        # If sending fails, the same transaction rewrites the row (below); if the worker dies,
        # PostgreSQL rolls it back and the row is still "sending" under this claim (lease).
        sent_at = now()
        won = OutboxMessage.objects.filter(pk=pk, claim=claim, status=Status.SENDING).update(
            status=Status.SENT, sent_at=sent_at, attempts=F("attempts") + 1, claim=None, last_error="",
            updated_at=sent_at,
        )  # fmt: skip
        if not won:
            report.skipped.append(pk)
            return opened
        attempts = message.attempts + 1  # only this claim's holder changes attempts
        # Read after winning the row, so a change committed before it is seen.
        appointments = list(message.series.appointments.select_related("practitioner"))
        if not still_wanted(message, appointments, rules, now=sent_at):
            _rewrite(pk, Status.CANCELLED, attempts=attempts - 1, error=STALE)
            report.stale.append(pk)
            return opened
        email = emails.build(message, appointments=appointments, rules=rules)
        try:
            if not opened:
                mail.open()
                opened = True
            mail.send_messages([email])
        except (smtplib.SMTPRecipientsRefused, ValueError) as error:
            # The server refused this address, or the mail library refused a header: trying the
            # same message again cannot help. Marked failed for staff; the batch goes on.
            _rewrite(pk, Status.FAILED, attempts=attempts, error=repr(error))
            report.failed.append(pk)
            logger.error("Outbox message %s failed for good: %s", pk, without_addresses(error))
            return opened
        except (smtplib.SMTPException, OSError) as error:
            # The server (or the network) failed: record the attempt. The row stays with this
            # claim for the task's retry, with claimed_at renewed so its lease covers the wait.
            gave_up = attempts >= settings.OUTBOX_MAX_ATTEMPTS
            status = Status.FAILED if gave_up else Status.SENDING
            _rewrite(
                pk,
                status,
                attempts=attempts,
                error=repr(error),
                claim=None if gave_up else claim,
                claimed_at=now(),
            )
            failure = MailServerError(pk, attempts, retry=not gave_up, error=error)
        else:
            report.sent.append(pk)
    if failure is not None:
        # Raised outside the atomic block, so the attempt recorded above is committed.
        if opened:
            mail.close()  # it may be broken: the retry opens a fresh one
        logger.warning("%s", failure)
        raise failure
    return opened


def _rewrite(pk: int, status: str, *, attempts: int, error: str, claim=None, claimed_at=None) -> None:
    """Replace the optimistic "sent" of this transaction with what really happened."""
    values = {"status": status, "attempts": attempts, "last_error": error, "sent_at": None, "claim": claim}
    if claimed_at is not None:
        values["claimed_at"] = claimed_at
    OutboxMessage.objects.filter(pk=pk).update(**values, updated_at=timezone.now())


def _release(ids: list[int], claim: uuid.UUID) -> None:
    """Give the untried rest of a batch back to the dispatcher (only rows this claim still holds)."""
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, claim=claim, status=Status.SENDING).update(
            status=Status.PENDING, claim=None, claimed_at=None, updated_at=timezone.now()
        )


def still_wanted(
    message: OutboxMessage, appointments: list[Appointment], rules: ClinicRules, *, now: datetime
) -> bool:
    """Whether the row may still go: confirmations always; planned e-mails while the plan has them."""
    if message.kind not in reminders.PLANNED_KINDS:
        return True  # a confirmation describes a change that was committed: it stays true
    if message.kind in BEFORE_SESSION and message.anchor_at <= now:
        return False
    return any(planned.key == message.key for planned in series_plan(message.series, appointments, rules))


# --- Staff -----------------------------------------------------------------------------------------


def messages_retry(*, ids: Iterable[int], by=None, now: datetime | None = None) -> int:
    """Staff send failed rows again: pending, due now, attempts reset; each one audited."""
    now = now or timezone.now()
    with transaction.atomic():
        # Only these rows, and only while still failed (a dispatcher never claims a failed row).
        failed = list(
            OutboxMessage.objects.filter(pk__in=list(ids), status=Status.FAILED)
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        before = [(message, {"status": message.status, "attempts": message.attempts}) for message in failed]
        OutboxMessage.objects.filter(pk__in=[message.pk for message in failed]).update(
            status=Status.PENDING, due_at=now, attempts=0, claim=None, claimed_at=None, updated_at=now
        )
        for message in failed:
            message.status, message.attempts, message.due_at = Status.PENDING, 0, now
        audit_record(action=AuditEvent.Action.RESENT, changes=before, by=by, default_actor=SYSTEM, at=now)
    return len(failed)
