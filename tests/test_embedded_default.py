"""
The embedded default: with no DATABASE_URL and no REDIS_URL the site runs on SQLite, an in-process
cache and a file-system broker, the way `make run` starts it on a machine with nothing installed.
"""

import json
import urllib.request

from tests.servers import PYTHON, free_port, manage, project_env, serve


def test_embedded_default_migrates_loads_the_demo_and_serves_the_site(tmp_path):
    env = project_env(DEBUG="1", CLINIC_VAR_DIR=str(tmp_path))
    manage("migrate", "--noinput", env=env)
    # The same steps as `make run`, which calls load_demo unconditionally.
    manage("load_demo", env=env)
    port = free_port()
    runserver = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]

    with serve(runserver, port=port, env=env) as url:
        for path in ("/", "/treatments/microneedling/"):
            with urllib.request.urlopen(f"{url}{path}", timeout=20) as response:
                assert response.status == 200, path
                assert "Microneedling" in response.read().decode(), path
        with urllib.request.urlopen(f"{url}/healthz", timeout=20) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            health = json.loads(response.read())

    assert health == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
    assert (tmp_path / "db.sqlite3").exists(), "the embedded database should live under CLINIC_VAR_DIR"
