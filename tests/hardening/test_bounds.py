"""
Every date, time and number a request can carry is bounded on both sides.

Hypothesis drives each endpoint across the whole representable range: dates from 0001-01-01 to
9999-12-31, times and offsets at their extremes, integers far beyond 64 bits and below zero. No
answer is a 5xx; a refusal names the field with a sentence (a 400 JSON error per field, or the
form's error on a page), or the page falls back to its default, as documented for that page.
"""

import json
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bookings.models import Appointment, Series
from bookings.tokens import manage_token
from tests.bookings.staff_fixtures import *  # noqa: F403
from tests.bookings.staff_fixtures import front_desk, manager, practitioner, series, treatment  # noqa: F401
from tests.bookings.patient_fixtures import SLUG
from tests.bookings.test_api import body

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

any_date = st.dates(min_value=date.min, max_value=date.max)
edge_dates = st.sampled_from([date.min, date.min + timedelta(days=1), date.max - timedelta(days=1), date.max])
dates = st.one_of(edge_dates, any_date).map(lambda day: day.isoformat())
huge = st.one_of(
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=-(2**63) - 2, max_value=0),
    st.sampled_from([10**30, -(10**30), 10**4000]),
)
numbers = huge.map(str)
LONGEST_OFFSET = 23 * 60 + 59  # minutes: the widest UTC offset ISO 8601 (and Python) can carry
offsets = st.integers(-LONGEST_OFFSET, LONGEST_OFFSET).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                     "9999-12-31T23:59:59.999999+00:00", "0001-01-01T00:00:00-23:59"]),
    st.builds(datetime.combine, any_date, st.times(), offsets).map(lambda moment: moment.isoformat()),
)
slot_keys = st.one_of(
    st.builds(
        lambda day, hour, practitioner: f"{day:%Y%m%d}T{hour:02d}00-{practitioner}",
        st.one_of(edge_dates, any_date), st.integers(0, 23), huge,
    ),
    st.sampled_from(["00010101T0000-1", "99991231T2359-1", "99991231T2359-" + "9" * 30, "20270302T1000--1"]),
)

NOT_SERVER_ERRORS = {200, 302, 400, 404, 405, 409, 410, 413, 429}


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False


def answered(response) -> None:
    assert response.status_code < 500, response.content[:400]
    assert response.status_code in NOT_SERVER_ERRORS, response.status_code


def field_errors(response) -> dict[str, list[str]]:
    errors = response.json()["errors"]
    assert errors
    assert all(messages and all(isinstance(m, str) and m for m in messages) for messages in errors.values())
    return errors


# --- The API -------------------------------------------------------------------------------------------


EDGES = ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"]
NUMBER_EDGES = ["-1", "0", str(2**31), str(2**63), str(-(2**63) - 1), str(10**30), "9" * 5000]


@EXAMPLES
@given(field=st.sampled_from(["start", "days", "practitioner"]), data=st.data())
def test_availability_across_every_date_and_number(client, practitioner, field, data):
    value = data.draw(dates if field == "start" else numbers)
    query = {"treatment": SLUG, "start": "2027-03-02", "days": "7", field: value}

    response = client.get("/api/availability/", query)

    answered(response)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(field_errors(response)) == {field}


@pytest.mark.parametrize(("field", "value"), [("start", day) for day in EDGES] + [
    (field, number) for field in ("days", "practitioner") for number in NUMBER_EDGES
])
def test_availability_at_the_edges(client, practitioner, field, value):
    query = {"treatment": SLUG, "start": "2027-03-02", "days": "7", field: value}

    response = client.get("/api/availability/", query)

    assert response.status_code == 400, response.content
    assert set(field_errors(response)) == {field}


def test_a_date_in_year_one_is_a_sentence_not_a_500(client, practitioner):
    response = client.get("/api/availability/", {"treatment": SLUG, "start": "0001-01-01"})

    assert response.status_code == 400
    assert response.json()["errors"]["start"]


@EXAMPLES
@given(first_start=moments, practitioner_id=st.one_of(huge, st.none()))
@example(first_start="0001-01-01T00:00:00+14:00", practitioner_id=None)
@example(first_start="9999-12-31T23:59:59-12:00", practitioner_id=None)
@example(first_start="2027-03-02T10:00:00+00:00", practitioner_id=2**63)
@example(first_start="2027-03-02T10:00:00+00:00", practitioner_id=-(2**63) - 1)
def test_series_api_across_every_moment_and_number(client, practitioner, first_start, practitioner_id):
    payload = body(first_start=first_start)
    if practitioner_id is not None:
        payload["practitioner"] = practitioner_id

    response = client.post("/api/series/", json.dumps(payload), content_type="application/json")

    answered(response)
    if response.status_code == 400:
        assert set(field_errors(response)) <= {"first_start", "practitioner", "non_field_errors"}
    if response.status_code == 201:
        booked = Appointment.objects.filter(series=Series.objects.latest("pk"))
        booked.update(status=Appointment.Status.CANCELLED)  # frees the times for the next example


# --- The booking steps ------------------------------------------------------------------------------------


@EXAMPLES
@given(week=dates, practitioner_id=numbers, slot=slot_keys)
@example(week="0001-01-01", practitioner_id=str(2**63), slot="00010101T0000-1")
@example(week="9999-12-31", practitioner_id="-1", slot="99991231T2359-" + "9" * 30)
def test_booking_steps_across_every_date_and_number(client, practitioner, week, practitioner_id, slot):
    page = client.get(f"/book/{SLUG}/", {"week": week, "practitioner": practitioner_id})
    posted = client.post(f"/book/{SLUG}/?week={quote(week)}", {"slot": slot})
    review = client.post(f"/book/{SLUG}/series/", {"session_2": slot, "session_3": slot})

    for response in (page, posted, review):
        answered(response)
    assert page.status_code == 200  # a date or practitioner out of range falls back to the first week
    if posted.status_code == 400:
        assert posted.context["form"].errors["slot"]


# --- The manage link --------------------------------------------------------------------------------------


@EXAMPLES
@given(number=huge, slot=slot_keys, seen=st.one_of(numbers, st.builds("{}:{}".format, huge, huge)))
@example(number=10**30, slot="00010101T0000-1", seen="9" * 30 + ":1")
@example(number=2**31, slot="99991231T2359-1", seen="1:" + "9" * 30)
def test_manage_pages_across_every_number(client, series, number, slot, seen):
    base = f"/bookings/manage/{manage_token(series)}/sessions/"
    for action in ("move", "cancel", "cancel-rest", "answers"):
        for response in (client.get(f"{base}{number}/{action}/"), client.post(f"{base}{number}/{action}/", {
            "slot": slot, "seen": seen, "confirm": slot, "answer": "unchanged"
        })):
            answered(response)
    answered(client.post(f"{base}2/move/", {"slot": slot, "seen": seen}))


# --- Staff pages --------------------------------------------------------------------------------------------


@EXAMPLES
@given(day=dates, practitioner_id=numbers, first=slot_keys)
@example(day="0001-01-01", practitioner_id=str(2**63), first="00010101T0000-1")
@example(day="9999-12-31", practitioner_id=str(-(2**63) - 1), first="99991231T2359-" + "9" * 30)
def test_staff_pages_across_every_date_and_number(client, front_desk, series, day, practitioner_id, first):
    client.force_login(front_desk)
    patient, session = series.patient, series.appointments.first()
    responses = [
        client.get(reverse("staff:day"), {"date": day}),
        client.get(reverse("staff:week"), {"date": day, "practitioner": practitioner_id}),
        client.get(reverse("staff:book", args=[patient.pk]), {"treatment": series.treatment.slug, "date": day,
                                                              "practitioner": practitioner_id}),
        client.get(reverse("staff:book_plan", args=[patient.pk, series.treatment.slug]), {"first": first}),
        client.post(reverse("staff:move", args=[session.pk]), {"slot": first, "seen": day}),
    ]
    for response in responses:
        answered(response)
    assert responses[0].status_code == responses[1].status_code == 200  # fall back to today


def formsets(**forms: int) -> dict[str, str]:
    """The management form of each formset on the hours page, with this many forms."""
    return {
        f"{prefix}-{name}": value
        for prefix, total in forms.items()
        for name, value in (("TOTAL_FORMS", str(total)), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"),
                            ("MAX_NUM_FORMS", "1000"))
    }


@EXAMPLES
@given(
    start=st.one_of(st.times().map(time.isoformat), st.sampled_from(["24:00", "-1:00", "99:99", "23:59:60"])),
    off_start=moments.map(lambda text: text[:16]),
    off_end=moments.map(lambda text: text[:16]),
    weekday=numbers,
)
@example(start="00:00", off_start="0001-01-01T00:00", off_end="0001-01-01T01:00", weekday="0")
@example(start="00:00", off_start="9999-12-31T22:00", off_end="9999-12-31T23:59", weekday=str(2**63))
def test_hours_form_across_every_time_and_moment(
    client, manager, practitioner, start, off_start, off_end, weekday
):
    client.force_login(manager)
    response = client.post(reverse("staff:hours", args=[practitioner.pk]), {
        **formsets(hours=1, off=1),
        "hours-0-weekday": weekday, "hours-0-start": start, "hours-0-end": "23:59",
        "off-0-start": off_start, "off-0-end": off_end, "off-0-reason": "x",
    })

    answered(response)
    if response.status_code == 400:
        assert response.context["hours"].errors or response.context["time_off"].errors


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T22:00", "1900-01-01T09:00"])
def test_time_off_centuries_away_is_refused_with_a_sentence(client, manager, practitioner, moment):
    client.force_login(manager)
    response = client.post(reverse("staff:hours", args=[practitioner.pk]), {
        **formsets(hours=0, off=1),
        "off-0-start": moment, "off-0-end": moment[:11] + "23:00", "off-0-reason": "x",
    })

    assert response.status_code == 400
    assert "within ten years" in str(response.context["time_off"].errors)
    assert not practitioner.time_off.exists()
