"""The diary as a tool: a day on one screen, only the people working, short visits usable, time off on
top, colour by treatment, a "now" line."""

from datetime import timedelta
from pathlib import Path

from django.urls import reverse

from staff.diary_grid import TREATMENT_COLOURS
from tests.bookings.factories import (
    AppointmentFactory,
    PractitionerFactory,
    RoomFactory,
    SeriesFactory,
    TimeOffFactory,
    TreatmentFactory,
)
from tests.bookings.staff_fixtures import *
from tests.bookings.staff_fixtures import local

DAY = reverse("staff:day")
WEEK = reverse("staff:week")
STYLESHEET = Path(__file__).resolve().parents[2] / "static" / "css" / "staff.css"


def visit(practitioner, start, minutes=60, treatment=None, name="Kim Short", room=None):
    series = SeriesFactory(treatment=treatment or TreatmentFactory(), patient__name=name)
    return AppointmentFactory(
        series=series, practitioner=practitioner, start=start, end=start + timedelta(minutes=minutes), room=room
    )


def test_day_view_leaves_out_practitioners_who_do_not_work_that_day(client, front_desk, practitioner, frozen):
    PractitionerFactory(name="Dr Weekend Only", hours=[(5, "09:00", "13:00")])
    booked_anyway = PractitionerFactory(name="Dr Booked Anyway", hours=[])
    visit(booked_anyway, local(2027, 3, 9, 12))
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert "Dr Ana Silva" in page and "Dr Booked Anyway" in page
    assert "Dr Weekend Only" not in page


def test_day_view_says_when_nobody_works(client, front_desk, practitioner, frozen):
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-07"}).content.decode()  # a Sunday

    assert "Nobody works this day" in page
    assert "Dr Ana Silva" not in page


def test_a_short_visit_is_one_compact_line_with_a_labelled_check_in_button(
    client, front_desk, practitioner, frozen
):
    visit(practitioner, local(2027, 3, 9, 10), minutes=30)
    visit(practitioner, local(2027, 3, 9, 11), minutes=60, name="Lee Long")
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    short, long = page.split("Kim Short")[0].rsplit("<li", 1)[1], page.split("Lee Long")[0].rsplit("<li", 1)[1]
    assert " compact" in short and " compact" not in long
    assert 'aria-label="Check in Kim Short (10:00)"' in page
    assert 'aria-label="Open Kim Short, 10:00: all actions"' in page
    assert "11:00–12:00" in page


def test_blocks_take_a_stable_colour_from_their_treatment(client, front_desk, practitioner, frozen):
    first, second = TreatmentFactory(), TreatmentFactory()
    visit(practitioner, local(2027, 3, 9, 10), treatment=first)
    visit(practitioner, local(2027, 3, 9, 12), treatment=second)
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    assert f'treatment-colour-{first.pk % TREATMENT_COLOURS}"' in page
    assert f'treatment-colour-{second.pk % TREATMENT_COLOURS}"' in page
    assert first.pk % TREATMENT_COLOURS != second.pk % TREATMENT_COLOURS
    for colour in range(TREATMENT_COLOURS):
        assert f".treatment-colour-{colour} " in STYLESHEET.read_text()


def test_time_off_is_drawn_above_the_bookings_it_overlaps(client, front_desk, practitioner, frozen):
    visit(practitioner, local(2027, 3, 9, 13))
    TimeOffFactory(
        practitioner=practitioner, start=local(2027, 3, 9, 13), end=local(2027, 3, 9, 15), reason="Training"
    )
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    # Later in the same track, and on a higher layer in the stylesheet.
    assert page.index("Kim Short") < page.index("Time off: Training")
    css = STYLESHEET.read_text()
    layer = lambda rule: int(css.split(rule + " {", 1)[1].split("z-index:", 1)[1].split(";", 1)[0])
    assert layer(".diary-off") > layer(".diary-block")


def test_todays_diary_draws_a_now_line_where_the_clock_is(client, front_desk, practitioner, frozen):
    frozen.move_to(local(2027, 3, 1, 10, 30))  # Monday; the grid starts at 09:00
    client.force_login(front_desk)

    today = client.get(DAY).content.decode()
    tomorrow = client.get(DAY, {"date": "2027-03-02"}).content.decode()

    assert 'class="diary-now" style="--now: 90"' in today
    assert "js/diary-now.js" in today
    assert "diary-now" not in tomorrow


# --- A free place in the diary starts a phone booking there -------------------------------------------


def test_free_half_hours_inside_the_hours_link_to_booking_there(client, front_desk, practitioner, frozen):
    visit(practitioner, local(2027, 3, 9, 10))
    TimeOffFactory(practitioner=practitioner, start=local(2027, 3, 9, 13), end=local(2027, 3, 9, 15))
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-09"}).content.decode()

    link = f"/staff/patients/?practitioner={practitioner.pk}&amp;date=2027-03-09&amp;time="
    assert f"{link}09:00" in page and f"{link}09:30" in page and f"{link}16:30" in page
    for taken in ("10:00", "10:30", "13:00", "14:30", "17:00"):
        assert f"{link}{taken}" not in page
    assert 'aria-label="Book 09:30 with Dr Ana Silva, Tue 9 Mar"' in page


def test_a_free_place_already_past_is_not_offered(client, front_desk, practitioner, frozen):
    frozen.move_to(local(2027, 3, 9, 11, 10))  # Tuesday, 11:10
    client.force_login(front_desk)

    today = client.get(DAY, {"date": "2027-03-09"}).content.decode()
    yesterday = client.get(DAY, {"date": "2027-03-08"}).content.decode()

    link = f"/staff/patients/?practitioner={practitioner.pk}&amp;date=2027-03-09&amp;time="
    for past in ("09:00", "10:30", "11:00"):
        assert f"{link}{past}" not in today
    assert f"{link}11:30" in today and f"{link}16:30" in today
    assert "/staff/patients/?practitioner=" not in yesterday


def test_a_free_place_leads_through_the_patient_to_the_booking_page_prefilled(
    client, front_desk, treatment, practitioner, series
):
    client.force_login(front_desk)
    picked = {"practitioner": practitioner.pk, "date": "2027-03-09", "time": "14:00"}

    search = client.get(reverse("staff:patients"), {"q": "Jo Bloggs", **picked}).content.decode()
    book_here = (
        reverse("staff:book", args=[series.patient.pk])
        + f"?practitioner={practitioner.pk}&amp;date=2027-03-09&amp;time=14%3A00"
    )
    assert "Booking the free time picked in the diary" in search
    assert '<input type="hidden" name="time" value="14:00">' in search
    assert f'href="{book_here}"' in search

    start = client.get(reverse("staff:book", args=[series.patient.pk]), picked)
    page = start.content.decode()
    assert start.status_code == 200 and "is required" not in page
    assert f'<option value="{practitioner.pk}" selected>' in page
    assert 'value="2027-03-09"' in page and '<input type="hidden" name="time" value="14:00">' in page

    times = client.get(
        reverse("staff:book", args=[series.patient.pk]), {**picked, "treatment": treatment.slug}
    ).content.decode()
    highlighted = times.split('aria-current="true"')
    assert len(highlighted) == 2
    assert 'aria-label="First session' in highlighted[1].split(">")[0] and "14:00" in highlighted[1][:300]


def test_bad_values_from_a_diary_link_do_not_break_the_booking_page(client, front_desk, treatment, series):
    client.force_login(front_desk)

    response = client.get(
        reverse("staff:book", args=[series.patient.pk]),
        {"practitioner": "x", "date": "2027-02-30", "time": "<b>"},
    )

    assert response.status_code == 200
    assert "<b>" not in response.content.decode()


# --- Rooms, and everyone's week ------------------------------------------------------------------------


def test_day_by_room_has_a_column_per_room_with_whos_treating(client, front_desk, practitioner, frozen):
    laser, bed = RoomFactory(name="Laser room"), RoomFactory(name="Bed 2")
    RoomFactory(name="Old room", is_active=False)
    colleague = PractitionerFactory(name="Dr Cy Room")
    visit(practitioner, local(2027, 3, 9, 10), room=laser)
    visit(colleague, local(2027, 3, 9, 10), name="Lee Long")
    client.force_login(front_desk)

    page = client.get(DAY, {"date": "2027-03-09", "by": "room"}).content.decode()

    assert 'aria-label="Diary for the day, one column per room"' in page
    assert "Laser room" in page and "Bed 2" in page and "Old room" not in page
    laser_column = page.split("Laser room", 1)[1].split("diary-column", 1)[0]
    assert "Kim Short" in laser_column and "Dr Ana Silva" in laser_column
    assert "Lee Long" not in page and "1 session needs no room" in page
    assert "Book 09:00" not in page  # rooms have no hours of their own: book from the practitioners' day
    assert 'href="?date=2027-03-10&amp;by=room"' in page and "By practitioner" in page


def test_day_by_room_keeps_a_fixed_query_cost(client, front_desk, practitioner, frozen, django_assert_max_num_queries):
    for hour in range(9, 17):
        visit(practitioner, local(2027, 3, 9, hour), room=RoomFactory())
    client.force_login(front_desk)

    with django_assert_max_num_queries(9):
        page = client.get(DAY, {"date": "2027-03-09", "by": "room"}).content.decode()

    assert page.count("diary-block status-booked") == 8


def test_everyones_week_at_a_glance_counts_each_day_and_links_to_it(client, front_desk, practitioner, frozen):
    colleague = PractitionerFactory(name="Dr Ben Okafor", hours=[(1, "12:00", "18:00")])
    visit(practitioner, local(2027, 3, 9, 10))
    visit(practitioner, local(2027, 3, 9, 12))
    visit(colleague, local(2027, 3, 9, 13))
    client.force_login(front_desk)

    response = client.get(WEEK, {"practitioner": "all", "date": "2027-03-10"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Everyone: 8 Mar – 14 Mar 2027" in page
    ana_row = page.split("Dr Ana Silva</a>", 1)[1].split("</tr>", 1)[0]
    ben_row = page.split("Dr Ben Okafor</a>", 1)[1].split("</tr>", 1)[0]
    assert "2 booked<span class=\"visually-hidden\"> with Dr Ana Silva on Tuesday 9 March" in ana_row
    assert "1 booked" in ben_row and "12:00–18:00" in ben_row
    assert "Off<span" in ben_row  # Monday: no hours, nothing booked
    assert 'href="/staff/?date=2027-03-09"' in ana_row
    assert "week-glance-block treatment-colour-" in ana_row


def test_a_practitioner_sees_only_their_own_row_in_everyones_week(client, ana, colleague_series, frozen):
    client.force_login(ana)

    page = client.get(WEEK, {"practitioner": "all", "date": "2027-03-09"}).content.decode()

    assert "Dr Ana Silva" in page and "Dr Ben Okafor" not in page
