"""
What happens later: the e-mail outbox's dispatcher and senders (Celery).

Thin and idempotent: each task takes ids or a claim, re-reads the rows and calls bookings/outbox.py.
No task waits days in the broker (no ETA, no long countdown): Redis re-delivers a message it has
held longer than its visibility timeout, so far-off e-mails wait as rows, and the dispatcher
(beat, every minute) hands them out when they are due. The only countdowns are retry backoffs,
capped at OUTBOX_RETRY_BACKOFF_MAX_SECONDS, well inside the visibility timeout (one hour).
"""

import uuid

from celery import shared_task

from bookings import outbox


@shared_task(ignore_result=True)
def dispatch_due() -> int:
    """Claim every due e-mail in batches and hand each batch to `send_claimed` once claimed."""
    return outbox.messages_claim_due(on_claim=send_claimed_later)


def send_claimed_later(claim: uuid.UUID) -> None:
    send_claimed.delay(str(claim))


# acks_late: a worker that dies mid-batch leaves the broker message unacknowledged (Redis hands
# it out again after its visibility timeout). Either way the rows it had not sent are handed out
# again by the dispatcher once their claim's lease expires, and whatever runs the claim again
# skips the rows already sent.
@shared_task(bind=True, acks_late=True, ignore_result=True)
def send_claimed(self, claim: str) -> None:
    """Send one claimed batch; on a mail-server error retry its failing row with backoff."""
    try:
        outbox.messages_send(claim=uuid.UUID(claim))
    except outbox.MailServerError as error:
        if error.retry:  # else the row was marked failed after its last attempt
            # Bounded by the row's attempts (OUTBOX_MAX_ATTEMPTS), not by Celery's count.
            raise self.retry(
                exc=error, countdown=outbox.retry_delay(error.attempts), max_retries=None
            ) from error


@shared_task(ignore_result=True)
def send_now(ids: list[int]) -> None:
    """Send confirmations straight away (enqueued when the booking's transaction commits)."""
    claim = outbox.messages_claim(ids=ids)
    if claim is not None:  # else the dispatcher got there first and sends them
        send_claimed.delay(str(claim))


@shared_task(ignore_result=True)
def replan_active_series() -> int:
    """Plan every active series' e-mails again with the clinic's new timings (admin save)."""
    return outbox.series_replan_all()


# --- The waitlist (bookings/waitlist_services.py; imported in the tasks: it imports the services,
# which enqueue these tasks) ---


@shared_task(ignore_result=True)
def waitlist_time_freed(
    practitioner_id: int, room_id: int | None, start: str, end: str, exclude_entries: list[int] | None = None
) -> int:
    """Offer a freed time to the waiting sessions it fits (enqueued when the change commits)."""
    from datetime import datetime

    from bookings import waitlist_services

    freed = waitlist_services.Freed(
        practitioner_id, datetime.fromisoformat(start), datetime.fromisoformat(end), room_id
    )
    return len(waitlist_services.time_freed(freed=freed, exclude_entries=frozenset(exclude_entries or ())))


@shared_task(ignore_result=True)
def waitlist_offers_expire() -> int:
    """Release the holds of offers whose time is up and offer the time to the next (beat, every minute)."""
    from bookings import waitlist_services

    return waitlist_services.offers_expire()
