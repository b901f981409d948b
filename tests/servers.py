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


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `manage.py <args>`; fail with the command's output if it exits non-zero."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
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


def _read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-5000:]


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
