"""When PostgreSQL is unreachable (down, restarting, connection dropped): a 503 with a sentence.

The booking services run each write in one transaction, so a connection lost half way through
leaves nothing behind; the person is told to try again in a moment rather than shown a crash.

An outage is an outage, a bug is a bug: only a lost or refused connection is answered this way.
A query the database refuses on a working connection (an undefined function, bad data, a
cancelled statement, a closed cursor) is a 500 whose traceback Django logs, as any other bug.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

UNAVAILABLE = (
    "We could not reach our booking system just now, so nothing was saved. "
    "Please try again in a minute, or call us and we will book it for you."
)
RETRY_AFTER_SECONDS = 30

# SQLSTATEs of a server that is going away or will not take us: class 08 (connection exception),
# admin or crash shutdown, starting up or shutting down, too many connections.
_SERVER_GONE = ("08", "57P01", "57P02", "57P03", "53300")


def connection_lost(exception: Exception) -> bool:
    """True when `exception` means the database connection is gone or could not be made.

    psycopg2 files some failures of a healthy connection under OperationalError too (a statement
    cancelled by its timeout, a lock timeout, a deadlock), and under InterfaceError a cursor used
    after it was closed: those are about the code or the data, not the server. What the server
    reports carries a SQLSTATE; libpq's own failures (refused, reset, closed) carry none.
    """
    cause = exception.__cause__
    if isinstance(exception, OperationalError):
        code = getattr(cause, "pgcode", None)
        return code is None or code.startswith(_SERVER_GONE)
    if isinstance(exception, InterfaceError):
        # psycopg2's words for a connection that an earlier failure already closed.
        return str(cause or exception).startswith("connection already closed")
    return False  # ProgrammingError, DataError, IntegrityError, NotSupportedError…: a bug


class DatabaseUnavailableMiddleware:
    """Answers a view's lost database connection with 503 (JSON under /api/, else a page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not connection_lost(exception):
            return None  # Django answers 500 and logs the traceback
        logger.error("Database unavailable during %s %s: %s", request.method, request.path,
                     type(exception).__name__, exc_info=exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": UNAVAILABLE}, status=503)
        else:
            # Rendered without the request: context processors may read the database.
            response = HttpResponse(render_to_string("503.html", {"message": UNAVAILABLE}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
