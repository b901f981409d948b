"""
Compression (clinic.middleware.CompressionMiddleware): public pages and static files go out gzipped,
under runserver (`make run`) too; pages carrying secrets never do (BREACH).
"""

import gzip
import re
import urllib.request
from pathlib import Path

import pytest

from tests.bookings.patient_fixtures import frozen, manage_url, practitioner, series, treatment  # noqa: F401
from tests.servers import PYTHON, free_port, project_env, serve

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
FAQ = "/treatments/microneedling/faq/"
PUBLIC_PAGES = [
    "/",
    "/treatments/",
    "/treatments/microneedling/",
    "/treatments/microneedling/how-it-works/",
    FAQ,
    "/book/microneedling/",
]
STATIC = Path(__file__).resolve().parents[2] / "static"


def without_csrf_token(html: bytes) -> bytes:
    """The page with its CSRF token blanked: Django masks the token afresh in every response."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)


@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_are_gzipped_for_browsers_that_accept_it(client, path):
    plain = client.get(path)
    compressed = client.get(path, **GZIP)

    assert plain.status_code == compressed.status_code == 200
    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert without_csrf_token(gzip.decompress(compressed.content)) == without_csrf_token(plain.content)
    assert len(compressed.content) < len(plain.content) / 2


@pytest.mark.django_db
def test_a_cached_explainer_page_is_compressed_once_when_stored(client):
    client.get(FAQ, **GZIP)  # rendered, compressed by the middleware, stored with its gzip bytes

    first, second = client.get(FAQ, **GZIP), client.get(FAQ, **GZIP)

    assert first["X-Explainer-Cache"] == second["X-Explainer-Cache"] == "hit"
    assert first["Content-Encoding"] == "gzip"
    # Compressing again would pad each response with a fresh random number of random bytes.
    assert first.content == second.content
    assert int(first["Content-Length"]) == len(first.content)
    assert gzip.decompress(first.content) == client.get(FAQ).content


@pytest.mark.django_db
def test_staff_sign_in_page_with_its_csrf_token_is_never_compressed(client):
    response = client.get("/staff/login/", **GZIP)

    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
    assert "Content-Encoding" not in response


def test_manage_link_page_is_never_compressed(client, manage_url):
    response = client.get(manage_url, **GZIP)

    assert response.status_code == 200
    assert "Content-Encoding" not in response


def test_make_run_serves_css_and_javascript_gzipped(tmp_path):
    """runserver with DEBUG on, as `make run` starts it: whitenoise reads the source folders."""
    env = project_env(DEBUG="1", CLINIC_VAR_DIR=str(tmp_path), LOG_LEVEL="WARNING")
    port = free_port()
    runserver = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    files = {
        "css/bootstrap-subset.css": STATIC / "css" / "bootstrap-subset.css",
        "css/site.css": STATIC / "css" / "site.css",
        "js/focus-error.js": STATIC / "js" / "focus-error.js",
    }

    with serve(runserver, port=port, env=env) as url:
        for name, source in files.items():
            request = urllib.request.Request(f"{url}/static/{name}", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=20) as response:
                assert response.headers["Content-Encoding"] == "gzip", name
                assert response.headers.get("Accept-Ranges") is None, name
                body = gzip.decompress(response.read())
            assert body == source.read_bytes(), name
            with urllib.request.urlopen(f"{url}/static/{name}", timeout=20) as response:
                assert response.headers.get("Content-Encoding") is None, name
                assert response.read() == source.read_bytes(), name
