"""
The embedded default's Celery: with no REDIS_URL the worker uses kombu's file-system broker under
var/celery/ and the console e-mail backend, as `make run` starts it. A booking made by another
process (the web server, here `manage.py shell`) appears in the worker's output.
"""

from tests.celery_worker import celery_process
from tests.servers import manage, project_env
from tests.smtp_sink import wait_until

BOOK = """
from datetime import timedelta
from django.utils import timezone
from bookings import selectors, services
from bookings.questionnaire import QUESTIONS
from treatments.models import Treatment
treatment = Treatment.objects.get(slug="microneedling")
slots = selectors.available_slots(treatment=treatment, start_date=timezone.localdate() + timedelta(days=3), days=14)
plan = selectors.series_plan(treatment=treatment, first=slots[0])
services.series_book(
    treatment=treatment, patient=services.PatientDetails(name="Newcomer", email="newcomer@example.com", phone="07700 900999"),
    slots=plan.slots, answers={q.key: False for q in QUESTIONS}, consent_treatment=True, consent_privacy=True,
)
"""


def test_a_booking_confirmation_appears_in_the_embedded_workers_console(tmp_path):
    env = project_env(DEBUG="1", CLINIC_VAR_DIR=str(tmp_path))
    manage("migrate", "--noinput", env=env)
    manage("load_demo", env=env)

    with celery_process(env, concurrency=2) as worker:
        manage("shell", "-c", BOOK, env=env)
        wait_until(
            lambda: "To: newcomer@example.com" in worker.output(),
            timeout=30,
            what="the e-mail in the console",
        )
        output = worker.output()

    assert "series_is_booked" in output or "series is booked" in output
    assert "bookings.tasks.send_claimed" in output and "succeeded" in output
    assert (tmp_path / "celery" / "queue").is_dir()
