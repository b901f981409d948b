"""Site-wide views that belong to no app: privacy notice, health check, robots.txt, error pages."""

import tempfile

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError


def _days_in_words(days: int) -> str:
    """2555 -> "about 7 years (2,555 days)"; 30 -> "30 days"."""
    years = round(days / 365)
    if days >= 365 and abs(days - years * 365) <= 7:
        return f"about {years} year{'s' if years != 1 else ''} ({days:,} days)"
    return f"{days:,} day{'s' if days != 1 else ''}"


@require_GET
def privacy(request):
    """The privacy notice: what we keep, why, for how long, who sees it, and how to ask about it."""
    return render(request, "privacy.html", {
        "retention": _days_in_words(settings.PATIENT_RETENTION_DAYS),
        "manage_link_days": _days_in_words(settings.MANAGE_LINK_VALID_DAYS),
    })


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _cache_ok() -> bool:
    # Redis down or refusing connections means "not reachable", not a crashed health check.
    try:
        cache.set("healthz", "ok", 10)
        return cache.get("healthz") == "ok"
    except (RedisError, OSError):
        return False


def _broker_ok() -> bool:
    """Redis answers PING (REDIS_URL), or the file broker's queue folder takes a new file."""
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        except (RedisError, OSError):
            return False
        finally:
            client.close()
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:  # missing, read-only or full
        return False


@never_cache
@require_GET
def healthz(request):
    """JSON health report for load balancers: 200 when every dependency answers, else 503."""
    checks = {"database": _database_ok(), "cache": _cache_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "degraded", **{k: "ok" if v else "error" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /staff/",
        "Disallow: /bookings/manage/",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
