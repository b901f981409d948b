"""Production settings: Django's deployment checks pass and static files are served hashed and cached."""

import gzip
import json
import re
import urllib.request

import pytest

from tests.servers import GUNICORN, free_port, manage, production_env, scratch_database, serve

HASHED_STATIC = {
    "css/site.css": r"css/site\.[0-9a-f]{12}\.css",
    "css/bootstrap-subset.css": r"css/bootstrap-subset\.[0-9a-f]{12}\.css",
}


@pytest.fixture(scope="module")
def production_site(tmp_path_factory):
    """A production environment on a database of its own, after collectstatic: (env, manifest paths)."""
    var_dir = tmp_path_factory.mktemp("production")
    with scratch_database("deploy") as database_url:
        # Plain HTTP on loopback: the redirect to HTTPS is what a TLS-terminating proxy is for.
        env = production_env(CLINIC_VAR_DIR=str(var_dir), SECURE_SSL_REDIRECT="0", DATABASE_URL=database_url)
        manage("collectstatic", "--noinput", env=env)
        manifest = json.loads((var_dir / "staticfiles" / "staticfiles.json").read_text())
        yield env, manifest["paths"]


def test_deploy_checks_report_no_warning(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(CLINIC_VAR_DIR=str(tmp_path))
    )

    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", HASHED_STATIC)
def test_collectstatic_gives_css_a_content_hashed_name(production_site, name):
    _, paths = production_site

    assert re.fullmatch(HASHED_STATIC[name], paths[name]), paths.get(name)


@pytest.fixture(scope="module")
def production_server(production_site):
    """gunicorn serving the migrated production site: (base URL, manifest paths)."""
    env, paths = production_site
    manage("migrate", "--noinput", env=env)
    port = free_port()
    argv = [GUNICORN, "clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    with serve(argv, port=port, env=env) as base_url:
        yield base_url, paths


def test_pages_link_hashed_css_that_whitenoise_serves_with_a_long_cache_lifetime(production_server):
    base_url, paths = production_server

    with urllib.request.urlopen(f"{base_url}/", timeout=30) as response:
        html = response.read().decode()
    for name in HASHED_STATIC:
        url = f"/static/{paths[name]}"
        assert f'href="{url}"' in html, f"the home page should link {url}"
        with urllib.request.urlopen(f"{base_url}{url}", timeout=30) as response:
            cache_control = response.headers["Cache-Control"]
        assert response.status == 200
        max_age = re.search(r"max-age=(\d+)", cache_control or "")
        assert max_age and int(max_age.group(1)) >= 365 * 24 * 3600, cache_control
        assert "immutable" in cache_control
    assert "bootstrap.min" not in html, "pages link the subset of Bootstrap the site uses, not all of it"


def test_gunicorn_sends_the_css_and_the_public_pages_gzipped(production_server):
    base_url, paths = production_server

    static = [f"/static/{paths[name]}" for name in HASHED_STATIC]
    for path in ["/", "/treatments/microneedling/faq/", *static]:
        request = urllib.request.Request(f"{base_url}{path}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            assert response.headers["Content-Encoding"] == "gzip", path
            assert "Accept-Encoding" in response.headers["Vary"], path
        assert gzip.decompress(body), path
