"""
A virtual environment holding requirements.txt and nothing else: what a deploy installs, and what
`make run` installs. The production smoke test and the embedded walk run the site from it, so a
package that only the test tools bring along (as `packaging` once was) fails here first.

Built once per requirements.txt: cached under var/runtime-venv-<hash of requirements.txt and the
Python version>/ (pip's own download cache makes a rebuild cheap), behind a file lock so parallel
test workers share one build, and marked as installed the way the Makefile marks its .venv, so
`make run VENV=<it>` uses it as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.servers import BASE_DIR

REQUIREMENTS = BASE_DIR / "requirements.txt"
CACHE = BASE_DIR / "var"
COMPLETE = ".runtime-installed"  # the Makefile's marker: `make run VENV=…` installs nothing more


def runtime_venv(requirements: Path = REQUIREMENTS) -> Path:
    """The venv for exactly these requirements, built on first use; returns its folder."""
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:16]
    venv = CACHE / f"runtime-venv-{key}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "runtime-venv.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other test worker waits for this build
        if not (venv / COMPLETE).exists():
            shutil.rmtree(venv, ignore_errors=True)  # a build that was interrupted
            _build(venv, requirements)
            if requirements == REQUIREMENTS:
                for stale in CACHE.glob("runtime-venv-*"):
                    if stale.is_dir() and stale != venv:
                        shutil.rmtree(stale, ignore_errors=True)
        # Newer than requirements.txt, whatever git did to its date: the Makefile installs nothing.
        os.utime(venv / COMPLETE)
    return venv


def _build(venv: Path, requirements: Path) -> None:
    # No pip of its own (ensurepip alone takes longer than the install): this run's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
         "--disable-pip-version-check", "-r", str(requirements)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise AssertionError(f"Installing {requirements.name} into a fresh venv failed:\n{result.stderr[-5000:]}")
    (venv / COMPLETE).touch()
