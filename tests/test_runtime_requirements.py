"""requirements.txt alone runs the site: in a venv holding nothing else, every backend the settings
can select imports (the Redis cache and broker, the file broker, SMTP, the embedded PostgreSQL...)."""

import subprocess

import pytest

from tests.runtime_env import runtime_venv
from tests.servers import BASE_DIR, project_env

SETTINGS = {
    # What the README's deploy section sets.
    "production": {
        "SECRET_KEY": "a-production-secret-key-for-an-import-test-only-0123456789",
        "ALLOWED_HOSTS": "clinic.example",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/clinic",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_HOST": "smtp.example",
    },
    # What `make run` sets: the embedded PostgreSQL, the file broker, console e-mail.
    "make-run": {"DEBUG": "1"},
}


@pytest.mark.parametrize("name", SETTINGS)
def test_requirements_txt_alone_imports_every_backend_the_settings_select(name, tmp_path):
    python = runtime_venv() / "bin" / "python"

    result = subprocess.run(
        [str(python), "-m", "tests.runtime_imports"],
        cwd=BASE_DIR,
        env=project_env(CLINIC_VAR_DIR=str(tmp_path), **SETTINGS[name]),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, f"requirements.txt lacks what the {name} settings use:\n{result.stderr[-4000:]}"
    assert "imported" in result.stdout
