"""
Demo data for `make run`: practitioners, rooms, clinic rules and a few booked series.

Idempotent: run it as often as you like; it only creates what is missing. The staff logins
"manager" (superuser, password "manager") and "frontdesk" (Front desk group, password "frontdesk")
are created only when DEBUG is on.
"""

from datetime import time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from bookings import selectors, services
from bookings.errors import BookingError
from bookings.models import ClinicRules, Patient, Practitioner, Room, Series, TimeOff, WorkingHours
from treatments.models import Treatment

TREATMENT_SLUG = "microneedling"
# The second treatment (treatments migration 0004), so every page is seen with two: who performs it.
SECOND_TREATMENT_SLUG = "chemical-peel"
SECOND_TREATMENT_PRACTITIONERS = ["Dr Amara Okafor", "Sophie Turner"]
# Microneedling requires it (issue 13 §2): every demo practitioner performs it.
CONSULTATION_SLUG = "skin-consultation"

# name, username, weekly blocks (weekday, start, end) in local time; Monday = 0.
PRACTITIONERS = [
    (
        "Dr Amara Okafor",
        "amara",
        [(day, "09:00", "13:00") for day in range(4)] + [(day, "14:00", "17:30") for day in range(4)],
    ),
    ("Sophie Turner", "sophie", [(day, "10:00", "18:00") for day in (1, 2, 3, 4)] + [(5, "09:00", "14:00")]),
    ("James Whitfield", "james", [(day, "12:00", "20:00") for day in (0, 2, 4)]),
]
ROOMS = ["Treatment room 1", "Treatment room 2"]

# name, email, days from today to look for a first session, questionnaire answers, treatment
SAMPLE_SERIES = [
    ("Olivia Bennett", "olivia.bennett@example.com", 2, {}, TREATMENT_SLUG),
    ("Priya Shah", "priya.shah@example.com", 3, {"isotretinoin": True}, TREATMENT_SLUG),
    ("Tom Hughes", "tom.hughes@example.com", 5, {}, TREATMENT_SLUG),
    ("Grace O'Neill", "grace.oneill@example.com", 8, {}, TREATMENT_SLUG),
    ("Hannah Clarke", "hannah.clarke@example.com", 4, {}, SECOND_TREATMENT_SLUG),
]


# The days "yes" answers refer to, in days before today: Priya's last isotretinoin dose was eight months
# ago, so the rules let her book now (the six months are over) and a practitioner still reviews it.
SAMPLE_DATES = {"priya.shah@example.com": {"isotretinoin": 243}}


def _local_midnight(day):
    return selectors.local_midnight(day, selectors.clinic_zone())


class Command(BaseCommand):
    help = "Load demo practitioners, rooms, clinic rules and sample series (idempotent)."

    def handle(self, *args, **options):
        self._manager()
        treatment = Treatment.objects.filter(slug=TREATMENT_SLUG).first()
        if treatment is None:
            self.stdout.write(
                self.style.WARNING(
                    f'No "{TREATMENT_SLUG}" treatment found (run `manage.py migrate` first): '
                    "no demo practitioners, rooms or bookings were created."
                )
            )
            return
        second = Treatment.objects.filter(slug=SECOND_TREATMENT_SLUG).first()
        consultation = self._consultation(treatment)
        with transaction.atomic():
            ClinicRules.load()
            for name in ROOMS:
                room, _ = Room.objects.get_or_create(name=name)
                room.treatments.add(*filter(None, [treatment, second]))
            for name, username, blocks in PRACTITIONERS:
                practitioner = self._practitioner(treatment, name, username, blocks)
                practitioner.treatments.add(consultation)
                if second is not None and name in SECOND_TREATMENT_PRACTITIONERS:
                    practitioner.treatments.add(second)
        booked = self._sample_series({TREATMENT_SLUG: treatment, SECOND_TREATMENT_SLUG: second})
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo clinic ready: {len(PRACTITIONERS)} practitioners, {len(ROOMS)} rooms, "
                f"{Series.objects.count()} series ({booked} new)."
            )
        )

    def _consultation(self, treatment) -> Treatment:
        """The skin consultation microneedling requires before a new patient's first session (issue 13 §2)."""
        consultation, _ = Treatment.objects.get_or_create(slug=CONSULTATION_SLUG, defaults={
            "name": "Skin consultation",
            "summary": "A first look at your skin and your goals with a practitioner, before a course of treatment.",
            "sessions_in_series": 1, "session_minutes": 30, "requires_room": False, "position": 99,
            "safety_questions": [],
        })  # fmt: skip
        if treatment.prerequisite_id is None:
            treatment.prerequisite = consultation
            treatment.save(update_fields=["prerequisite"])
        return consultation

    def _manager(self) -> None:
        if not settings.DEBUG:
            self.stdout.write('DEBUG is off: no "manager" login created.')
            return
        User = get_user_model()
        if not User.objects.filter(username="manager").exists():
            User.objects.create_superuser("manager", "manager@clinic.example", "manager")
        if not User.objects.filter(username="frontdesk").exists():
            desk = User.objects.create_user("frontdesk", "desk@clinic.example", "frontdesk", first_name="Desk")
            desk.groups.add(Group.objects.get(name="Front desk"))  # the roles of migration bookings/0005
        self.stdout.write(
            'Staff logins for the demo (DEBUG only): "manager" / "manager" (/staff/ and /admin/), '
            '"frontdesk" / "frontdesk" (/staff/), and each practitioner: '
            + ", ".join(f'"{username}" / "{username}" ({name})' for name, username, _ in PRACTITIONERS)
            + " (/staff/)."
        )

    def _practitioner(self, treatment, name: str, username: str, blocks) -> Practitioner:
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "first_name": name}
        )
        if created:
            # DEBUG (a demo on a developer's machine): the first name is the password, so the
            # practitioner's view can be tried; otherwise no password works until a manager sets one.
            if settings.DEBUG:
                user.set_password(username)
            else:
                user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name="Practitioner"))
        practitioner, _ = Practitioner.objects.get_or_create(name=name, defaults={"user": user})
        practitioner.treatments.add(treatment)
        # The clinic closes over Christmas: the sample series plan around it.
        christmas = timezone.localdate().replace(month=12, day=24)
        TimeOff.objects.get_or_create(
            practitioner=practitioner,
            reason="Clinic closed for Christmas",
            start=_local_midnight(christmas),
            defaults={"end": _local_midnight(christmas + timedelta(days=9))},
        )
        if not practitioner.working_hours.exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    practitioner=practitioner,
                    weekday=day,
                    start=time.fromisoformat(start),
                    end=time.fromisoformat(end),
                )
                for day, start, end in blocks
            )
        return practitioner

    def _sample_series(self, treatments: dict) -> int:
        """Book each sample patient's series through the services, like the front desk would.

        Their confirmation and reminder e-mails go to the outbox like any other booking (the
        addresses are example.com; in `make run` the console shows them when the worker sends).
        """
        today = timezone.localdate()
        booked = 0
        for index, (name, email, days_ahead, answers, slug) in enumerate(SAMPLE_SERIES):
            treatment = treatments.get(slug)
            if treatment is None or Patient.objects.filter(email=email).exists():
                continue
            slots = selectors.available_slots(
                treatment=treatment, start_date=today + timedelta(days=days_ahead), days=7, for_staff=True
            )
            patient = services.PatientDetails(name=name, email=email, phone=f"07700 900{index:03d}")
            # Spread the patients over the day; take the first start whose whole series fits.
            dates = {key: today - timedelta(days=ago) for key, ago in SAMPLE_DATES.get(email, {}).items()}
            booked += any(self._book(treatment, patient, first, answers, dates) for first in slots[index * 3 :: 5])
        return booked

    def _book(self, treatment, patient: services.PatientDetails, first, answers, dates) -> bool:
        plan = selectors.series_plan(treatment=treatment, first=first, for_staff=True)
        if not plan.is_complete:
            return False
        try:
            services.series_book(
                treatment=treatment,
                patient=patient,
                slots=plan.slots,
                answers=answers,
                dates=dates,
                consent_treatment=True,
                consent_privacy=True,
                source=Series.Source.PHONE,
                for_staff=True,
            )
        except BookingError as refusal:
            self.stdout.write(f"Skipped a sample series for {patient.name}: {refusal.message}")
            return False
        return True
