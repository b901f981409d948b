"""Hostile input on every public form and API endpoint: never a 500, a clear refusal, nothing written.

Hypothesis drives each endpoint with random text, control characters (NUL included), huge strings,
wrong JSON types, impossible dates and DST-gap local times, SQL and HTML. A refused request leaves
every table as it was; a 429 (a rate limit) also counts as a clear refusal.
"""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.models import Appointment, OutboxMessage, Patient, Questionnaire, Series
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_token
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import (  # noqa: F401
    NOW,
    SLUG,
    details,
    frozen,
    key,
    practitioner,
    series,
    treatment,
)

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = (Series, Appointment, Patient, Questionnaire, OutboxMessage)
REFUSED = {400, 404, 405, 409, 413, 429}

HOSTILE = [
    "",
    " ",
    "\x00",
    "Jo\x00Bloggs",
    "\x00" * 40,
    "\x01\x02\x1b[31m\x7f",
    "\r\n\t",
    "\ud7ff\ufffe\uffff",
    "💉" * 50,
    "x" * 100_000,
    "' OR 1=1; DROP TABLE bookings_series; --",
    "'; SELECT pg_sleep(5); --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ settings.SECRET_KEY }}",
    "%s%s%n",
    "../../etc/passwd",
    "2027-02-30",
    "2027-13-01",
    "0000-00-00",
    "9999-12-31",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999999",
    "2027-03-28T01:30",  # the hour that does not exist in London (clocks go forward)
    "2027-03-28T01:30:00+00:00",
    "2027-10-31T01:30",  # the hour that happens twice
    "2027-03-02T10:00:00+25:00",
    "2027-03-02T10:00:00Z\x00",
]
text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "A" * n),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=10), children, max_size=3)),
    max_leaves=8,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def assert_refused(response, before: dict[str, int]) -> None:
    assert response.status_code < 500, response.content[:500]
    assert response.status_code in REFUSED | {200, 302}
    assert row_counts() == before


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.STAFF_LOGIN_RATE_PER_IP = settings.STAFF_LOGIN_RATE_PER_USERNAME = "100000/s"
    for name in ("RATELIMIT_ENABLE",):  # django-ratelimit's switch, for the limits on other pages
        setattr(settings, name, False)


# --- The booking flow --------------------------------------------------------------------------


def draft_ready(client) -> None:
    """Walk the first two steps with the first time whose whole series can be planned."""
    query = ""
    while True:  # examples that book fill the diary, week by week
        calendar = client.get(f"/book/{SLUG}/{query}")
        for first in (slot["key"] for day in calendar.context["days"] for slot in day["slots"]):
            client.post(f"/book/{SLUG}/", {"slot": first})
            review = client.get(f"/book/{SLUG}/series/")
            if review.status_code == 200 and review.context["form"] is not None:
                chosen = {name: field.initial for name, field in review.context["form"].fields.items()}
                client.post(f"/book/{SLUG}/series/", chosen)
                assert client.get(f"/book/{SLUG}/details/").status_code == 200
                return
        query = calendar.context["next_query"]
        assert query, "no series can be planned any more"


@EXAMPLES
@given(week=text, practitioner_id=text, slot=text)
def test_calendar_step_refuses_anything_but_an_offered_slot(client, practitioner, week, practitioner_id, slot):
    before = row_counts()

    page = client.get(f"/book/{SLUG}/", {"week": week, "practitioner": practitioner_id})
    posted = client.post(f"/book/{SLUG}/?week={quote(week)}", {"slot": slot})

    assert page.status_code == 200
    assert posted.status_code in (400, 413), posted.content[:300]
    if posted.status_code == 400:
        assert posted.context["form"].errors["slot"]
    assert row_counts() == before


@EXAMPLES
@given(choices=st.dictionaries(st.sampled_from(["session_2", "session_3", "session_4", "x"]), text, max_size=4))
def test_review_step_refuses_times_it_did_not_offer(client, practitioner, choices):
    client.post(f"/book/{SLUG}/", {"slot": key(local(2027, 3, 2, 10), practitioner)})
    before = row_counts()

    response = client.post(f"/book/{SLUG}/series/", choices)

    assert_refused(response, before)
    if response.status_code == 400:
        assert response.context["form"].errors


@EXAMPLES
@given(field=st.sampled_from(["name", "email", "phone", f"answer_{QUESTIONS[0].key}", "consent_privacy"]),
       value=text)
def test_details_step_names_the_bad_field_and_books_nothing(client, practitioner, field, value):
    draft_ready(client)
    before = row_counts()

    response = client.post(f"/book/{SLUG}/details/", details(**{field: value}))

    assert response.status_code < 500, response.content[:300]
    if response.status_code == 302:  # the value was a fine one (a name like "0")
        assert row_counts()["Series"] == before["Series"] + 1
        # Freed (written directly: the online cutoff would refuse), so later examples find times.
        Appointment.objects.filter(series=Series.objects.latest("pk")).update(status=Appointment.Status.CANCELLED)
        return
    assert response.status_code in (400, 413)
    if response.status_code == 400:
        assert field in response.context["form"].errors
    assert row_counts() == before


# --- The manage link ---------------------------------------------------------------------------------


def _paths(token: str, number: str) -> list[str]:
    base = f"/bookings/manage/{quote(token, safe='')}/"
    session = f"{base}sessions/{number}/"
    return [base, f"{base}calendar.ics", f"{session}move/", f"{session}cancel/", f"{session}cancel-rest/",
            f"{session}answers/", f"{session}book/"]


@EXAMPLES
@given(token=text, number=st.one_of(st.integers(min_value=0), st.just(10**30)))
def test_a_bad_manage_token_is_an_invalid_link_page(client, series, token, number):
    before = row_counts()

    for path in _paths(token, number):
        for response in (client.get(path), client.post(path, {"slot": token, "answer": token})):
            assert response.status_code in (404, 405, 413), (path, response.status_code)

    assert row_counts() == before


@EXAMPLES
@given(number=st.one_of(st.integers(min_value=0), st.just(2**31), st.just(10**30)),
       body=st.dictionaries(st.sampled_from(["slot", "confirm", "answer", "x"]), text, max_size=3))
def test_bad_session_numbers_and_bodies_on_a_real_link_change_nothing(client, series, number, body):
    token = manage_token(series)
    before = row_counts()
    times = set(Appointment.objects.values_list("pk", "start", "end"))
    cancelled = set(Appointment.objects.filter(status=Appointment.Status.CANCELLED).values_list("pk", flat=True))

    for path in _paths(token, number)[2:]:
        response = client.post(path, body)
        assert response.status_code < 500, (path, response.content[:300])
        assert response.status_code in REFUSED | {200, 302}

    # A plain POST to "cancel" of a real session is a real cancellation; nothing else may change.
    assert set(Appointment.objects.values_list("pk", "start", "end")) == times
    after = row_counts()
    assert {name: after[name] for name in ("Series", "Appointment", "Patient", "Questionnaire")} == \
        {name: before[name] for name in ("Series", "Appointment", "Patient", "Questionnaire")}
    if not 1 <= number <= 3:
        assert after == before
        assert set(Appointment.objects.filter(status=Appointment.Status.CANCELLED).values_list("pk", flat=True)) \
            == cancelled


# --- The API -------------------------------------------------------------------------------------------


@EXAMPLES
@given(query=st.dictionaries(st.sampled_from(["treatment", "start", "days", "practitioner", "x"]), text,
                             max_size=5))
def test_availability_api_refuses_bad_queries_per_field(client, practitioner, query):
    response = client.get("/api/availability/", query)

    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert errors and set(errors) <= {"treatment", "start", "days", "practitioner"}
        assert all(isinstance(message, str) and message for messages in errors.values() for message in messages)


def _valid_body() -> dict:
    return {
        "treatment": SLUG,
        "first_start": "2027-03-02T10:00:00+00:00",
        "patient": {"name": "Jo Bloggs", "email": "jo@example.com", "phone": "07700 900123"},
        "answers": {question.key: False for question in QUESTIONS},
        "consent": True,
    }


PATHS = [("treatment",), ("first_start",), ("practitioner",), ("patient",), ("patient", "name"),
         ("patient", "email"), ("patient", "phone"), ("answers",), ("answers", QUESTIONS[0].key), ("consent",)]


@EXAMPLES
@given(path=st.sampled_from(PATHS), value=st.one_of(json_values, text))
def test_series_api_names_the_bad_field_and_books_nothing(client, practitioner, path, value):
    body = _valid_body()
    target = body
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    before = row_counts()

    response = client.post("/api/series/", json.dumps(body), content_type="application/json")

    assert response.status_code < 500, response.content[:300]
    if response.status_code == 201:  # a value that happens to be fine
        return
    assert response.status_code in (400, 409, 413)
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert errors and all(messages and all(isinstance(m, str) for m in messages) for messages in errors.values())
        named = ".".join(path)
        assert any(field == named or field.startswith(path[0]) or field in ("non_field_errors", "first_start")
                   for field in errors), errors
    assert row_counts() == before


@EXAMPLES
@given(raw=st.one_of(st.binary(max_size=200), text.map(lambda value: value.encode("utf-8", "surrogatepass")),
                     json_values.map(lambda value: json.dumps(value).encode())))
def test_series_api_refuses_bodies_that_are_not_a_booking(client, practitioner, raw):
    before = row_counts()

    response = client.post("/api/series/", raw, content_type="application/json")

    assert response.status_code in (400, 413), response.content[:300]
    assert "errors" in response.json()
    assert row_counts() == before


# --- Staff sign-in ------------------------------------------------------------------------------------


@EXAMPLES
@given(username=text, password=text, next_url=text)
def test_staff_login_refuses_hostile_credentials(client, db, username, password, next_url):
    response = client.post(f"/staff/login/?next={quote(next_url)}", {"username": username, "password": password})

    assert response.status_code in (200, 400, 413, 429), response.content[:300]
    if response.status_code == 200:
        assert response.context["form"].errors


# --- Stored text is shown escaped everywhere ---------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
HTML_EMAIL = '"<b>x</b>"@example.com'  # a quoted local part may hold angle brackets


def test_a_patient_named_like_a_script_is_shown_escaped_everywhere(
    client, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.bookings.staff_fixtures import staff_user

    draft_ready(client)
    with django_capture_on_commit_callbacks(execute=True):
        booked = client.post(f"/book/{SLUG}/details/", details(name=SCRIPT, email=HTML_EMAIL))
    assert booked.status_code == 302, booked.context["form"].errors
    series = Series.objects.get()
    appointment = series.appointments.order_by("session_number").first()
    assert series.patient.name == SCRIPT and series.patient.email == HTML_EMAIL

    pages = [f"/bookings/manage/{manage_token(series)}/", f"/book/{SLUG}/booked/"]
    client.force_login(staff_user("max", "Manager", is_staff=True))
    day = appointment.start.astimezone(local(2027, 1, 1).tzinfo).date()
    pages += [f"/staff/?date={day:%Y-%m-%d}", f"/staff/patients/{series.patient.pk}/",
              f"/staff/appointments/{appointment.pk}/", "/staff/patients/?q=script"]
    for path in pages:
        content = client.get(path).content.decode()
        assert SCRIPT not in content and "<b>x</b>" not in content, path
    staff_pages = pages[2:5]
    for path in staff_pages:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(path).content.decode(), path

    assert mailoutbox
    for message in mailoutbox:
        html = message.alternatives[0][0]
        assert SCRIPT not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;" in mailoutbox[0].alternatives[0][0]
