"""
Run the project as a separate process, the way it runs for real: management commands and a
server on a loopback port, with an environment built from scratch rather than the test run's.

Shared by the production and embedded-default tests and by the benchmarks under bench/.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))

# What a process needs from the shell that starts it; none of the project's settings come along.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")


def project_env(**settings: str) -> dict[str, str]:
    """A clean environment for the project (no DEBUG, DATABASE_URL, REDIS_URL...) plus `settings`."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    return {**env, "DJANGO_SETTINGS_MODULE": "clinic.settings", "PYTHONUNBUFFERED": "1", **settings}


def production_env(**settings: str) -> dict[str, str]:
    """A production environment: DEBUG off, a strong random secret key, served as 127.0.0.1."""
    return project_env(SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1,localhost", **settings)


def manage(
    *args: str, env: dict[str, str], timeout: float = 120, python: str = PYTHON
) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` (with `python`: another venv's); fail with its output if it exits non-zero."""
    result = subprocess.run(
        [python, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`manage.py {' '.join(args)}` exited with {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(argv: list[str], *, port: int, env: dict[str, str], timeout: float = 30) -> Iterator[str]:
    """
    Start a server process, wait until 127.0.0.1:`port` accepts connections, yield its base URL.

    The process runs in its own process group, so gunicorn's workers or runserver's children are
    stopped with it: SIGTERM to the group, SIGKILL if it is still there after ten seconds.
    """
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_listening(process, port, timeout, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


@contextmanager
def background(argv: list[str], *, env: dict[str, str], ready: str, timeout: float = 60) -> Iterator:
    """
    Start a process that opens no port (Celery beat), wait until its output shows `ready`, and
    stop it (and its group) afterwards. Yields a function returning its output so far.
    """
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + timeout
            while ready not in _read(log, limit=None):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[:4]} did not start (no {ready!r}):\n{_read(log)}")
                time.sleep(0.1)
            yield lambda: _read(log, limit=None)
            if process.poll() is not None:
                raise AssertionError(f"{argv[:4]} exited with {process.returncode}:\n{_read(log)}")
        finally:
            _stop(process)


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """A new, empty database on the suite's PostgreSQL (DATABASE_URL's server), dropped afterwards."""
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    name = f"{config['NAME']}_{label}_{os.getpid()}"
    server = {"user": config["USER"] or None, "password": config["PASSWORD"] or None,
              "host": config["HOST"] or None, "port": config["PORT"] or None}  # fmt: skip

    def execute(sql: str) -> None:
        connection = psycopg2.connect(dbname="postgres", **server)
        try:
            connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    execute(f'CREATE DATABASE "{name}"')
    auth = f"{config['USER']}{':' + config['PASSWORD'] if config['PASSWORD'] else ''}@" if config["USER"] else ""
    try:
        yield f"postgres://{auth}{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{name}"
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_listening(process: subprocess.Popen, port: int, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}:\n{_read(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:  # not listening yet
            time.sleep(0.1)
    raise RuntimeError(
        f"{process.args[:3]} did not listen on 127.0.0.1:{port} within {timeout}s:\n{_read(log)}"
    )


def _read(log, limit: int | None = 5000) -> str:
    log.flush()
    log.seek(0)
    text = log.read()
    return text[-limit:] if limit else text


def _stop(process: subprocess.Popen) -> None:
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)
    # A child that outlived its parent (a gunicorn worker, say) goes too.
    _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # nothing is left in the group
        pass
