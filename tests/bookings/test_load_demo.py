"""`manage.py load_demo`: the demo clinic `make run` starts with."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from bookings.models import Appointment, Practitioner, Room, Series, WorkingHours
from tests.bookings.factories import TreatmentFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def microneedling():
    return Treatment.objects.filter(slug="microneedling").first() or TreatmentFactory(
        slug="microneedling", sessions_in_series=4
    )


def counts():
    return [model.objects.count() for model in (Practitioner, WorkingHours, Room, Series, Appointment)]


def test_load_demo_builds_a_bookable_clinic_and_is_idempotent(microneedling, settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    first = counts()
    call_command("load_demo")

    assert counts() == first
    peel = Treatment.objects.get(slug="chemical-peel")  # the second treatment (treatments migration 0004)
    consultation = Treatment.objects.get(slug="skin-consultation")
    microneedling.refresh_from_db()
    assert microneedling.prerequisite == consultation  # new patients book it with their series
    # Each microneedling patient is new: a consultation is booked with each series, before it.
    assert first[0] == 3 and first[2] == 2 and first[3] == 5 + 4
    assert Series.objects.filter(treatment=microneedling).count() == 4
    assert Series.objects.filter(treatment=peel).count() == 1
    assert Series.objects.filter(treatment=microneedling, consultation__isnull=False).count() == 4
    assert Appointment.objects.count() == 4 * microneedling.sessions_in_series + peel.sessions_in_series + 4
    assert Practitioner.objects.filter(treatments=peel).count() == 2
    assert Room.objects.filter(treatments=peel).count() == 2
    assert get_user_model().objects.get(username="manager").is_superuser
    output = capsys.readouterr().out
    assert '"manager" / "manager"' in output
    # Each role can be tried: a practitioner signs in with their first name as password too.
    amara = get_user_model().objects.get(username="amara")
    assert amara.check_password("amara") and amara.practitioner.name == "Dr Amara Okafor"
    assert '"amara" / "amara"' in output


def test_load_demo_creates_no_manager_login_without_debug(microneedling, settings):
    settings.DEBUG = False

    call_command("load_demo")

    assert not get_user_model().objects.filter(username="manager").exists()
    assert not any(user.has_usable_password() for user in get_user_model().objects.all())


def test_load_demo_without_the_treatment_creates_nothing_booking_related(capsys):
    Treatment.objects.filter(slug="microneedling").update(slug="renamed")

    call_command("load_demo")

    assert counts() == [0, 0, 0, 0, 0]
    assert 'No "microneedling" treatment found' in capsys.readouterr().out
