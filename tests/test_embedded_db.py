"""The launcher of `make run`'s embedded PostgreSQL (clinic/embedded_db.py), in the cases that start
no server: `make run` itself is walked in tests/test_embedded_default.py."""

import fcntl
import subprocess
from urllib.parse import unquote

import dj_database_url

from clinic import embedded_db
from tests.servers import BASE_DIR, PYTHON, project_env

PRINT_URL = "import os; print(os.environ['DATABASE_URL'])"


def launch(*command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "clinic.embedded_db", "run", "--", *command],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_with_database_url_set_the_command_runs_on_it_and_nothing_embedded_starts(tmp_path):
    url = "postgres://postgres@127.0.0.1:5432/postgres"
    env = project_env(CLINIC_VAR_DIR=str(tmp_path), DATABASE_URL=url)

    result = launch(PYTHON, "-c", PRINT_URL, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == url
    assert not (tmp_path / "postgres").exists()


def test_a_database_url_naming_a_database_not_created_yet_gets_it_created(tmp_path):
    """The README's `DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic make run` on a machine
    whose server has no `clinic` database yet: created, not a traceback from migrate."""
    import psycopg2

    name = f"clinic_launcher_{tmp_path.name[-12:].replace('-', '_').lower()}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        result = launch(PYTHON, "-c", PRINT_URL, env=project_env(CLINIC_VAR_DIR=str(tmp_path), DATABASE_URL=url))

        assert result.returncode == 0, result.stderr
        assert f"Created the database {name}" in result.stdout
        psycopg2.connect(url).close()
        again = launch(PYTHON, "-c", PRINT_URL, env=project_env(CLINIC_VAR_DIR=str(tmp_path), DATABASE_URL=url))
        assert again.returncode == 0 and "Created" not in again.stdout
    finally:
        admin = psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_a_database_url_whose_server_does_not_answer_is_told_in_a_sentence(tmp_path):
    url = "postgres://postgres@127.0.0.1:1/clinic"  # nothing listens on port 1

    result = launch(PYTHON, "-c", "print('ran')", env=project_env(CLINIC_VAR_DIR=str(tmp_path), DATABASE_URL=url))

    assert result.returncode != 0
    assert "ran" not in result.stdout and "Traceback" not in result.stderr
    assert "No PostgreSQL answers at 127.0.0.1:1" in result.stderr
    assert "unset DATABASE_URL" in result.stderr


def test_a_second_launcher_on_the_same_var_folder_is_told_and_starts_nothing(tmp_path):
    with open(tmp_path / "postgres.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running `make run` holds it
        result = launch(PYTHON, "-c", "print('ran')", env=project_env(CLINIC_VAR_DIR=str(tmp_path)))

    assert result.returncode != 0
    assert "Another `make run` is using the embedded PostgreSQL" in result.stderr
    assert "ran" not in result.stdout and not (tmp_path / "postgres").exists()


def test_the_default_database_url_is_the_socket_under_var(tmp_path):
    config = dj_database_url.parse(embedded_db.database_url(tmp_path))

    assert unquote(config["HOST"]) == str(tmp_path / "postgres")
    assert (config["NAME"], config["USER"]) == ("clinic", "postgres")


def test_a_var_folder_too_deep_for_a_socket_uses_the_loopback_port_it_recorded(tmp_path):
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    (deep / "postgres.port").write_text("54329")

    config = dj_database_url.parse(embedded_db.database_url(deep))

    assert (config["HOST"], config["PORT"]) == ("127.0.0.1", 54329)
