"""A second treatment speaks in its own words everywhere: pages, booking steps, consent, e-mails.

The chemical peel ships with the content (treatments migration 0004). Every page a patient sees
about it, and every e-mail about its series, must carry none of microneedling's words.
"""

import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.urls import reverse

from bookings import emails, selectors, services
from bookings.flow import Draft, draft_save
from bookings.models import Appointment, ClinicRules, OutboxMessage, Questionnaire, Series
from staff.forms import PhoneAnswersForm
from bookings.tokens import manage_path
from tests.bookings.factories import PractitionerFactory, RoomFactory, clinic_rules
from tests.bookings.patient_fixtures import details, frozen  # noqa: F401
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

MICRONEEDLING_WORDS = re.compile(r"microneedl|numbing|collagen|needle|sunburn", re.IGNORECASE)
PEEL = "chemical-peel"


def leaks(text: str) -> list[str]:
    return sorted({match.group(0).lower() for match in MICRONEEDLING_WORDS.finditer(text)})


@pytest.fixture
def peel(frozen):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48, horizon_days=90)
    treatment = Treatment.objects.get(slug=PEEL)
    PractitionerFactory(name="Dr Ana Silva", treatments=[treatment])
    RoomFactory(name="Peel room", treatments=[treatment])
    return treatment


def put_in_draft(client, slug: str, slots) -> None:
    """The booking in progress, as steps 1 and 2 leave it (their own tests walk those forms)."""
    session = client.session
    draft_save(SimpleNamespace(session=session), slug, Draft(slots=list(slots)))
    session.save()


def book_peel_online(client, peel) -> Series:
    first = selectors.available_slots(treatment=peel, start_date=date(2027, 3, 2), days=7)[0]
    plan = selectors.series_plan(treatment=peel, first=first)
    assert plan.is_complete
    put_in_draft(client, PEEL, plan.slots)
    response = client.post(reverse("bookings:details", kwargs={"slug": PEEL}), details())
    assert response.status_code == 302, response.content.decode()[:2000]
    return Series.objects.get(treatment=peel)


def peel_pages(client, peel) -> dict[str, str]:
    """Every page a patient sees about the peel, from its explainer to its manage link."""
    pages = {}
    for path in [f"/treatments/{PEEL}/", f"/treatments/{PEEL}/how-it-works/", f"/treatments/{PEEL}/faq/",
                 reverse("bookings:book", kwargs={"slug": PEEL}), reverse("privacy")]:
        pages[path] = client.get(path)
    first = selectors.available_slots(treatment=peel, start_date=date(2027, 3, 2), days=7)[0]
    put_in_draft(client, PEEL, [first])
    pages["review"] = client.get(reverse("bookings:review", kwargs={"slug": PEEL}))
    plan = selectors.series_plan(treatment=peel, first=first)
    put_in_draft(client, PEEL, plan.slots)
    pages["details"] = client.get(reverse("bookings:details", kwargs={"slug": PEEL}))
    pages["details with errors"] = client.post(
        reverse("bookings:details", kwargs={"slug": PEEL}), details(consent_treatment=None)
    )
    series = book_peel_online(client, peel)
    pages["done"] = client.get(reverse("bookings:done", kwargs={"slug": PEEL}))
    token = manage_path(series).rstrip("/").rsplit("/", 1)[-1]
    for name in ["manage_move", "manage_cancel", "manage_cancel_rest", "manage_answers"]:
        pages[name] = client.get(reverse(f"bookings:{name}", kwargs={"token": token, "number": 2}))
    pages["manage"] = client.get(manage_path(series))
    services.appointment_cancel(appointment=series.appointments.get(session_number=3))
    pages["manage_book"] = client.get(reverse("bookings:manage_book", kwargs={"token": token, "number": 3}))
    pages["manage after a cancellation"] = client.get(manage_path(series))
    return pages


def test_every_page_about_the_second_treatment_speaks_only_of_it(client, peel):
    pages = peel_pages(client, peel)

    for name, response in pages.items():
        assert response.status_code in (200, 400), (name, response.status_code)
        html = response.content.decode()
        assert leaks(html) == [], name
    assert "I understand what a chemical peel involves" in pages["details"].content.decode()


def every_e_mail(series: Series) -> dict[str, object]:
    """Each kind of e-mail the outbox can send about `series`, built as the worker builds it."""
    appointments = list(series.appointments.select_related("practitioner"))
    second = next(a for a in appointments if a.session_number == 2)
    built = {}
    for kind in OutboxMessage.Kind:
        message = OutboxMessage(
            key=f"test:{kind}", kind=kind, series=series, appointment=second, session_number=2,
            anchor_at=second.start, due_at=second.start, appointment_ids=[second.pk],
        )
        built[kind] = emails.build(message, appointments=appointments, rules=ClinicRules.load())
    return built


def test_every_e_mail_about_the_second_treatment_speaks_only_of_it(client, peel):
    series = book_peel_online(client, peel)

    for kind, email in every_e_mail(series).items():
        html, _ = email.alternatives[0]
        for part in (email.subject, email.body, html):
            assert leaks(part) == [], kind
    built = every_e_mail(series)
    assert peel.preparation.split(".")[0] in built[OutboxMessage.Kind.REMINDER].body
    assert "Let flaking skin come away on its own" in built[OutboxMessage.Kind.AFTERCARE].body
    assert "Any flaking should be easing" in built[OutboxMessage.Kind.AFTERCARE_FOLLOWUP].body


def test_microneedlings_own_words_moved_into_its_data_and_still_show(client, frozen):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48, horizon_days=90)
    microneedling = Treatment.objects.get(slug="microneedling")
    PractitionerFactory(treatments=[microneedling])
    RoomFactory(treatments=[microneedling])
    first = selectors.available_slots(treatment=microneedling, start_date=date(2027, 3, 2), days=7)[0]
    put_in_draft(client, "microneedling", selectors.series_plan(treatment=microneedling, first=first).slots)
    response = client.post(reverse("bookings:details", kwargs={"slug": "microneedling"}), details())
    series = Series.objects.get(treatment=microneedling)

    assert response.status_code == 302
    assert "About 60 minutes, numbing included" in client.get("/treatments/microneedling/").content.decode()
    built = every_e_mail(series)
    assert "The numbing cream needs 20 to 45 minutes" in built[OutboxMessage.Kind.REMINDER].body
    assert "Redness like mild sunburn" in built[OutboxMessage.Kind.AFTERCARE].body
    assert Questionnaire.objects.get(series=series).consent_text.startswith(
        "I understand what microneedling involves"
    )


def test_the_consent_kept_with_a_booking_is_the_one_the_patient_read(client, peel):
    series = book_peel_online(client, peel)
    read = peel.consent_text
    peel.consent_text = "Reworded later by staff."
    peel.save()

    assert Questionnaire.objects.get(series=series).consent_text == read
    assert Appointment.objects.filter(series=series).count() == peel.sessions_in_series


def test_the_front_desk_reads_out_the_treatments_own_consent(peel):
    form = PhoneAnswersForm(treatment=peel)

    assert "I understand what a chemical peel involves" in form.fields["consent_treatment"].label
    assert leaks(str(form.fields["consent_treatment"].label)) == []


def test_the_peel_asks_only_its_own_safety_questions_online_in_reminders_and_on_the_manage_link(client, peel):
    asked = ["pregnant", "isotretinoin", "active_skin_condition", "keloid"]
    assert peel.safety_questions == asked  # shipped by the content migration
    first = selectors.available_slots(treatment=peel, start_date=date(2027, 3, 2), days=7)[0]
    slots = selectors.series_plan(treatment=peel, first=first).slots
    put_in_draft(client, PEEL, slots)

    page = client.get(reverse("bookings:details", kwargs={"slug": PEEL})).content.decode()
    series = book_peel_online(client, peel)
    reminder = every_e_mail(series)[OutboxMessage.Kind.REMINDER].body
    token = manage_path(series).rstrip("/").rsplit("/", 1)[-1]
    answers_page = client.get(
        reverse("bookings:manage_answers", kwargs={"token": token, "number": 2})
    ).content.decode()

    for text in (page, reminder, answers_page):
        assert "blood thinners" not in text
        assert "keloid" in text
    assert sorted(Questionnaire.objects.get(series=series).answers) == sorted(asked)


def test_a_treatment_never_given_a_choice_asks_every_question(client, frozen):
    from bookings.questionnaire import QUESTIONS, questions_for

    assert questions_for(Treatment.objects.get(slug="microneedling")) == QUESTIONS
    assert questions_for(Treatment(safety_questions=[])) == ()
