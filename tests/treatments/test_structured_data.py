"""JSON-LD: parses, matches what the page shows, and cannot break out of its <script>."""

import pytest

from tests.bookings.factories import PractitionerFactory
from tests.treatments.factories import FAQItemFactory, HowItWorksStepFactory, TreatmentFactory
from tests.treatments.helpers import json_ld
from treatments.models import Treatment

pytestmark = pytest.mark.django_db


def test_faq_page_json_ld_lists_exactly_the_faq_items_in_order(client):
    treatment = Treatment.objects.get(slug="microneedling")
    items = list(treatment.faqs.all())

    (data,) = json_ld(client.get("/treatments/microneedling/faq/").content.decode())

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "FAQPage"
    assert [(q["name"], q["acceptedAnswer"]["text"]) for q in data["mainEntity"]] == [
        (item.question, item.answer) for item in items
    ]
    assert {q["@type"] for q in data["mainEntity"]} == {"Question"}
    assert {q["acceptedAnswer"]["@type"] for q in data["mainEntity"]} == {"Answer"}


@pytest.mark.parametrize("path", ["/treatments/microneedling/", "/treatments/microneedling/how-it-works/"])
def test_treatment_pages_describe_a_medical_procedure(client, path):
    (data,) = json_ld(client.get(path).content.decode())

    assert data["@type"] == "MedicalWebPage"
    assert data["url"] == f"http://testserver{path}"
    assert data["about"]["@type"] == "MedicalProcedure"
    assert data["about"]["name"] == "Microneedling"
    assert data["about"]["alternateName"] == "collagen induction therapy"


def test_how_it_works_json_ld_says_how_the_procedure_is_performed(client):
    (data,) = json_ld(client.get("/treatments/microneedling/how-it-works/").content.decode())

    assert "Numbing cream: A topical numbing cream" in data["about"]["howPerformed"]


def test_staff_text_cannot_close_the_json_ld_script(client):
    item = FAQItemFactory(question="Is </script><script>alert(1)</script> safe?", answer="<!-- & -->")
    HowItWorksStepFactory(treatment=item.treatment, body="</script>")

    for page in ["faq", "how-it-works"]:
        html = client.get(f"/treatments/{item.treatment.slug}/{page}/").content.decode()
        assert "</script><script>alert(1)" not in html
        assert html.count("</script>") == html.count("<script")  # only the page's own scripts close

    (data,) = json_ld(client.get(f"/treatments/{item.treatment.slug}/faq/").content.decode())
    assert data["mainEntity"][0]["name"] == item.question
    assert data["mainEntity"][0]["acceptedAnswer"]["text"] == "<!-- & -->"


def test_home_page_describes_the_clinic_and_its_published_treatments(client, settings):
    (data,) = json_ld(client.get("/").content.decode())

    assert data["@type"] == "MedicalClinic"
    assert data["name"] == settings.CLINIC_NAME
    assert data["telephone"] == settings.CLINIC_PHONE
    assert [service["name"] for service in data["availableService"]] == ["Microneedling", "Chemical peel"]


def test_each_procedure_says_how_it_reaches_the_skin(client):
    (data,) = json_ld(client.get("/").content.decode())

    types = {service["name"]: service["procedureType"] for service in data["availableService"]}
    assert types == {
        "Microneedling": "https://schema.org/PercutaneousProcedure",
        "Chemical peel": "https://schema.org/NoninvasiveProcedure",
    }


def test_home_page_gives_the_clinic_a_postal_address_from_settings(client, settings):
    settings.CLINIC_STREET = "3 Harbour Lane"
    settings.CLINIC_LOCALITY = "Bristol"
    settings.CLINIC_POSTCODE = "BS1 4AA"
    settings.CLINIC_COUNTRY = "GB"

    (data,) = json_ld(client.get("/").content.decode())

    assert data["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "3 Harbour Lane",
        "addressLocality": "Bristol",
        "postalCode": "BS1 4AA",
        "addressCountry": "GB",
    }


def test_opening_hours_are_the_union_of_the_working_hours_of_who_performs_a_published_treatment(client):
    treatment = Treatment.objects.get(slug="microneedling")
    hidden = TreatmentFactory(is_published=False)
    monday_gap = [(0, "09:00", "13:00"), (0, "14:00", "17:00"), (2, "09:00", "13:00")]
    fills_the_gap = [(0, "12:00", "14:00"), (2, "09:00", "13:00"), (5, "10:00", "12:00")]
    PractitionerFactory(treatments=[treatment], hours=monday_gap)
    PractitionerFactory(treatments=[treatment], hours=fills_the_gap)
    PractitionerFactory(treatments=[treatment], hours=[(6, "08:00", "20:00")], is_active=False)
    PractitionerFactory(treatments=[hidden], hours=[(4, "08:00", "20:00")])

    (data,) = json_ld(client.get("/").content.decode())

    spec = {"@type": "OpeningHoursSpecification"}
    assert data["openingHoursSpecification"] == [
        {**spec, "dayOfWeek": ["Monday"], "opens": "09:00", "closes": "17:00"},
        {**spec, "dayOfWeek": ["Wednesday"], "opens": "09:00", "closes": "13:00"},
        {**spec, "dayOfWeek": ["Saturday"], "opens": "10:00", "closes": "12:00"},
    ]


def test_days_with_the_same_hours_share_one_specification(client):
    PractitionerFactory(
        treatments=[Treatment.objects.get(slug="chemical-peel")],
        hours=[(day, "10:00", "18:00") for day in range(5)],
    )

    (data,) = json_ld(client.get("/").content.decode())

    assert data["openingHoursSpecification"] == [{
        "@type": "OpeningHoursSpecification",
        "dayOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
        "opens": "10:00",
        "closes": "18:00",
    }]


def test_a_clinic_with_no_working_hours_yet_gives_no_opening_hours(client):
    (data,) = json_ld(client.get("/").content.decode())

    assert "openingHoursSpecification" not in data
