"""When PostgreSQL is unreachable (down, restarting, connection dropped): a 503 with a sentence.

The booking services run each write in one transaction, so a connection lost half way through
leaves nothing behind; the person is told to try again in a moment rather than shown a crash.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from bookings.errors import BUSY
from bookings.locks import is_lock_timeout

logger = logging.getLogger(__name__)

UNAVAILABLE = (
    "We could not reach our booking system just now, so nothing was saved. "
    "Please try again in a minute, or call us and we will book it for you."
)
RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """Answers a view's lost database connection with 503 (JSON under /api/, else a page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # OperationalError: the server went away or refused us; InterfaceError: the connection
        # was already closed. Both say nothing about the request itself (IntegrityError etc. do).
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        if is_lock_timeout(exception):
            # A lock not granted within BOOKING_LOCK_TIMEOUT_SECONDS outside the services' own
            # "busy" refusals (bookings/locks.py): the database is fine, someone else was first.
            logger.warning("Lock timeout during %s %s", request.method, request.path)
            message, retry_after = BUSY, 2
        else:
            logger.error("Database unavailable during %s %s: %s", request.method, request.path,
                         type(exception).__name__, exc_info=exception)
            message, retry_after = UNAVAILABLE, RETRY_AFTER_SECONDS
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": message}, status=503)
        else:
            # Rendered without the request: context processors may read the database.
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(retry_after)
        return response
