"""Site-wide middleware: a request id for logs, the Content-Security-Policy header, compression, and
our own 404 page while developing."""

import re
import uuid

from django.conf import settings
from django.http import Http404
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string

from clinic.logs import request_id_var
from clinic.views import page_not_found

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


# Pages compressed with gzip, by URL name ("namespace:*" for a whole app). BREACH recovers a secret
# from the compressed size of pages that also reflect attacker-chosen text, so only pages without
# secrets qualify: the public explainer (no form, no session: cached whole for anonymous visitors)
# and step 1 of booking, whose only secret is the CSRF token, which Django masks afresh in every
# response. Pages with patients' details, manage-link tokens or staff data are never compressed.
# GZipMiddleware also pads each compressed page with random bytes ("Heal The Breach").
COMPRESSED_PAGES = {"treatments:*", "bookings:book"}
# Static files worth compressing; images such as PNG are compressed already.
COMPRESSED_STATIC_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def gzip_bytes(content: bytes) -> bytes:
    """The gzip encoding of a public page's body, as CompressionMiddleware would send it."""
    return compress_string(content, max_random_bytes=GZipMiddleware.max_random_bytes)


class CompressionMiddleware(GZipMiddleware):
    """
    gzip for static files and for the public pages in COMPRESSED_PAGES, when the browser accepts it.

    In production whitenoise serves its pre-compressed copies (collectstatic) and this leaves them
    alone; under runserver (`make run`) it compresses the files whitenoise reads from the source
    folders. A response that carries `precompressed_gzip` (an explainer page from the cache) is
    sent with those bytes instead of being compressed again.
    """

    def process_response(self, request, response):
        if not self._eligible(request, response):
            return response
        if response.has_header("Content-Encoding"):
            return response  # whitenoise's pre-compressed copy of a static file
        precompressed = getattr(response, "precompressed_gzip", None)
        if precompressed is None:
            response = super().process_response(request, response)
        else:
            patch_vary_headers(response, ("Accept-Encoding",))
            if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
                response.content = precompressed
                response.headers["Content-Length"] = str(len(precompressed))
                response.headers["Content-Encoding"] = "gzip"
        if response.has_header("Content-Encoding"):
            # A byte range of the plain file means nothing in the compressed one we made.
            response.headers.pop("Accept-Ranges", None)
        return response

    @staticmethod
    def _eligible(request, response) -> bool:
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return False
        if request.path.startswith(settings.STATIC_URL):
            return response.get("Content-Type", "").startswith(COMPRESSED_STATIC_TYPES)
        match = request.resolver_match
        if match is None or not match.namespace:
            return False
        return match.view_name in COMPRESSED_PAGES or f"{match.namespace}:*" in COMPRESSED_PAGES


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
