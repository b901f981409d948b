"""
The site's URLs plus two bare views, the cheapest responses Django gives through the same middleware:
/bench/bare (two bytes) and /bench/bytes/<size> (a body as large as the page it is compared with).
"""

from django.http import HttpResponse
from django.urls import path

from clinic.urls import handler404, handler500, urlpatterns as site_urlpatterns  # noqa: F401


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


def sized(request, size: int):
    return HttpResponse(b"x" * min(size, 1_000_000), content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bare", bare), path("bench/bytes/<int:size>", sized), *site_urlpatterns]
