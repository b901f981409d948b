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
- `messages_send` sends one batch over one SMTP connection, one row at a time, in three steps:
  a short transaction wins the row (a conditional UPDATE hands it from the batch's claim to this
  attempt's own) and checks it is still wanted; the mail server takes the message outside any
  transaction; another short transaction records it sent (or the failure).

No lock is held while a mail server takes its time (up to EMAIL_TIMEOUT): a service changing the
series meanwhile neither waits for it nor makes every other booking wait behind it. A row that
a service cancels while it is being sent keeps its attempt's claim, and is recorded sent when the
server has taken it (it did go out, before the change).

Delivery is at-least-once, on purpose. If the worker dies between the server's "250 accepted"
and the record, the row is still "sending" and is sent again once its claim expires
(OUTBOX_CLAIM_LEASE_SECONDS). The opposite order (record "sent", then talk to the server) would
lose the e-mail instead: a patient would miss a reminder or a confirmation, which is worse than a
rare duplicate. Each row carries a fixed Message-ID (emails.message_id), so a duplicate is
recognisable as the same message.
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
from django.utils import timezone

from bookings import emails, reminders
from bookings.audit import SYSTEM, audit_record
from bookings.errors import BookingError, Code
from bookings.locks import series_lock
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
    message = _confirmation(kind=kind, series=series, appointments=appointments, now=now)
    message.save()
    return message


def _confirmation(
    *, kind: str, series: Series, appointments: Iterable[Appointment], now: datetime
) -> OutboxMessage:
    appointments = list(appointments)
    return OutboxMessage(
        key=f"{kind}:{series.pk}:{uuid.uuid4().hex}",
        kind=kind,
        series=series,
        session_number=min((a.session_number for a in appointments), default=0),
        anchor_at=now,
        appointment_ids=[appointment.pk for appointment in appointments],
        due_at=now,
    )


def _planned_row(series: Series, message: reminders.Planned) -> OutboxMessage:
    return OutboxMessage(
        key=message.key,
        kind=message.kind,
        series=series,
        appointment_id=message.appointment_id,
        session_number=message.session_number,
        anchor_at=message.anchor_at,
        due_at=message.due_at,
    )


def series_first_plan(
    *, series: Series, appointments: list[Appointment], rules: ClinicRules, now: datetime
) -> OutboxMessage:
    """A series booked in this transaction: its confirmation and planned e-mails in one INSERT.

    Nothing was planned for it before, so there is nothing to read, cancel or revive (series_replan
    does that for a series that changes); returns the confirmation.
    """
    confirmation = _confirmation(kind=Kind.SERIES_BOOKED, series=series, appointments=(), now=now)
    planned = [message for message in series_plan(series, appointments, rules) if message.due_at > now]
    OutboxMessage.objects.bulk_create([confirmation, *(_planned_row(series, message) for message in planned)])
    return confirmation


def series_replan(*, series: Series, now: datetime) -> None:
    """Make the series' planned e-mails match its sessions as they are now in this transaction.

    The caller holds the series' lock (bookings/locks.py: every service takes it first), so two
    changes to one series never plan from snapshots without each other's change. Read afresh here:
    the caller's object may predate its own change of the series' status.
    """
    series = Series.objects.select_related("treatment").get(pk=series.pk)
    rules = ClinicRules.load()
    planned = series_plan(series, series.appointments.active(), rules)
    wanted = {message.key: message for message in planned}

    # Planned earlier, gone from the plan now: moved, cancelled, no-show, a window that moved.
    # A row a worker is sending right now is still "sending" and is cancelled too; its claim stays,
    # so when the mail server has taken it the worker records it sent (it did go out, before the
    # change: the order things happened in). Nothing here waits for a mail server.
    stale = (
        series.outbox_messages.open().filter(kind__in=reminders.PLANNED_KINDS).exclude(key__in=list(wanted))
    )
    stale.update(status=Status.CANCELLED, last_error=STALE, updated_at=now)

    # Only what is still ahead: a session booked tomorrow gets no "2 days before" reminder.
    future = {key: message for key, message in wanted.items() if message.due_at > now}
    existing = {row.key: row for row in series.outbox_messages.filter(key__in=list(future))}
    OutboxMessage.objects.bulk_create(
        [_planned_row(series, message) for key, message in future.items() if key not in existing],
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
        try:
            with transaction.atomic():  # one series at a time: short locks, progress kept if stopped
                series_lock(series.pk)
                series_replan(series=series, now=now)
        except BookingError as refusal:
            if refusal.code != Code.BUSY:
                raise
            # Someone is changing this series right now; their change replans it (with the new
            # timings, already saved) before it commits.
            continue
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
    # UPDATE and one read of the series' sessions, the SMTP exchange, and one UPDATE to record it.
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
    """Send one row of the claim; return whether the mail connection is open.

    Three steps, and no lock is held while the mail server takes its time (up to EMAIL_TIMEOUT):
    win and check the row in a short transaction, talk to the server outside any transaction,
    record what happened in another short one (pretix's mail_send_task does the same).
    """
    pk = message.pk
    # 1. Win the row: a conditional UPDATE that hands it from the batch's claim to this attempt's
    # own, only if the batch still holds it. A duplicate delivery of this batch then finds the
    # claim changed and skips it; a row a service cancelled (or a newer claim took) meanwhile is
    # skipped too. Checked against the sessions read after winning it, so a change committed
    # before it is seen. If the worker dies from here on, the row is "sending" under this
    # attempt's claim and is handed out again once the lease expires (at-least-once).
    attempt = uuid.uuid4()
    attempts = message.attempts + 1  # only the claim's holder changes attempts
    with transaction.atomic():
        checked_at = now()
        won = OutboxMessage.objects.filter(pk=pk, claim=claim, status=Status.SENDING).update(
            claim=attempt, claimed_at=checked_at, updated_at=checked_at
        )
        if not won:
            report.skipped.append(pk)
            return opened
        appointments = list(message.series.appointments.select_related("practitioner"))
        if not still_wanted(message, appointments, rules, now=checked_at):
            _record(pk, attempt, status=Status.CANCELLED, claim=None, last_error=STALE)
            report.stale.append(pk)
            return opened
        email = emails.build(message, appointments=appointments, rules=rules)
    # 2. The SMTP exchange, outside any transaction. A service that changes the series meanwhile
    # does not wait for it: it may cancel the row ("stale"), keeping this attempt's claim, and
    # step 3 then records the truth: the e-mail went out, before the change.
    try:
        if not opened:
            mail.open()
            opened = True
        mail.send_messages([email])
    except (smtplib.SMTPRecipientsRefused, ValueError) as error:
        # The server refused this address, or the mail library refused a header: trying the same
        # message again cannot help. Marked failed for staff (unless cancelled meanwhile); the
        # batch goes on.
        _record(
            pk,
            attempt,
            still_sending=True,
            status=Status.FAILED,
            attempts=attempts,
            claim=None,
            last_error=repr(error),
        )
        report.failed.append(pk)
        logger.error("Outbox message %s failed for good: %s", pk, without_addresses(error))
        return opened
    except (smtplib.SMTPException, OSError) as error:
        # The server (or the network) failed: record the attempt. The row goes back to the
        # batch's claim for the task's retry, with claimed_at renewed so its lease covers the wait.
        gave_up = attempts >= settings.OUTBOX_MAX_ATTEMPTS
        _record(
            pk,
            attempt,
            still_sending=True,
            status=Status.FAILED if gave_up else Status.SENDING,
            attempts=attempts,
            claim=None if gave_up else claim,
            claimed_at=now(),
            last_error=repr(error),
        )
        failure = MailServerError(pk, attempts, retry=not gave_up, error=error)
        if opened:
            mail.close()  # it may be broken: the retry opens a fresh one
        logger.warning("%s", failure)
        raise failure from error
    # 3. The server took it ("250"): record it sent, whatever a service did to the row meanwhile.
    sent_at = now()
    _record(pk, attempt, status=Status.SENT, sent_at=sent_at, attempts=attempts, claim=None, last_error="")
    report.sent.append(pk)
    return opened


def _record(pk: int, attempt: uuid.UUID, *, still_sending: bool = False, **values) -> None:
    """Write what happened to this attempt's row, in a short transaction of its own.

    Only while the row still carries this attempt's claim (a lease that expired meanwhile handed
    it to someone else); with `still_sending`, only while nobody cancelled it meanwhile either.
    """
    rows = OutboxMessage.objects.filter(pk=pk, claim=attempt)
    if still_sending:
        rows = rows.filter(status=Status.SENDING)
    with transaction.atomic():
        # Do not wait for the disk at COMMIT. If PostgreSQL itself crashed in the next fraction
        # of a second (wal_writer_delay), this row's "sent" would be lost and the e-mail sent
        # again after the lease: the same at-least-once as a worker dying after "250", so
        # flushing on every e-mail buys no guarantee, only a slower outbox (most of its cost
        # per message on a busy disk; see bench/reminders.py).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows.update(**values, updated_at=timezone.now())


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
    if message.kind == Kind.WAITLIST_OFFER:
        # An offer claimed, released or expired meanwhile: its e-mail would offer nothing.
        from bookings import waitlist_services  # it imports the services, which import this module

        offer = waitlist_services.offer_of(message)
        return offer is not None and offer.status == offer.Status.OPEN and offer.expires_at > now
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
