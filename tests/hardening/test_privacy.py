"""No patient's name, e-mail, phone or answers in the logs, whatever the flow, at DEBUG level."""

import json
import logging
import re
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from bookings.models import Series
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_path, manage_token
from clinic.logs import JsonFormatter, ManageLinkFilter, RequestIdFilter
from tests.bookings.factories import local
from tests.bookings.patient_fixtures import SLUG, book, frozen, key, practitioner, treatment  # noqa: F401
from tests.bookings.staff_fixtures import staff_user

NAME, EMAIL, PHONE = "Zebedee Quartermaine", "zebedee.q@privacy.example", "07700 900555"
# A second person books through the API (one person runs one series of a treatment at a time).
API_NAME, API_EMAIL, API_PHONE = "Ottoline Ravenscroft", "ottoline.r@privacy.example", "07700 900666"
SEEDED = [NAME, "Zebedee", "Quartermaine", EMAIL, "zebedee.q", "privacy.example", PHONE, "900555",
          API_NAME, "Ottoline", "Ravenscroft", API_EMAIL, API_PHONE, "900666"]
FLAGGED = QUESTIONS[0].key  # a "yes" answer, kept out of the logs like every other


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses each recipient, naming the address in its answer (as real ones do)."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused(
            {address: (550, f"5.1.1 <{address}>: Recipient address rejected".encode())
             for message in messages for address in message.to}
        )


@pytest.fixture
def logs(caplog):
    """Every record from every logger (django.request, celery, ours) at DEBUG, as JSON lines."""
    caplog.set_level(logging.DEBUG)
    for name in ("django.request", "django.server", "celery", "bookings", "clinic"):
        caplog.set_level(logging.DEBUG, logger=name)
    formatter, filters = JsonFormatter(), (RequestIdFilter(), ManageLinkFilter())  # as the console handler

    def lines() -> str:
        out = []
        for record in caplog.records:
            for log_filter in filters:
                log_filter.filter(record)
            out.append(formatter.format(record))
            out.append(repr(record.args))
        return "\n".join(out)

    return lines


def details() -> dict:
    data = {"name": NAME, "email": EMAIL, "phone": PHONE, "consent_treatment": "on", "consent_privacy": "on"}
    return data | {f"answer_{q.key}": "yes" if q.key == FLAGGED else "no" for q in QUESTIONS}


def book_online(client, practitioner):
    client.post(reverse("bookings:book", kwargs={"slug": SLUG}), {"slot": key(local(2027, 3, 2, 10), practitioner)})
    client.post(reverse("bookings:review", kwargs={"slug": SLUG}), {
        "session_2": key(local(2027, 3, 30, 10), practitioner), "session_3": key(local(2027, 4, 27, 10), practitioner),
    })
    response = client.post(reverse("bookings:details", kwargs={"slug": SLUG}), details())
    assert response.status_code == 302, response.content.decode()[:2000]
    return Series.objects.get(patient__email=EMAIL)


def book_by_api(client):
    body = {
        "treatment": SLUG,
        "first_start": "2027-03-03T10:00:00+00:00",
        "patient": {"name": API_NAME, "email": API_EMAIL, "phone": API_PHONE},
        "answers": {q.key: q.key == FLAGGED for q in QUESTIONS},
        "consent": True,
    }
    response = client.post("/api/series/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return Series.objects.get(public_id=response.json()["id"]) if "id" in response.json() else None


def assert_nothing_personal(text: str):
    found = [value for value in SEEDED if value.lower() in text.lower()]
    assert not found, f"personal data in the logs: {found}"
    assert re.search(r"\b(yes|true)\b.{0,40}" + FLAGGED, text, re.I) is None


def test_booking_online_and_by_api_moving_cancelling_and_mail_log_nothing_personal(
    client, practitioner, settings, logs, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        online = book_online(client, practitioner)
    url = manage_path(online)
    client.get(url)
    page = client.post(f"{url}sessions/2/move/", {"slot": key(local(2027, 3, 31, 10), practitioner)}).content.decode()
    fingerprint = re.search(r'name="confirm" value="([^"]+)"', page)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}sessions/2/move/", {
            "slot": key(local(2027, 3, 31, 10), practitioner), "confirm": fingerprint.group(1) if fingerprint else "",
        })
        client.post(f"{url}sessions/3/cancel/")
    client.get(f"{url}sessions/2/answers/")
    client.get("/bookings/manage/forged-token/")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        book_by_api(client)

    assert len(mailoutbox) >= 2  # the online booking's confirmation and the move's notice went out
    text = logs()
    assert "failed for good" in text  # the refused e-mail was logged, without its address
    assert_nothing_personal(text)


def test_staff_phone_booking_logs_nothing_personal(client, practitioner, treatment, logs, django_capture_on_commit_callbacks):
    from bookings.models import Patient

    client.force_login(staff_user("fran", "Front desk"))
    response = client.post(reverse("staff:patient_new"), {"name": NAME, "email": EMAIL, "phone": PHONE})
    patient = Patient.objects.get(email=EMAIL)
    url = reverse("staff:book_plan", args=[patient.pk, treatment.slug]) + f"?first={key(local(2027, 3, 2, 14), practitioner)}"
    page = client.get(url).content.decode()
    sessions = dict(re.findall(r'name="(session_\d+)" id="[^"]+" value="([^"]+)" checked', page))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**{k: v for k, v in details().items() if k.startswith(("answer_", "consent_"))}, **sessions})

    assert response.status_code == 302
    assert Series.objects.filter(patient=patient).exists()
    assert_nothing_personal(logs())


def test_log_lines_name_a_manage_link_without_its_token(client, practitioner, treatment, settings, logs):
    token = manage_token(book(treatment, local(2027, 3, 9, 10), practitioner))

    response = client.post(f"/bookings/manage/{token}/sessions/2/move/", {"slot": "not-a-time"})

    assert response.status_code == 400
    assert {"request_id", "manage_link"} <= set(settings.LOGGING["handlers"]["console"]["filters"])
    assert token not in logs() and "/bookings/manage/[token]/sessions/2/move/" in logs()
