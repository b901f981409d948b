"""factory_boy factories for bookings, and helpers to build a clinic in a test's own words."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
from django.conf import settings
from factory.django import DjangoModelFactory

from bookings.availability import Slot
from bookings.models import (
    Appointment,
    ClinicRules,
    Patient,
    Practitioner,
    Room,
    Series,
    TimeOff,
    WorkingHours,
)
from treatments.models import Treatment

WEEKDAYS = range(5)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local(year, month, day, hour=0, minute=0) -> datetime:
    """An aware datetime on the clinic's wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=clinic_zone())


def clinic_rules(**values) -> ClinicRules:
    """The single ClinicRules row with `values` (defaults: 24h notice, 90 days, 15 min buffer…)."""
    rules = ClinicRules.load()
    for name, value in values.items():
        setattr(rules, name, value)
    rules.save()
    return rules


class TreatmentFactory(DjangoModelFactory):
    class Meta:
        model = Treatment

    slug = factory.Sequence(lambda n: f"test-treatment-{n}")
    name = factory.Sequence(lambda n: f"Test microneedling {n}")
    summary = "Collagen induction therapy in a short series."
    sessions_in_series = 3
    min_days_between = 28
    max_days_between = 42
    session_minutes = 60
    requires_room = False


class PractitionerFactory(DjangoModelFactory):
    """A practitioner performing `treatments`, working `hours` [(weekday, "09:00", "17:00"), …]."""

    class Meta:
        model = Practitioner
        skip_postgeneration_save = True

    name = factory.Faker("name", locale="en_GB")

    @factory.post_generation
    def treatments(self, create, extracted, **kwargs):
        if create and extracted:
            self.treatments.set(extracted)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        blocks = extracted if extracted is not None else [(weekday, "09:00", "17:00") for weekday in WEEKDAYS]
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=self,
                weekday=weekday,
                start=time.fromisoformat(start),
                end=time.fromisoformat(end),
            )
            for weekday, start, end in blocks
        )


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = Room
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Room {n}")

    @factory.post_generation
    def treatments(self, create, extracted, **kwargs):
        if create and extracted:
            self.treatments.set(extracted)


class TimeOffFactory(DjangoModelFactory):
    class Meta:
        model = TimeOff

    practitioner = factory.SubFactory(PractitionerFactory)
    reason = "Annual leave"


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    phone = "+44 7700 900123"


class SeriesFactory(DjangoModelFactory):
    class Meta:
        model = Series

    patient = factory.SubFactory(PatientFactory)
    treatment = factory.SubFactory(TreatmentFactory)


class AppointmentFactory(DjangoModelFactory):
    """An appointment written directly (bypassing services), for setting up a busy diary."""

    class Meta:
        model = Appointment

    series = factory.SubFactory(SeriesFactory)
    patient = factory.LazyAttribute(lambda appointment: appointment.series.patient)
    session_number = factory.Sequence(lambda n: n + 1)
    practitioner = factory.SubFactory(PractitionerFactory)
    start = factory.LazyFunction(lambda: local(2027, 3, 1, 10))
    end = factory.LazyAttribute(lambda appointment: appointment.start + timedelta(minutes=60))


def slot(start: datetime, practitioner, room=None, minutes: int = 60) -> Slot:
    """A Slot for `practitioner` (and `room`) starting at `start`."""
    return Slot(start, start + timedelta(minutes=minutes), practitioner.pk, room.pk if room else None)


def microneedling_clinic(*, practitioners: int = 1, rooms: int = 0, sessions: int = 3, **rules):
    """A treatment, practitioners working weekdays 09:00–17:00 and rooms (if any) that it needs.

    Rules default to 24h notice, a 90-day horizon, no buffer, a 30-minute grid, 48h cutoff.
    """
    clinic_rules(**{"buffer_minutes": 0, **rules})
    treatment = TreatmentFactory(requires_room=rooms > 0, sessions_in_series=sessions)
    staff = [PractitionerFactory(treatments=[treatment]) for _ in range(practitioners)]
    room_list = [RoomFactory(treatments=[treatment]) for _ in range(rooms)]
    return treatment, staff, room_list


def series_slots(practitioner, first: datetime, sessions: int = 3, days: int = 28, room=None) -> list[Slot]:
    """`sessions` slots `days` apart at the same local time (wall-clock arithmetic on purpose)."""
    return [slot(first + timedelta(days=days * n), practitioner, room) for n in range(sessions)]


def eligibility_rules(treatment, ruleset=None, *, note: str = ""):
    """Publish `ruleset` (default: bookings.eligibility.DEFAULT_RULES) as `treatment`'s next rules version."""
    from bookings import eligibility_services
    from bookings.eligibility import DEFAULT_RULES

    ruleset = ruleset or DEFAULT_RULES
    return eligibility_services.rules_publish(
        treatment=treatment,
        note=note,
        rules=[
            {"key": rule.key, "kind": rule.kind.value, "reason": rule.reason, "wait_months": rule.wait.months,
             "wait_days": rule.wait.days, "review": rule.review}
            for rule in ruleset.rules
        ],
    )
