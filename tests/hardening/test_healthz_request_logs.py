"""Request ids and JSON logs: every response and every log line of a request carry the same id."""

import io
import json
import logging

import pytest

from clinic.logs import JsonFormatter, RequestIdFilter, request_id_var
from tests.servers import manage, production_env, project_env


@pytest.fixture
def json_lines():
    """What the root logger writes through the site's filter and JSON formatter, as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_each_response_gets_a_new_request_id(client, db):
    first, second = client.get("/healthz"), client.get("/healthz")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-7f3a9c21.e5")

    assert response["X-Request-ID"] == "proxy-7f3a9c21.e5"


@pytest.mark.parametrize("incoming", ["short", "x" * 500, "has spaces in it", "evil\nINFO forged line", "<script>x</script>"])
def test_an_odd_incoming_request_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming and len(response["X-Request-ID"]) == 32


def test_log_lines_of_a_request_carry_its_id(client, db, json_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-123456789")

    lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert response.status_code == 404
    assert lines and all(line["request_id"] == "req-123456789" for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])


def test_log_lines_inside_a_request_use_the_context_id(json_lines):
    token = request_id_var.set("inside-request-1")
    try:
        logging.getLogger("bookings").warning("something to say", extra={"series": 7})
    finally:
        request_id_var.reset(token)
    logging.getLogger("bookings").warning("after the request")

    inside, after = [line for line in json_lines() if line["logger"] == "bookings"]
    assert (inside["request_id"], inside["series"], inside["message"]) == ("inside-request-1", 7, "something to say")
    assert after["request_id"] == "-"


def _formatter(env) -> str:
    shown = "from django.conf import settings as s; print(s.LOGGING['handlers']['console']['formatter'])"
    return manage("shell", "--verbosity", "0", "-c", shown, env=env).stdout.strip()


def test_log_format_is_json_in_production_and_plain_while_developing(tmp_path):
    assert _formatter(production_env(CLINIC_VAR_DIR=str(tmp_path))) == "json"
    assert _formatter(project_env(CLINIC_VAR_DIR=str(tmp_path), DEBUG="1")) == "plain"
    assert _formatter(project_env(CLINIC_VAR_DIR=str(tmp_path), DEBUG="1", LOG_FORMAT="json")) == "json"
