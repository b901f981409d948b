"""
A real Celery worker for the e-mail tests and bench/reminders.py: `celery -A clinic worker` as a
subprocess of its own session, on the given database, broker and mail server, stopped (or
killed) for sure when the block ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import BASE_DIR, PYTHON, project_env

CELERY = str(Path(PYTHON).with_name("celery"))


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (in tests: the test database)."""
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen, log) -> None:
        self.process, self._log = process, log

    def output(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: no warm shutdown, no acks."""
        _signal_group(self.process, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        _signal_group(self.process, signal.SIGKILL)  # any pool process left behind


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # already gone
        pass


def worker_env(
    *, database_url: str, broker_url: str, queue: str, smtp_port: int, var_dir: str, **settings: str
) -> dict:
    """A worker's environment: this database, broker and queue, the local SMTP server; `settings` win."""
    return project_env(
        **{
            "DEBUG": "1",
            "DATABASE_URL": database_url,
            "REDIS_URL": broker_url,
            "CELERY_QUEUE": queue,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_TIMEOUT": "20",
            "CLINIC_VAR_DIR": var_dir,
            **settings,  # DEBUG, SECRET_KEY… for a production-like worker
        }
    )


@contextmanager
def celery_worker(
    *, database_url: str, broker_url: str, queue: str, smtp_port: int, concurrency: int = 1, **settings: str
) -> Iterator[Worker]:
    """Start a worker consuming `queue` on this database and broker, sending to the SMTP sink."""
    with tempfile.TemporaryDirectory(prefix="clinic-worker-") as var_dir:
        env = worker_env(
            database_url=database_url,
            broker_url=broker_url,
            queue=queue,
            smtp_port=smtp_port,
            var_dir=var_dir,
            **settings,
        )
        with celery_process(env, concurrency=concurrency, name=queue) as worker:
            yield worker


@contextmanager
def celery_process(
    env: dict, *, concurrency: int = 1, name: str = "worker", timeout: float = 60, celery: str = CELERY
) -> Iterator[Worker]:
    """`celery -A clinic worker` (`celery`: another venv's) with `env`; wait until ready; always stop it."""
    with tempfile.TemporaryFile("w+") as log:
        argv = [
            celery, "-A", "clinic", "worker", "--pool=prefork", f"--concurrency={concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
            f"--hostname={name}-{time.monotonic_ns()}@%h",
        ]  # fmt: skip
        process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        worker = Worker(process, log)
        try:
            deadline = time.monotonic() + timeout
            while " ready." not in worker.output():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"The Celery worker did not start:\n{worker.output()[-5000:]}")
                time.sleep(0.1)
            yield worker
        finally:
            worker.stop()
