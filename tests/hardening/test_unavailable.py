"""An outage is an outage, a bug is a bug: the 503 "try again in a minute" page answers only a lost
database connection; any other database error is a 500 whose traceback reaches the logs."""

import logging

import pytest
from django.db import connection
from django.test import Client

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.urls("tests.hardening.fault_views"),
]

BUGS = ["undefined_function", "division_by_zero", "statement_timeout", "closed_cursor"]


@pytest.fixture
def client():
    """Answers as a real server would: a crash is a 500 response, not an exception in the test."""
    yield Client(raise_request_exception=False)
    # What a server does once the response is out (the test client leaves it to the test): a
    # connection the request lost is replaced by a new one for what follows.
    connection.close_if_unusable_or_obsolete()


@pytest.mark.parametrize("fault", BUGS)
def test_a_database_error_on_a_working_connection_is_a_500_with_its_traceback_logged(client, caplog, fault):
    caplog.set_level(logging.ERROR)

    response = client.get(f"/faults/{fault}/")

    assert response.status_code == 500
    assert "try again in a minute" not in response.content.decode().lower()
    logged = [record for record in caplog.records if record.exc_info and record.levelno >= logging.ERROR]
    assert logged, "the error's traceback should be logged"
    assert not any(record.name == "clinic.unavailable" for record in caplog.records)


def test_an_undefined_function_under_the_api_is_a_500_too(client):
    response = client.get("/api/faults/undefined_function/")

    assert response.status_code == 500


def test_a_lost_connection_is_a_503_page_saying_nothing_was_saved(client, caplog):
    caplog.set_level(logging.ERROR)

    response = client.get("/faults/connection_lost/")

    assert response.status_code == 503
    assert "nothing was saved" in response.content.decode()
    assert response["Retry-After"]
    assert any(record.name == "clinic.unavailable" for record in caplog.records)


def test_a_lost_connection_under_the_api_is_a_503_in_json(client):
    response = client.get("/api/faults/connection_lost/")

    assert response.status_code == 503
    assert "nothing was saved" in response.json()["error"]


def test_a_database_that_cannot_be_reached_is_a_503(client):
    connection.close()
    real = dict(connection.settings_dict)
    try:
        # A port nobody listens on: the connection is refused before any query.
        connection.settings_dict["PORT"] = "9"
        connection.settings_dict["HOST"] = "127.0.0.1"
        response = client.get("/faults/undefined_function/")
    finally:
        connection.close()
        connection.settings_dict.update(real)

    assert response.status_code == 503
