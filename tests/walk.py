"""
Walk a running site over HTTP the way its people use it: a patient books a series through the
/book/ pages, opens the manage link and what it leads to; the front desk signs in, searches
patients by name, e-mail and phone and opens every kind of staff page; a manager opens the hours.
Every page is reached through the links of the pages before it, so a page added later is walked
too; every answer below 500 is fine, any 5xx is collected and reported with its address.

Shared by tests/test_production_smoke.py (gunicorn, DEBUG off, Redis, SMTP) and
tests/test_embedded_run.py (`make run`: embedded PostgreSQL, file broker, console e-mail).
"""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.urls import Resolver404, resolve

TREATMENT = "microneedling"
NOT_FOUND = "/no-such-page-anywhere/"
# A page kind is its URL pattern; query strings do not make new kinds. Patient search by name,
# e-mail and phone are the same pattern, so the walk asks for each explicitly.
SKIPPED = ("/static/", "/media/", "/admin/", "/staff/logout/")

# Page kinds each walk must have reached (URL patterns, as Django's resolver names them).
PATIENT_PAGES = {
    "",  # home
    "treatments/",
    "treatments/<slug:slug>/",
    "treatments/<slug:slug>/how-it-works/",
    "treatments/<slug:slug>/faq/",
    "book/<slug:slug>/",
    "book/<slug:slug>/series/",
    "book/<slug:slug>/details/",
    "book/<slug:slug>/booked/",
    "bookings/manage/<str:token>/",
    "bookings/manage/<str:token>/calendar.ics",
    "bookings/manage/<str:token>/sessions/<int:number>/move/",
    "bookings/manage/<str:token>/sessions/<int:number>/cancel/",
    NOT_FOUND,
}
FRONT_DESK_PAGES = {
    "staff/",  # day
    "staff/week/",
    "staff/appointments/<int:pk>/",
    "staff/appointments/<int:pk>/move/",
    "staff/patients/",
    "staff/patients/<int:pk>/",
    "staff/patients/<int:pk>/book/",
    "staff/patients/<int:pk>/book/<slug:slug>/",
}
MANAGER_PAGES = {"staff/practitioners/", "staff/practitioners/<int:pk>/hours/"}


# --- An HTTP client that keeps cookies and reads forms ---------------------------------------------


class _AnyCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Sends Secure cookies over the loopback's plain HTTP, as a browser does behind a TLS proxy."""

    def return_ok_secure(self, cookie, request):
        return True

    def set_ok_domain(self, cookie, request):
        return True

    def return_ok_domain(self, cookie, request):
        return True


class _NoRaise(urllib.request.HTTPErrorProcessor):
    """Follows redirects; hands every other answer (404, 500...) back instead of raising it."""

    def http_response(self, request, response):
        if 300 <= response.status < 400:
            return super().http_response(request, response)
        return response

    https_response = http_response


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # what a browser would send as is
    radios: dict[str, list[str]] = field(default_factory=dict)  # every value offered per radio name
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._selected = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        form = self.forms[-1] if self.forms else None
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append(Form(action=attrs.get("action", ""), method=attrs.get("method", "get").lower()))
        elif tag == "option" and self._select and form is not None:
            if not self._select_first:  # the first real choice, past a "---------" placeholder
                self._select_first = attrs.get("value", "")
            if "selected" in attrs:
                form.fields.append((self._select, attrs.get("value", "")))
                self._selected = True
        elif form is None or not attrs.get("name"):
            return
        elif tag == "input":
            kind, name, value = attrs.get("type", "text").lower(), attrs["name"], attrs.get("value", "")
            if kind == "radio":
                form.radios.setdefault(name, []).append(value)
                if "checked" in attrs:
                    form.fields.append((name, value))
            elif kind == "checkbox":
                if "checked" in attrs:
                    form.fields.append((name, value or "on"))
            elif kind == "submit":
                form.buttons.append((name, value))
            elif kind not in ("button", "reset", "file", "image"):
                form.fields.append((name, value))
        elif tag == "button" and attrs.get("type", "submit") == "submit":
            form.buttons.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self._select, self._select_first, self._selected = attrs["name"], None, False
        elif tag == "textarea":
            self._textarea = attrs["name"]
            form.fields.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._selected and self._select_first is not None:
                self.forms[-1].fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@dataclass
class Response:
    url: str  # after redirects
    status: int
    headers: dict
    body: bytes
    path: str  # of the request (before redirects)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def parsed(self) -> _Page:
        page = _Page()
        if "html" in self.headers.get("Content-Type", ""):
            page.feed(self.text)
        return page

    def links(self) -> list[str]:
        return [urllib.parse.urljoin(self.url, href) for href in self.parsed().links]

    def searches(self) -> list[str]:
        """The page's GET forms (filters, searches), submitted with what they hold."""
        return [
            urllib.parse.urljoin(self.url, form.action or urllib.parse.urlsplit(self.url).path)
            + "?" + urllib.parse.urlencode(form.fields)
            for form in self.parsed().forms if form.method == "get"
        ]  # fmt: skip

    def json(self):
        return json.loads(self.body)


class Client:
    """A person's browser, minus JavaScript: cookies, redirects, forms with their CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        jar = http.cookiejar.CookieJar(policy=_AnyCookiePolicy())
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRaise())
        self.server_errors: list[str] = []
        self.opened: dict[str, Response] = {}  # the first page of each kind this client was shown

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def request(self, path: str, *, data: bytes | None = None, headers: dict | None = None) -> Response:
        url = self._url(path)
        request = urllib.request.Request(url, data=data, headers={"Origin": self.base_url, **(headers or {})})
        with self._opener.open(request, timeout=60) as answer:
            response = Response(answer.geturl(), answer.status, dict(answer.headers), answer.read(), path)
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {url}: {response.text[:300]!r}")
        self.opened.setdefault(page_kind(response.url), response)
        return response

    def get(self, path: str) -> Response:
        return self.request(path)

    def post(self, path: str, fields: list[tuple[str, str]] | dict) -> Response:
        return self.request(path, data=urllib.parse.urlencode(fields).encode())

    def post_json(self, path: str, body: dict) -> Response:
        return self.request(path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    def submit(self, page: Response, *, form: int = -1, button=None, **overrides: str) -> Response:
        """Submit one of the page's forms (the last by default) with `overrides`, as a browser would."""
        chosen = _post_forms(page)[form]
        fields = [(name, value) for name, value in chosen.fields if name not in overrides]
        fields += list(overrides.items())
        if button is None and chosen.buttons:
            button = chosen.buttons[0]
        if button:
            fields.append(button)
        return self.post(urllib.parse.urljoin(page.url, chosen.action or page.url), fields)

    def sign_in(self, username: str, password: str) -> Response:
        page = self.get("/staff/login/")
        signed_in = self.submit(page, username=username, password=password)
        assert "/staff/login/" not in signed_in.url, f"{username} could not sign in: {signed_in.text[:500]}"
        return signed_in


def _post_forms(page: Response) -> list[Form]:
    forms = [form for form in page.parsed().forms if form.method == "post"]
    assert forms, f"no form to submit on {page.url} ({page.status})"
    return forms


# --- Walking ------------------------------------------------------------------------------------


def page_kind(url: str) -> str:
    """The URL pattern a link leads to ("staff/appointments/<int:pk>/"), or its path if none."""
    path = urllib.parse.urlsplit(url).path
    try:
        return resolve(path).route
    except Resolver404:
        return path


def walk(client: Client, start: list[str], *, within: str = "/", limit: int = 60) -> None:
    """Open `start`, then every link (inside `within`) to a kind of page the client has not opened,
    and each kind's GET forms once (a filled-in search or filter shows what the bare page does not)."""
    queue = deque((url, url) for url in start)  # (address, what makes it new: its kind, or itself)
    done: set[str] = set()
    origin = urllib.parse.urlsplit(client.base_url).netloc
    opened = 0  # pages fetched: links skipped as already seen do not count (a diary has dozens)
    while queue and opened < limit:
        url, key = queue.popleft()
        if key in done or urllib.parse.urlsplit(client._url(url)).netloc != origin:
            continue
        done.add(key)
        opened += 1
        page = client.get(url)
        found = [(link, page_kind(link)) for link in page.links()]
        found += [(search, page_kind(search) + "?") for search in page.searches()]
        for link, link_key in found:
            path = urllib.parse.urlsplit(link).path
            if path.startswith(within) and not path.startswith(SKIPPED) and link_key not in done:
                if link_key.endswith("?") or link_key not in client.opened:
                    queue.append((link, link_key))


def assert_no_server_error(client: Client) -> None:
    __tracebackhide__ = True
    assert not client.server_errors, "5xx answers:\n" + "\n".join(client.server_errors)


def assert_reached(client: Client, kinds: set[str], who: str) -> None:
    __tracebackhide__ = True
    missing = kinds - set(client.opened)
    assert not missing, f"the {who} walk never reached {sorted(missing)}; it opened {sorted(client.opened)}"


# --- What people do -------------------------------------------------------------------------------


@dataclass
class Patient:
    name: str
    email: str
    phone: str


def book_online(client: Client, patient: Patient, *, slug: str = TREATMENT) -> Response:
    """Book a whole series through /book/: first free time, the planned series, details. The
    confirmation page is returned (its manage link leads to the rest)."""
    calendar = client.get(f"/book/{slug}/")
    for _ in range(8):  # a week with nothing free (holidays): the calendar's link to the next one
        slots = [button for form in _post_forms(calendar) for button in form.buttons if button[0] == "slot"]
        if slots:
            break
        later = [link for link in calendar.links() if "week=" in link and link > calendar.url]
        assert later, f"no free time and no later week on {calendar.url}"
        calendar = client.get(later[-1])
    else:
        raise AssertionError(f"no free time within eight weeks on /book/{slug}/")
    review = client.submit(calendar, button=slots[0])
    assert review.url.endswith(f"/book/{slug}/series/"), f"{review.url}: {review.text[:500]}"
    details = client.submit(review)
    assert details.url.endswith(f"/book/{slug}/details/"), f"{details.url}: {details.text[:500]}"
    answers = {name: "no" for name in _post_forms(details)[-1].radios if name.startswith("answer_")}
    done = client.submit(
        details, name=patient.name, email=patient.email, phone=patient.phone,
        consent_treatment="on", consent_privacy="on", **answers,
    )  # fmt: skip
    assert done.url.endswith(f"/book/{slug}/booked/"), f"{done.url}: {done.text[:800]}"
    return done


def manage_link(page: Response) -> str:
    links = [link for link in page.links() if page_kind(link) == "bookings/manage/<str:token>/"]
    assert links, f"no manage link on {page.url}"
    return links[0]


def book_by_api(client: Client, patient: Patient, *, slug: str = TREATMENT, days_ahead: int = 20) -> Response:
    """POST /api/series/ at the first free time the API lists from `days_ahead` days on."""
    from datetime import date, timedelta

    start = date.today() + timedelta(days=days_ahead)
    slots = client.get(f"/api/availability/?treatment={slug}&start={start:%Y-%m-%d}&days=14").json()["slots"]
    assert slots, "the API lists no free time"
    from bookings.questionnaire import QUESTIONS

    body = {
        "treatment": slug, "first_start": slots[0]["start"], "practitioner": slots[0]["practitioner"],
        "patient": {"name": patient.name, "email": patient.email, "phone": patient.phone},
        "answers": {question.key: False for question in QUESTIONS}, "consent": True,
    }  # fmt: skip
    response = client.post_json("/api/series/", body)
    assert response.status == 201, f"{response.status}: {response.text[:800]}"
    return response


def walk_patient_pages(client: Client, booked: Response) -> None:
    """After booking: the site's public pages, the manage link and what it offers, a missing page."""
    walk(client, ["/", manage_link(booked), NOT_FOUND], within="/")
    assert client.opened[NOT_FOUND].status == 404, "a missing page should be a 404"


def walk_front_desk(client: Client, patient: Patient) -> None:
    """Signed in as front desk: the diary, the week, the patient found by name, e-mail and phone,
    their page, their appointments (with move and cancel) and the phone booking pages."""
    searches = [
        "/staff/patients/?" + urllib.parse.urlencode({"q": query})
        for query in (patient.name, patient.email, patient.phone)
    ]
    for search in searches:
        found = client.get(search)
        assert found.status == 200 and patient.name in found.text, f"{search} did not find {patient.name}"
    walk(client, ["/staff/", "/staff/week/", *searches], within="/staff/")


def walk_manager(client: Client) -> None:
    walk(client, ["/staff/practitioners/"], within="/staff/practitioners/", limit=20)


def walk_everything(base_url: str, *, patient: Patient, staff: dict[str, tuple[str, str]]) -> Response:
    """Book online as `patient`, then walk every patient, front-desk and manager page kind; fail on
    any 5xx or an unreached kind. `staff` maps "frontdesk", "manager" and "practitioner" to
    (username, password).
    Returns the booking's confirmation page."""
    visitor = Client(base_url)
    booked = book_online(visitor, patient)
    walk_patient_pages(visitor, booked)
    assert_reached(visitor, PATIENT_PAGES, "patient")
    assert_no_server_error(visitor)

    desk = Client(base_url)
    desk.sign_in(*staff["frontdesk"])
    walk_front_desk(desk, patient)
    assert_reached(desk, FRONT_DESK_PAGES, "front desk")
    assert_no_server_error(desk)

    manager = Client(base_url)
    manager.sign_in(*staff["manager"])
    walk_manager(manager)
    assert_reached(manager, MANAGER_PAGES, "manager")
    assert_no_server_error(manager)

    practitioner = Client(base_url)
    practitioner.sign_in(*staff["practitioner"])
    walk_practitioner(practitioner, patient)
    assert_reached(practitioner, PRACTITIONER_PAGES, "practitioner")
    assert_no_server_error(practitioner)
    return booked


# A practitioner's workspace: their day and week, their patients' records and appointments.
PRACTITIONER_PAGES = {
    "staff/",
    "staff/week/",
    "staff/patients/",
    "staff/patients/<int:pk>/",
    "staff/appointments/<int:pk>/",
}


def walk_practitioner(client: Client, patient: Patient) -> None:
    """Signed in as a practitioner: everything their workspace links to. The patient booked online
    (with another practitioner, perhaps) is not theirs: searching for them finds no clinical record."""
    walk(client, ["/staff/", "/staff/week/", "/staff/patients/"], within="/staff/")
    found = client.get("/staff/patients/?" + urllib.parse.urlencode({"q": patient.name}))
    assert found.status in (200, 403), f"patient search as a practitioner: {found.status}"
