"""Views that meet one database failure each, for tests/hardening/test_unavailable.py (its URLconf)."""

import psycopg2
from django.db import connection
from django.http import HttpResponse
from django.urls import path


def _query(sql: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(sql)
    return HttpResponse("no error")


def undefined_function(request):
    # A query the database cannot run (as the phone search once met a missing regexp_replace).
    return _query("SELECT no_such_function_in_this_database('07700')")


def division_by_zero(request):
    return _query("SELECT 1 / 0")


def statement_timeout(request):
    # psycopg2 files a cancelled statement under OperationalError, yet the connection is fine.
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 1")
    try:
        return _query("SELECT pg_sleep(1)")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def closed_cursor(request):
    # InterfaceError ("cursor already closed") from code misusing a cursor on a healthy connection.
    cursor = connection.cursor()
    cursor.close()
    cursor.execute("SELECT 1")
    return HttpResponse("no error")


def terminate_backend(pid: int) -> None:
    """End a PostgreSQL connection from another one, as a server restart or a failover would."""
    db = connection.settings_dict
    killer = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    try:
        with killer, killer.cursor() as cursor:
            # The timeout makes PostgreSQL wait until the backend has really gone.
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        killer.close()


def connection_lost(request):
    # The server ends this very connection, then the view queries.
    terminate_backend(connection.cursor().connection.get_backend_pid())
    return _query("SELECT 1")


urlpatterns = [
    path(f"faults/{view.__name__}/", view)
    for view in (undefined_function, division_by_zero, statement_timeout, closed_cursor, connection_lost)
] + [path(f"api/faults/{view.__name__}/", view) for view in (undefined_function, connection_lost)]
