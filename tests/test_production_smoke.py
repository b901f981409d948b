"""
The site as a deploy runs it (README, Deploying for real), from a venv holding requirements.txt
alone: DEBUG off, migrate + collectstatic + load_demo, then gunicorn, a Celery worker and beat on
the machine's PostgreSQL (a database of its own), Redis and a local SMTP server. A patient books
online and over the API, the confirmations arrive by SMTP, /healthz is green, and every patient,
front-desk and manager page kind answers without a 5xx.
"""

import os
import uuid

import redis

from tests.celery_worker import celery_process
from tests.runtime_env import runtime_venv
from tests.servers import background, free_port, manage, production_env, scratch_database, serve
from tests.smtp_sink import smtp_sink, wait_until
from tests.walk import Client, Patient, book_by_api, manage_link, walk_everything

PATIENT = Patient("Dana Deploy", "dana.deploy@example.com", "07700 900777")
CALLER = Patient("Api Deploy", "api.deploy@example.com", "07700 900778")
# DEBUG off, so load_demo creates no logins: a deploy creates its staff like this (or in the admin).
STAFF = {
    "frontdesk": ("desk", uuid.uuid4().hex),
    "manager": ("boss", uuid.uuid4().hex),
    "practitioner": ("amara", uuid.uuid4().hex),
}
CREATE_STAFF = f"""
from django.contrib.auth.models import Group, User
desk = User.objects.create_user("desk", "desk@clinic.example", "{STAFF['frontdesk'][1]}", first_name="Desk")
desk.groups.add(Group.objects.get(name="Front desk"))
User.objects.create_superuser("boss", "boss@clinic.example", "{STAFF['manager'][1]}")
amara = User.objects.get(username="amara")  # load_demo's practitioner: a manager sets a password
amara.set_password("{STAFF['practitioner'][1]}")
amara.save()
"""


def _redis_url() -> str:
    """A database of the suite's Redis that no other test uses (the cache and broker of this site)."""
    base, _, number = os.environ["REDIS_URL"].rpartition("/")
    url = f"{base}/{(int(number or 0) + 12) % 16}"
    redis.Redis.from_url(url).flushdb()
    return url


def test_production_site_books_sends_by_smtp_and_serves_every_page_without_a_5xx(tmp_path):
    bin_dir = runtime_venv() / "bin"
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    with scratch_database("smoke") as database_url, smtp_sink() as (sink, smtp_port):
        env = production_env(
            DATABASE_URL=database_url,
            REDIS_URL=_redis_url(),
            CELERY_QUEUE=f"smoke-{uuid.uuid4().hex[:8]}",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            EMAIL_USE_TLS="0",
            SITE_URL=site,
            SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback: TLS is the proxy's (README, Deploy)
            CLINIC_VAR_DIR=str(tmp_path),
        )
        python = str(bin_dir / "python")
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["load_demo"]):
            manage(*command, env=env, python=python, timeout=300)
        manage("shell", "-c", CREATE_STAFF, env=env, python=python)

        gunicorn = [str(bin_dir / "gunicorn"), "clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        beat_argv = [str(bin_dir / "celery"), "-A", "clinic", "beat", "--loglevel=INFO",
                     f"--schedule={tmp_path / 'celerybeat-schedule'}"]  # fmt: skip
        with (
            celery_process(env, concurrency=1, name="smoke", celery=str(bin_dir / "celery")) as worker,
            background(beat_argv, env=env, ready="beat: Starting") as beat_output,
            serve(gunicorn, port=port, env=env, timeout=60),
        ):
            health = Client(site).get("/healthz")
            assert (health.status, health.json()["status"]) == (200, "ok"), health.text

            booked = walk_everything(site, patient=PATIENT, staff=STAFF)
            api = book_by_api(Client(site), CALLER)
            assert api.headers["Location"].startswith(f"{site}/bookings/manage/")

            # The worker sends each confirmation over SMTP (enqueued when the booking commits).
            wait_until(
                lambda: {PATIENT.email, CALLER.email} <= {m["To"] for m in sink.messages},
                timeout=90,
                what="both confirmations at the SMTP server",
            )
            # A new microneedling patient gets two: their consultation's and their series'.
            wait_until(
                lambda: sum(m["To"] == PATIENT.email for m in sink.messages) >= 2,
                timeout=90,
                what="the consultation's and the series' confirmations",
            )
            texts = [m.get_body(("plain",)).get_content() for m in sink.messages if m["To"] == PATIENT.email]
            assert any(manage_link(booked) in text for text in texts), "an e-mail should carry the manage link shown online"
            assert "Traceback" not in worker.output() and "Error" not in beat_output(), worker.output()[-3000:]
