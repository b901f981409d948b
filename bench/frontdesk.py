"""
The front desk's daily tasks in a real browser: clicks and page loads per task, against targets.

Builds a dedicated PostgreSQL database from BENCH_FRONTDESK_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/clinic_bench_frontdesk; never DATABASE_URL: the bookings
tables are emptied) with the demo clinic (`load_demo`) and a few patients set up for the tasks,
serves it with gunicorn on BENCH_FRONTDESK_PORT (default 18501), signs in as the demo front desk
and drives Debian's Chromium (Playwright, the launch options of tests/browser) through each task
from the day diary. A click is a mouse click (or Enter in a field); typing is not counted; a page
load is a document loaded in the tab; a drag (press, move, release) is one click. Prints a table;
asserts nothing; a miss is printed as one.

    .venv/bin/python bench/frontdesk.py
"""

import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import django_for_bench  # noqa: E402

DATABASE_URL = django_for_bench(
    "BENCH_FRONTDESK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_frontdesk"
)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from bench._harness import bench_site, database_create_if_missing  # noqa: E402
from bookings import calendar, selectors, services  # noqa: E402
from bookings.questionnaire import QUESTIONS  # noqa: E402
from bookings.models import Appointment, OutboxMessage, Patient, Practitioner, Series  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.servers import GUNICORN, serve  # noqa: E402
from treatments.models import Treatment  # noqa: E402

PORT = int(os.environ.get("BENCH_FRONTDESK_PORT", "18501"))
SHOTS = ROOT / "test-artifacts"  # screenshots of the phone booking, to look at
TABLES = [
    "bookings_auditevent", "bookings_outboxmessage", "bookings_appointment", "bookings_questionnaire",
    "bookings_series", "bookings_patient",
]  # fmt: skip
TARGETS = {
    "Book a new patient's series by phone": 8,
    "Move a session": 3,
    "Check in": 1,
    "Find a patient": 2,
    "Repair a missing session": 4,
    "Resend a failed e-mail": 2,
}


def _series(treatment, patient: Patient, starts: list, practitioner, statuses: list[str]) -> Series:
    """A series written as rows (past sessions included, which no service books)."""
    series = Series.objects.create(patient=patient, treatment=treatment, source=Series.Source.PHONE)
    for number, (start, status) in enumerate(zip(starts, statuses), start=1):
        Appointment.objects.create(
            series=series, patient=patient, session_number=number, practitioner=practitioner, start=start,
            end=start + timedelta(minutes=treatment.session_minutes), status=status,
            cancelled_at=timezone.now() if status == "cancelled" else None,
        )  # fmt: skip
    return series


def build() -> dict:
    """The demo clinic, plus: a patient to check in today, one whose session 2 is missing with its
    window closing, and a failed e-mail."""
    database_create_if_missing(DATABASE_URL)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))
    treatment = Treatment.objects.get(slug="microneedling")
    practitioner = Practitioner.objects.get(name="Dr Amara Okafor")
    tz = selectors.clinic_zone()
    today = timezone.localdate()
    at = lambda day, hour: selectors.local_midnight(day, tz) + timedelta(hours=hour)  # noqa: E731
    checkin = Patient.objects.create(name="Casey Checkin", email="casey@example.com", phone="07700 900201")
    _series(treatment, checkin, [at(today, 7)], practitioner, ["booked"])
    repair = Patient.objects.create(name="Riley Repair", email="riley@example.com", phone="07700 900202")
    # Session 1 long enough ago that session 2's window closes in 5 days; session 2 was cancelled.
    first = today - timedelta(days=treatment.max_days_between - 5)
    series = _series(treatment, repair, [at(first, 10), at(today - timedelta(days=3), 10)], practitioner,
                     ["completed", "cancelled"])  # fmt: skip
    OutboxMessage.objects.create(
        key=f"bench-failed-{series.pk}", kind=OutboxMessage.Kind.SERIES_BOOKED, series=series,
        anchor_at=timezone.now(), due_at=timezone.now(), status=OutboxMessage.Status.FAILED, attempts=5,
        last_error="550 5.1.1 mailbox unavailable",
    )  # fmt: skip
    return {
        "mover": _mover(treatment, practitioner),
        "sessions": treatment.sessions_in_series,
        "treatment": treatment.name,
    }


def _mover(treatment, practitioner) -> dict:
    """Morgan Mover's series, booked from the first free time on the next day Dr Okafor works, and
    the time the front desk drags it to: the first one, an hour or more later that day, that the
    move calendar offers without moving later sessions."""
    today = timezone.localdate()
    tz = selectors.clinic_zone()
    for ahead in range(1, 15):
        day = today + timedelta(days=ahead)
        starts = selectors.available_slots(
            treatment=treatment, start_date=day, days=1, practitioner=practitioner, for_staff=True
        )
        plans = (selectors.series_plan(treatment=treatment, first=first, for_staff=True) for first in starts)
        plan = next((plan for plan in plans if plan.is_complete), None)
        if plan is None:
            continue
        series = services.series_book(
            treatment=treatment,
            patient=services.PatientDetails(
                name="Morgan Mover", email="morgan@example.com", phone="07700 900204"
            ),
            slots=plan.slots, answers={question.key: False for question in QUESTIONS},
            consent_treatment=True, consent_privacy=True, source=Series.Source.PHONE, for_staff=True,
        )  # fmt: skip
        session = series.appointments.get(session_number=1)
        month = calendar.move_calendar(appointment=session, day=day, for_staff=True)
        later = [
            choice.slot for choice in month.times
            if choice.slot.practitioner_id == practitioner.pk and not choice.pushes
            and choice.slot.start >= session.start + timedelta(hours=1)
        ]  # fmt: skip
        if not later:
            break
        return {"name": "Morgan Mover", "day": day, "from": session.start.astimezone(tz),
                "to": later[0].start.astimezone(tz)}  # fmt: skip
    raise RuntimeError("Found no day for Morgan Mover's session with a later free time to drag it to.")


@dataclass
class Tally:
    clicks: int = 0
    loads: int = 0
    note: str = ""


class FrontDesk:
    """The tab the front desk works in, counting what they do."""

    def __init__(self, page, base: str):
        self.page, self.base, self.tally, self.waiting_for = page, base, Tally(), None
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame):
        if frame != self.page.main_frame:
            return
        if self.waiting_for:  # the task's starting page, whose event may arrive after goto returned
            self.waiting_for = None
            return
        self.tally.loads += 1  # one per document shown (a redirect shows one)

    def click(self, locator):
        locator.first.click()
        self.page.wait_for_load_state("load")
        self.tally.clicks += 1

    def enter(self, locator):
        locator.press("Enter")
        self.page.wait_for_load_state("load")
        self.tally.clicks += 1

    def start(self, path: str = "/staff/") -> Tally:
        """Begin a task on the day diary (that first load is not the task's)."""
        self.tally = Tally()
        self.waiting_for = self.base + path
        self.page.goto(self.waiting_for)
        return self.tally


# A free half hour in the day diary whose next half hour is free too (a 60-minute session fits), at
# least an hour ahead: the link's aria-label is "Book 10:00 with Dr Amara Okafor, Tue 1 Dec".
_FREE_PLACE = """
(earliest) => {
  const places = [...document.querySelectorAll("a.diary-free")].map((link) => {
    const [, time, who] = link.getAttribute("aria-label").match(/^Book (\\d\\d:\\d\\d) with (.+),/);
    return {href: link.getAttribute("href"), time, who};
  });
  const later = (time) => {
    const [h, m] = time.split(":").map(Number);
    const next = h * 60 + m + 30;
    return `${String(Math.floor(next / 60)).padStart(2, "0")}:${String(next % 60).padStart(2, "0")}`;
  };
  const fits = places.filter((place) => place.time >= earliest
    && places.some((other) => other.who === place.who && other.time === later(place.time)));
  return fits.length ? fits[0].href : null;
}
"""


def book_by_phone(desk: FrontDesk, sessions: int, treatment: str) -> None:
    """A new caller wants a series: from a free time in the diary, register them with the treatment,
    accept the planned series, ask the safety questions (all "No") and the consents, book."""
    page = desk.page
    earliest = f"{timezone.localtime() + timedelta(hours=1):%H:%M}"
    for _ in range(7):  # late in the day, or nobody free today: the next day's diary (each a click)
        href = page.evaluate(_FREE_PLACE, earliest)
        if href:
            break
        desk.click(page.get_by_role("link", name="Next day"))
        earliest = "00:00"
    desk.click(page.locator(f"a.diary-free[href='{href}']"))
    desk.click(page.get_by_role("link", name="New patient").first)
    page.get_by_label("Full name").fill("Noor Newcaller")
    page.get_by_label("Email address").fill("noor@example.com")
    page.get_by_label("Phone number").fill("07700 900303")
    page.get_by_label("Book a series of").select_option(label=treatment)
    desk.tally.clicks += 1  # choosing the treatment from the list
    desk.click(page.get_by_role("button", name="Register patient"))
    if page.locator("a[href*='?first=']").count():  # the picked time did not fit: choose a first time
        desk.click(page.locator("a[href*='?first=']"))
    page.screenshot(path=str(SHOTS / "frontdesk-book-plan.png"), full_page=True)
    page.get_by_label("I read out every question above; the patient answered No to each one not marked Yes").check()
    desk.tally.clicks += 1
    for box in page.locator("input[type=checkbox][name^=consent]").all():
        box.check()
        desk.tally.clicks += 1
    desk.click(page.get_by_role("button", name=f"Book {sessions} sessions"))
    booked = page.get_by_text(f"Booked {sessions} sessions").count() > 0
    desk.tally.note = (
        f"{sessions}-session series booked from a free time in the diary" if booked else "NOT booked"
    )


def move_session(desk: FrontDesk, mover: dict) -> None:
    """The patient calls to move their session: go to its day, drag the block to the new time, confirm."""
    page = desk.page
    page.get_by_label("Go to date").fill(f"{mover['day']:%Y-%m-%d}")
    desk.click(page.get_by_role("button", name="Show", exact=True))
    block = page.locator(".diary-block").filter(has_text=mover["name"])
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    track = block.locator("xpath=ancestor::div[contains(@class, 'diary-track')]").bounding_box()
    length = int(page.locator(".diary").evaluate("diary => diary.style.getPropertyValue('--length')"))
    minutes = (mover["to"] - mover["from"]).total_seconds() / 60
    x, y = box["x"] + 24, box["y"] + box["height"] * 0.6  # on the name's line, clear of the button
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + minutes * track["height"] / length, steps=10)
    with page.expect_navigation():
        page.mouse.up()  # press, move, release: one action
    page.wait_for_load_state("load")
    desk.tally.clicks += 1
    later = page.locator(".move-later > li").count()
    desk.click(page.get_by_role("button", name=re.compile("^Confirm: move")))
    moved = page.get_by_text("Moved session").count() > 0 and block.filter(
        has_text=f"{mover['to']:%H:%M}–"
    ).count() == 1
    done = f"dragged in the diary to {mover['to']:%H:%M}, {later} later sessions listed"
    desk.tally.note = done if moved else "NOT moved"


def check_in(desk: FrontDesk) -> None:
    page = desk.page
    desk.click(page.get_by_role("button", name="Check in Casey Checkin"))
    desk.tally.note = "checked in" if page.get_by_text("checked in").count() else "NOT checked in"


def find_patient(desk: FrontDesk) -> None:
    page = desk.page
    desk.click(page.get_by_role("link", name="Patients", exact=True))
    page.get_by_label("Name, e-mail or phone").fill("priya")
    desk.enter(page.get_by_label("Name, e-mail or phone"))
    found = page.get_by_role("link", name="Priya Shah").count() > 0
    desk.tally.note = "results show the next appointment and series progress" if found else "NOT found"


def repair_session(desk: FrontDesk) -> None:
    page = desk.page
    desk.click(page.get_by_role("link", name="Worklist"))
    desk.click(page.get_by_role("link", name="Book session 2"))
    desk.click(page.locator("button[name=slot]"))
    desk.tally.note = (
        "rebooked from the worklist" if page.get_by_text("Booked session 2").count() else "NOT rebooked"
    )


def resend(desk: FrontDesk) -> None:
    page = desk.page
    desk.click(page.get_by_role("link", name="Worklist"))
    desk.click(page.get_by_role("button", name="Send again"))
    desk.tally.note = "queued again" if page.get_by_text("is being sent again").count() else "NOT resent"


def main() -> None:
    started = time.perf_counter()
    SHOTS.mkdir(exist_ok=True)
    data = build()
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = os.environ.get("BENCH_FRONTDESK_REDIS_URL", "redis://127.0.0.1:6379/14")
    results: dict[str, Tally] = {}
    with bench_site() as env:
        argv = [GUNICORN, "clinic.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2"]
        with serve(argv, port=PORT, env=env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/staff/login/")
            page.get_by_label("Username").fill("frontdesk")
            page.get_by_label("Password").fill("frontdesk")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state("load")
            desk = FrontDesk(page, base)
            tasks = [
                (
                    "Book a new patient's series by phone",
                    lambda: book_by_phone(desk, data["sessions"], data["treatment"]),
                ),
                ("Move a session", lambda: move_session(desk, data["mover"])),
                ("Check in", lambda: check_in(desk)),
                ("Find a patient", lambda: find_patient(desk)),
                ("Repair a missing session", lambda: repair_session(desk)),
                ("Resend a failed e-mail", lambda: resend(desk)),
            ]
            for name, task in tasks:
                desk.start()
                try:
                    task()
                except Exception as error:  # noqa: BLE001 (a bench reports a task it could not finish)
                    desk.tally.note = f"FAILED: {type(error).__name__}: {str(error).splitlines()[0][:90]}"
                results[name] = desk.tally
            browser.close()
    print(
        f"\nFront desk tasks in Chromium (1280 px), from the day diary "
        f"({time.perf_counter() - started:.0f} s):"
    )
    print(f"{'task':40} {'clicks':>6} {'target':>6} {'loads':>5}  result")
    for name, tally in results.items():
        target = TARGETS[name]
        verdict = (
            "met" if tally.clicks <= target and not tally.note.startswith(("NOT", "FAILED")) else "MISSED"
        )
        print(f"{name:40} {tally.clicks:>6} {'≤' + str(target):>6} {tally.loads:>5}  {verdict}: {tally.note}")


if __name__ == "__main__":
    main()
