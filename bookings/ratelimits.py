"""
Abuse limits on the public booking pages, the manage link, the API and staff sign-in.

Counted in the shared cache (Redis), so every web process enforces the same limit; the rates are
settings (clinic/settings.py, "Abuse limits" and "Staff"). A refusal is a 429 with a sentence for a
person (an HTML page) or for a program (JSON, with Retry-After).
"""

import hashlib
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from functools import wraps

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit.core import get_usage

LIMITED = (
    "You have made a lot of requests in a short time, so we have paused them for a few minutes. "
    "Please wait and try again, or call us and we will help you."
)


def client_address(group, request) -> str:
    """The client's address: the proxy's header when one is configured (its last entry), else REMOTE_ADDR."""
    forwarded = request.META.get(settings.CLIENT_IP_HEADER, "") if settings.CLIENT_IP_HEADER else ""
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    return entries[-1] if entries else request.META.get("REMOTE_ADDR", "")


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


# --- Staff sign-in (the staff and the admin sign-in pages share these counts) ----------------------------
#
# Only failed sign-ins count, in three counters:
#   - per address, any username (STAFF_LOGIN_RATE_PER_IP): one machine trying many accounts;
#   - per username from one address (STAFF_LOGIN_RATE_PER_USERNAME): guessing one password, or an
#     honest person's typos; a stranger elsewhere guessing the same username does not touch it;
#   - per username from anywhere (STAFF_LOGIN_RATE_PER_USERNAME_ANYWHERE, higher): guessing spread
#     over many addresses. It pauses the account only for addresses the account has not signed in
#     from lately (STAFF_LOGIN_KNOWN_ADDRESS_DAYS), so a stranger cannot lock the clinic's desk out.
# A manager lifts a pause in /staff/sign-in-locks/: the username's counters start again (a
# generation number in their keys) and so do those of the addresses it was refused at.

CANNOT_COUNT = (
    "We cannot check sign-in attempts just now, so signing in is paused. Please try again in a few "
    "minutes, or call the clinic on {phone}."
)
LOCKS_KEY = "staff-login:locks"  # {username: {"until": timestamp, "addresses": [...]}} for the manager's page
LOCKS_KEPT = 200


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _generation_key(kind: str, value: str) -> str:
    return f"staff-login:generation:{kind}:{_digest(value)}"


def _known_key(username: str, address: str) -> str:
    return f"staff-login:known:{_digest(username, address)}"


def _counters(request, username: str) -> list[tuple[str, str, str]]:
    """(name, counted value, rate) of the failure counters that apply to this attempt."""
    address = client_address(None, request)
    by_address = f"{address}|{cache.get(_generation_key('address', address), 0)}"
    counters = [("address", by_address, settings.STAFF_LOGIN_RATE_PER_IP)]
    if username:
        generation = cache.get(_generation_key("username", username), 0)
        counters += [
            ("username-address", f"{username}|{address}|{generation}",
             settings.STAFF_LOGIN_RATE_PER_USERNAME),
            ("username", f"{username}|{generation}", settings.STAFF_LOGIN_RATE_PER_USERNAME_ANYWHERE),
        ]
    return counters


def _usage(request, name: str, value: str, rate: str, *, increment: bool):
    return get_usage(
        request, group=f"staff-login-failures:{name}", key=lambda group, request: value, rate=rate,
        method="POST", increment=increment,
    )  # fmt: skip


def signin_refusal(request, username: str) -> str:
    """The sentence refusing this sign-in attempt before its password is checked, or ''."""
    if not settings.RATELIMIT_FAIL_OPEN and not _cache_answers():
        return CANNOT_COUNT.format(phone=settings.CLINIC_PHONE)  # failures would go uncounted
    address = client_address(None, request)
    known = bool(username) and bool(cache.get(_known_key(username, address)))
    waits = []
    for name, value, rate in _counters(request, username):
        if name == "username" and known:
            continue  # guessing from elsewhere does not lock the account out of its usual desk
        usage = _usage(request, name, value, rate, increment=False)
        if usage is not None and usage["count"] >= usage["limit"]:
            waits.append(max(usage["time_left"], 1))
    if not waits:
        return ""
    until = timezone.now() + timedelta(seconds=max(waits))
    _remember_lock(username or "(no username)", address, until)
    when = timezone.localtime(until)
    return (
        f"Too many sign-in attempts failed, so signing in here is paused until {when:%H:%M}. "
        f"For your security, please try again after {when:%H:%M}, or ask a clinic manager to lift the "
        f"pause (call {settings.CLINIC_PHONE})."
    )


def _cache_answers() -> bool:
    """True when the cache stores and returns a value (an unreachable Redis reads as a miss)."""
    cache.set("staff-login:probe", 1, 10)
    return cache.get("staff-login:probe") == 1


def signin_failed(request, username: str) -> None:
    """Count a wrong username or password against every counter that applies."""
    for name, value, rate in _counters(request, username):
        _usage(request, name, value, rate, increment=True)


def signin_succeeded(request, username: str) -> None:
    """Remember the address the account signed in from (a pause from elsewhere lets it through)."""
    days = settings.STAFF_LOGIN_KNOWN_ADDRESS_DAYS
    cache.set(_known_key(username, client_address(None, request)), True, days * 86400)


def _remember_lock(username: str, address: str, until) -> None:
    # Read-modify-write without a lock: two refusals at once may drop an address from this list,
    # which only shows the manager what is paused (lifting still clears the username's counters).
    locks = cache.get(LOCKS_KEY, {})
    lock = locks.get(username, {"addresses": []})
    lock["until"] = max(lock.get("until", 0), until.timestamp())
    lock["addresses"] = sorted({*lock["addresses"], address})[-20:]
    locks[username] = lock
    # Bounded: guesses at endless made-up usernames must not grow this without end.
    locks = dict(sorted(locks.items(), key=lambda item: item[1]["until"], reverse=True)[:LOCKS_KEPT])
    cache.set(LOCKS_KEY, locks, 86400)


def signin_locks() -> list[tuple[str, datetime]]:
    """(username, paused until) of the usernames refused lately, the longest pause first."""
    now = timezone.now().timestamp()
    locks = cache.get(LOCKS_KEY, {})
    current = [(name, lock["until"]) for name, lock in locks.items() if lock["until"] > now]
    return [
        (name, datetime.fromtimestamp(until, tz=dt_timezone.utc))
        for name, until in sorted(current, key=lambda item: item[1], reverse=True)
    ]


def signin_unlock(username: str) -> bool:
    """Lift the pause on `username` and on the addresses it was refused at; True if it was paused."""
    locks = cache.get(LOCKS_KEY, {})
    lock = locks.pop(username, None)
    keys = [_generation_key("username", username)]
    keys += [_generation_key("address", address) for address in (lock or {}).get("addresses", [])]
    for key in keys:
        cache.set(key, cache.get(key, 0) + 1, None)
    cache.set(LOCKS_KEY, locks, 86400)
    return lock is not None and lock["until"] > timezone.now().timestamp()


# --- The sign-in forms' limit (the staff page's form and the admin's) --------------------------------


def _login_username(request) -> str:
    return request.POST.get("username", "").strip().lower()


class LoginRateLimit:
    """Refuses an attempt while too many sign-ins failed lately (this module says which
    counts apply: per address, per username from that address, per username from anywhere).

    Only failures count: a correct password is never held against anyone. The counts live in the
    shared cache (Redis), so every web process enforces the same limit; the staff and the admin
    sign-in pages share them, so neither is a way round the other.
    """

    rate_limited = False

    def clean(self):
        username = _login_username(self.request)
        refusal = signin_refusal(self.request, username)
        if refusal:
            self.rate_limited = True
            raise forms.ValidationError(refusal, code="rate_limited")
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if error.code == "invalid_login":  # a wrong password, not a right one refused for its role
                signin_failed(self.request, username)
            raise
        if self.user_cache is not None:
            signin_succeeded(self.request, username)
        return cleaned
