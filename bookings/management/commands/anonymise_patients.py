"""
Anonymise patients whose last appointment is older than PATIENT_RETENTION_DAYS.

Run it daily (cron or a scheduled job). Idempotent: an anonymised patient is never counted again.
`--dry-run` says how many would be anonymised, and changes nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings import services


class Command(BaseCommand):
    help = "Anonymise patients whose last appointment ended more than PATIENT_RETENTION_DAYS ago."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count them; change nothing.")
        parser.add_argument(
            "--days", type=int, default=None,
            help="Retention in days (default: the PATIENT_RETENTION_DAYS setting).",
        )

    def handle(self, *args, dry_run: bool, days: int | None, **options):
        days = settings.PATIENT_RETENTION_DAYS if days is None else days
        before = timezone.now() - timedelta(days=days)
        due = services.patients_due_for_anonymising(before=before)
        cutoff = f"last appointment before {before:%Y-%m-%d}"
        if dry_run:
            self.stdout.write(f"{due.count()} patient(s) would be anonymised ({cutoff}).")
            return
        count = 0
        for patient in list(due):
            services.patient_anonymise(patient=patient)
            count += 1
        self.stdout.write(f"{count} patient(s) anonymised ({cutoff}).")
        forgotten = services.waitlist_callers_forget(before=before)
        entries = "entry" if forgotten == 1 else "entries"
        self.stdout.write(f"{forgotten} waitlist {entries} of new callers forgotten (made before {before:%Y-%m-%d}).")
