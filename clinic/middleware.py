"""Site-wide middleware: a request id for logs, the Content-Security-Policy header, and our own 404
page while developing."""

import re
import uuid

from django.conf import settings
from django.http import Http404
from django.urls import Resolver404, get_urlconf, resolve

from clinic.views import page_not_found

from clinic.logs import request_id_var

# An incoming X-Request-ID (from the proxy) is kept only when it looks like an id, so a client
# cannot write arbitrary text, or a megabyte, into every log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestIdMiddleware:
    """Gives each request an id (the proxy's when sane, else a new one), on its logs and response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY on every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class DebugNotFoundPageMiddleware:
    """With DEBUG on (`make run`), a missing page is our own 404 page, as in production.

    Django's debug 404 styles itself with an inline <style> that our CSP refuses and has no
    viewport, so on a phone it is unreadable; ours is the page patients would see. It sits after
    CommonMiddleware, which still turns a 404 for "/treatments" into a redirect to "/treatments/".
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:
            try:
                resolve(request.path_info, get_urlconf())
            except Resolver404:
                return page_not_found(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request)
        return None
