"""
Abuse limits on the public booking pages, the manage link and the API.

Counted per client address in the shared cache (Redis), so every web process enforces the same
limit; the rates are settings (clinic/settings.py, "Abuse limits"). A refusal is a 429 with a
sentence for a person (an HTML page) or for a program (JSON, with Retry-After).
"""

from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from bookings.staff_forms import client_address

LIMITED = (
    "You have made a lot of requests in a short time, so we have paused them for a few minutes. "
    "Please wait and try again, or call us and we will help you."
)


def _retry_after(usage: dict) -> int:
    return max(int(usage["time_left"]), 1)


def rate_limited(group: str, rate_setting: str, *, methods=("GET", "POST"), api: bool = False):
    """Refuse a client's `methods` requests to the view beyond settings.<rate_setting>, with a 429."""

    def decorate(view):
        @wraps(view)
        def limited(request, *args, **kwargs):
            if request.method in methods:
                usage = get_usage(
                    request, group=group, key=client_address, rate=getattr(settings, rate_setting),
                    method=list(methods), increment=True,
                )
                if usage is not None and usage["should_limit"]:
                    return too_many_requests(request, retry_after=_retry_after(usage), api=api)
            return view(request, *args, **kwargs)

        return limited

    return decorate


def too_many_requests(request, *, retry_after: int, api: bool):
    if api:
        response = JsonResponse({"error": LIMITED}, status=429)
    else:
        response = render(request, "429.html", {"message": LIMITED}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
