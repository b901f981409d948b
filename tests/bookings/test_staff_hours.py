"""Managers edit practitioners' hours and time off in the workspace; availability follows at once."""

from datetime import date

from django.urls import reverse

from bookings import selectors
from bookings.models import TimeOff
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local


def hours_form(
    practitioner, *, rows: list[tuple[int, str, str]], off: list[tuple[str, str, str]] = ()
) -> dict:
    """The whole page as posted: existing hour rows replaced by `rows` (existing ones deleted)."""
    existing = list(practitioner.working_hours.all())
    data = {
        "hours-TOTAL_FORMS": str(len(existing) + len(rows)),
        "hours-INITIAL_FORMS": str(len(existing)),
        "off-TOTAL_FORMS": str(len(off)),
        "off-INITIAL_FORMS": "0",
    }
    for n, block in enumerate(existing):
        data |= {f"hours-{n}-id": str(block.pk), f"hours-{n}-weekday": str(block.weekday),
                 f"hours-{n}-start": "09:00", f"hours-{n}-end": "17:00", f"hours-{n}-DELETE": "on"}  # fmt: skip
    for n, (weekday, start, end) in enumerate(rows, start=len(existing)):
        data |= {f"hours-{n}-weekday": str(weekday), f"hours-{n}-start": start, f"hours-{n}-end": end}
    for n, (start, end, reason) in enumerate(off):
        data |= {f"off-{n}-start": start, f"off-{n}-end": end, f"off-{n}-reason": reason}
    return data


def test_front_desk_cannot_edit_hours(client, front_desk, practitioner):
    client.force_login(front_desk)

    assert client.get(reverse("staff:hours", args=[practitioner.pk])).status_code == 403
    assert client.post(reverse("staff:hours", args=[practitioner.pk]), {}).status_code == 403


def test_manager_page_lists_the_hours(client, manager, practitioner):
    client.force_login(manager)

    page = client.get(reverse("staff:hours", args=[practitioner.pk])).content.decode()

    assert 'value="09:00"' in page and 'value="17:00"' in page


def test_new_hours_change_the_free_times_at_once(client, manager, treatment, practitioner):
    client.force_login(manager)
    tuesday = date(2027, 3, 9)

    response = client.post(
        reverse("staff:hours", args=[practitioner.pk]), hours_form(practitioner, rows=[(1, "13:00", "18:00")])
    )

    assert response.status_code == 302
    slots = selectors.available_slots(treatment=treatment, start_date=tuesday, days=1)
    assert [slot.start for slot in slots][:1] == [local(2027, 3, 9, 13)]
    assert (
        selectors.available_slots(treatment=treatment, start_date=date(2027, 3, 8), days=1) == []
    )  # Monday off


def test_time_off_is_entered_in_local_time_and_blocks_bookings(client, manager, treatment, practitioner):
    client.force_login(manager)

    client.post(reverse("staff:hours", args=[practitioner.pk]), {
        **hours_form(practitioner, rows=[(weekday, "09:00", "17:00") for weekday in range(5)],
                     off=[("2027-04-06T09:00", "2027-04-06T13:00", "Dentist")]),
    })  # fmt: skip

    off = TimeOff.objects.get(practitioner=practitioner)
    assert (off.start, off.end, off.reason) == (local(2027, 4, 6, 9), local(2027, 4, 6, 13), "Dentist")  # BST
    starts = [
        s.start for s in selectors.available_slots(treatment=treatment, start_date=date(2027, 4, 6), days=1)
    ]
    assert local(2027, 4, 6, 12) not in starts and local(2027, 4, 6, 13) in starts


def test_bookings_left_outside_the_new_hours_are_listed(client, manager, series, practitioner):
    client.force_login(manager)

    response = client.post(
        reverse("staff:hours", args=[practitioner.pk]),
        hours_form(practitioner, rows=[(1, "13:00", "17:00")]),
        follow=True,
    )

    page = response.content.decode()
    assert "3 booked sessions now fall outside" in page
    assert "Tue 9 Mar 2027, 10:00: Jo Bloggs, session 1" in page
    assert series.appointments.filter(start=local(2027, 3, 9, 10)).exists()  # nothing moved


def test_an_end_before_the_start_is_refused_with_a_sentence(client, manager, practitioner):
    client.force_login(manager)

    response = client.post(
        reverse("staff:hours", args=[practitioner.pk]), hours_form(practitioner, rows=[(1, "17:00", "09:00")])
    )

    assert response.status_code == 400
    assert "The end must be later than the start." in response.content.decode()
    assert practitioner.working_hours.count() == 5  # nothing saved


def test_a_tampered_formset_is_refused_not_an_error(client, manager, practitioner):
    client.force_login(manager)

    response = client.post(reverse("staff:hours", args=[practitioner.pk]), {"hours-TOTAL_FORMS": "x"})

    assert response.status_code == 400
