"""Security headers on real responses: a page, the API and the admin sign-in, in production mode."""

import json
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tests.servers import GUNICORN, free_port, manage, production_env, scratch_database, serve

PATHS = ["/", "/api/availability/?treatment=none", "/admin/login/"]
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def fetch(url: str) -> tuple[int, dict[str, list[str]], str]:
    # Sent as the TLS-terminating proxy would: HSTS is only ever sent over HTTPS.
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _headers(response), response.read().decode()
    except urllib.error.HTTPError as error:  # a 4xx is still a real response with its headers
        return error.code, _headers(error), error.read().decode()


def _headers(response) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return headers


@pytest.fixture(scope="module")
def production_responses(tmp_path_factory):
    """{path: (status, headers, body)} from gunicorn in production mode, behind an HTTPS proxy."""
    var_dir = tmp_path_factory.mktemp("security")
    with scratch_database("security") as database_url:
        env = production_env(
            CLINIC_VAR_DIR=str(var_dir), SECURE_SSL_REDIRECT="0", SECURE_PROXY_SSL_HEADER="1", DATABASE_URL=database_url
        )
        manage("collectstatic", "--noinput", env=env)
        manage("migrate", "--noinput", env=env)
        port = free_port()
        argv = [GUNICORN, "clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
        with serve(argv, port=port, env=env) as base_url:
            return {path: fetch(base_url + path) for path in PATHS}


@pytest.mark.parametrize("path", PATHS)
def test_production_responses_carry_the_security_headers(production_responses, path):
    status, headers, _ = production_responses[path]

    assert status < 500
    policy = directives(headers["content-security-policy"][0])
    assert {name: policy.get(name) for name in CSP} == CSP
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert headers["strict-transport-security"][0].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"][0]
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["referrer-policy"] == ["same-origin"]
    assert headers["x-frame-options"] == ["DENY"]
    assert len(headers["x-request-id"][0]) >= 8


def test_the_admin_sign_in_sets_a_secure_csrf_cookie(production_responses):
    _, headers, _ = production_responses["/admin/login/"]

    cookie = next(value for value in headers["set-cookie"] if value.startswith("csrftoken="))
    assert "Secure" in cookie and "SameSite=Lax" in cookie


def test_the_api_answers_json_under_the_same_headers(production_responses):
    status, headers, body = production_responses["/api/availability/?treatment=none"]

    assert headers["content-type"][0].startswith("application/json")
    assert json.loads(body)  # an error explained in JSON, not an HTML page


def test_production_session_cookie_is_secure_and_http_only(tmp_path):
    env = production_env(CLINIC_VAR_DIR=str(tmp_path))
    shown = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE)"

    assert manage("shell", "--verbosity", "0", "-c", shown, env=env).stdout.split() == ["True", "True", "True"]


def test_no_page_template_holds_an_inline_script():
    templates = settings.BASE_DIR / "templates"
    for path in templates.rglob("*.html"):
        html = path.read_text()
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert "src=" in opening or 'type="application/ld+json"' in opening, f"inline script in {path}"
            assert " on" not in opening
