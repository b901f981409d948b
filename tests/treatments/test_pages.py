"""The explainer pages a patient reads: the shipped microneedling content, layout and errors."""

import pytest
from django.urls import reverse

from tests.treatments.factories import BenefitFactory, TreatmentFactory
from tests.treatments.helpers import count_tag, visible_text

pytestmark = pytest.mark.django_db

DETAIL = "/treatments/microneedling/"
HOW = "/treatments/microneedling/how-it-works/"
FAQ = "/treatments/microneedling/faq/"
ALL_PAGES = ["/", "/treatments/", DETAIL, HOW, FAQ]

# Third-party wording in the seed that must never reach the site.
FORBIDDEN = [
    "Reader's Digest",
    "Reader’s Digest",
    "Sejal Shah",
    "RealSelf",
    "Vogue",
    "2009",
    "nearly 100 percent",
]


def text_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return visible_text(response.content.decode())


def assert_mentions(text: str, facts: list[str]) -> None:
    missing = [fact for fact in facts if fact not in text]
    assert not missing, f"not on the page: {missing}"


def test_overview_explains_what_microneedling_is_and_its_four_benefits(client):
    text = text_of(client, DETAIL)

    facts = [
        "collagen induction therapy",
        "micro-injuries",
        "natural healing response",
        "new ones",  # cell renewal
        "collagen and elastin",
        "Fine lines and wrinkles",
        "Stretch marks",
        "Acne scars",
        "Skin texture and tone",
        "4 sessions",
        "4 to 6 weeks",
        "About 60 minutes",
        "Book a series",
    ]
    assert_mentions(text, facts)


def test_how_it_works_page_explains_the_session_and_why_it_takes_a_series(client):
    text = text_of(client, HOW)

    facts = [
        "handheld pen",
        "thousands of tiny",
        "micro-channels in the outer layer",
        "invisible",
        "numbing cream",
        "20 to 45 minutes",
        "15 to 30 minutes",
        "A soothing finish",
        "Why it takes a series",
        "Each session adds a little",
        "3 to 6 sessions",
        "4 to 6 weeks apart",
    ]
    assert_mentions(text, facts)


def test_faq_puts_pain_and_numbing_first_and_covers_aftercare(client):
    html = client.get(FAQ).content.decode()
    questions = [part.split("</h2>")[0].split(">")[-1] for part in html.split('<h2 id="faq-')[1:]]

    assert questions[:2] == ["Does microneedling hurt?", "How does the numbing cream work?"]
    assert "What should I do after a session?" in questions
    aftercare = ["mild sunburn", "gentle cleanser", "make-up for 24 hours", "sunscreen", "signs of infection"]
    assert_mentions(visible_text(html), ["topical numbing", "tolerance", *aftercare])


@pytest.mark.parametrize("path", ALL_PAGES)
def test_no_page_repeats_the_seeds_third_party_quotes(client, path):
    html = client.get(path).content.decode()
    text = visible_text(html)  # unescaped, so "Reader&#x27;s" counts as "Reader's"

    for phrase in FORBIDDEN:
        assert phrase not in html, phrase
        assert phrase not in text, phrase


@pytest.mark.parametrize("path", ALL_PAGES)
def test_every_page_has_one_h1_a_title_description_canonical_and_open_graph(client, path):
    html = client.get(path).content.decode()

    assert count_tag(html, "h1") == 1
    assert '<main id="main"' in html
    assert f'<link rel="canonical" href="http://testserver{path}">' in html
    assert '<meta name="description" content="' in html
    assert '<meta property="og:title" content="' in html
    assert "og-default.png" in html


def test_treatment_page_title_and_description_come_from_its_content(client):
    html = client.get(DETAIL).content.decode()

    assert "<title>Microneedling | " in html
    assert 'name="description" content="Microneedling (collagen induction therapy) explained' in html


def test_book_link_points_at_the_booking_flow_for_this_treatment(client):
    html = client.get(DETAIL).content.decode()

    assert 'href="/book/microneedling/"' in html


def test_illustrations_are_shown_with_text_alternatives(client):
    overview = client.get(DETAIL).content.decode()
    how = client.get(HOW).content.decode()

    assert 'src="/static/img/microneedling-benefits.svg" alt="Four panels' in overview
    assert 'src="/static/img/microneedling-collagen.svg" alt="Three cross-sections of skin' in how


def test_list_and_home_show_published_treatments_only(client):
    TreatmentFactory(name="Hidden peel", is_published=False)
    TreatmentFactory(name="Gentle facial")

    for path in ["/", "/treatments/"]:
        text = text_of(client, path)
        assert "Microneedling" in text
        assert "Gentle facial" in text
        assert "Hidden peel" not in text


def test_unknown_treatment_gets_the_styled_not_found_page(client):
    response = client.get("/treatments/no-such-thing/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html
    assert 'href="/treatments/"' in html
    assert count_tag(html, "h1") == 1


@pytest.mark.parametrize("page", ["treatments:detail", "treatments:how_it_works", "treatments:faq"])
def test_unpublished_treatment_pages_are_not_found(client, page):
    treatment = BenefitFactory(treatment__is_published=False).treatment

    assert client.get(reverse(page, kwargs={"slug": treatment.slug})).status_code == 404


def test_staff_text_is_escaped_on_the_page(client):
    treatment = TreatmentFactory(intro="<script>alert(1)</script>")

    html = client.get(treatment.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_explainer_pages_refuse_posts(client):
    assert client.post(DETAIL).status_code == 405


def test_server_error_page_renders_without_the_database(client, django_assert_num_queries):
    from django.template.loader import render_to_string

    with django_assert_num_queries(0):
        html = render_to_string("500.html")

    assert "Sorry, something went wrong" in html
    assert count_tag(html, "h1") == 1
