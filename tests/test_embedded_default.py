"""
The embedded default exactly as a newcomer runs it: `make run` itself, from the runtime-only venv
(tests/runtime_env.py), with WEB_PORT on a free port and CLINIC_VAR_DIR in a temporary folder so
the developer's var/ is left alone. That starts the embedded PostgreSQL, migrates, loads the demo,
and serves runserver + a Celery worker on the file-system broker (e-mails printed to the console)
+ beat. A patient books online and over the API, every patient, front-desk and manager page kind
answers without a 5xx, the confirmation e-mail shows in the worker's output with links to the port
actually served; SIGTERM to make stops everything, the embedded PostgreSQL last, and its data are
there on the next start.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.runtime_env import runtime_venv
from tests.servers import BASE_DIR, _wait_until_listening, free_port, project_env
from tests.smtp_sink import wait_until
from tests.walk import Client, Patient, book_by_api, walk_everything

DEMO_STAFF = {  # load_demo's logins (DEBUG)
    "frontdesk": ("frontdesk", "frontdesk"),
    "manager": ("manager", "manager"),
    "practitioner": ("amara", "amara"),
}
# load_demo's sample series: four of microneedling (each after its new patient's skin consultation,
# itself a one-session series), one of the chemical peel.
DEMO_SERIES = 4 + 4 + 1
BOOKED_IN_THE_WALK = 2 * 2  # online and by the API: a new patient's microneedling series and consultation
PATIENT = Patient("Nia Newcomer", "nia.newcomer@example.com", "07700 900321")
CALLER = Patient("Api Caller", "api.caller@example.com", "07700 900654")


@pytest.fixture
def var_dir():
    """A var/ of its own, outside pytest's private temporary folder: as root the embedded
    PostgreSQL runs as another user, who must be able to reach it."""
    folder = Path(tempfile.mkdtemp(prefix="clinic-make-run-"))
    yield folder / "var"
    shutil.rmtree(folder, ignore_errors=True)


def test_make_run_serves_every_page_books_sends_and_stops_keeping_its_data(tmp_path, var_dir):
    venv = runtime_venv()
    var = var_dir
    port = free_port()
    env = project_env(CLINIC_VAR_DIR=str(var))
    base_url = f"http://127.0.0.1:{port}"
    served = f"http://localhost:{port}"  # SITE_URL under `make run`: the port runserver serves

    with open(tmp_path / "make-run.log", "w+") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"VENV={venv}", f"WEB_PORT={port}"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def output() -> str:
            return (tmp_path / "make-run.log").read_text()  # make writes it; nothing is buffered here

        try:
            # initdb, migrate and load_demo come first: generous on a busy 2-core machine.
            _wait_until_listening(make, port, 240, log)
            wait_until(lambda: " ready." in output(), timeout=60, what="the Celery worker")
            assert Client(base_url).get("/healthz").json() == {
                "status": "ok", "database": "ok", "cache": "ok", "broker": "ok",
            }  # fmt: skip

            walk_everything(base_url, patient=PATIENT, staff=DEMO_STAFF)
            api = book_by_api(Client(base_url), CALLER)
            assert api.headers["Location"].startswith(f"{served}/bookings/manage/"), api.headers["Location"]

            # The worker prints each confirmation (console e-mail backend) into make's output.
            for patient in (PATIENT, CALLER):
                wait_until(lambda: f"To: {patient.email}" in output(), timeout=90, what=f"{patient.email}'s e-mail")
        finally:
            make.send_signal(signal.SIGTERM)  # to make alone, as a terminal's kill would
            try:
                make.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
                raise AssertionError(f"`make run` did not stop within 90 s of SIGTERM:\n{output()[-3000:]}") from None

    console = output()
    assert f"{served}/bookings/manage/" in console, "the e-mail's manage link should use the port served"
    assert "bookings.tasks.send_claimed" in console and "succeeded" in console
    assert "Traceback" not in console, console[-5000:]
    assert "Embedded PostgreSQL stopped." in console
    assert not (var / "postgres" / "postmaster.pid").exists(), "the embedded PostgreSQL is still running"
    assert (var / "celery" / "queue").is_dir()

    # The next start finds the same data (and stops again).
    count = "from bookings.models import Series; print('series:', Series.objects.count())"
    again = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "clinic.embedded_db", "run", "--",
         str(venv / "bin" / "python"), "manage.py", "shell", "-c", count],
        cwd=BASE_DIR, env={**env, "DEBUG": "1"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"series: {DEMO_SERIES + BOOKED_IN_THE_WALK}" in again.stdout, again.stdout
    assert not (var / "postgres" / "postmaster.pid").exists()
