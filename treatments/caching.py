"""
Whole-response caching of the explainer pages for anonymous visitors.

Each treatment (and the index: home and the treatment list) has a content version kept in the
cache; a page is stored next to the version it was rendered from. One MGET fetches both, so a hit
costs one cache round trip, no session and no database query. Staff saves bump the version (see
services.explainer_pages_invalidate): the old entries stop matching and simply expire.

Each web process also keeps the pages it served in memory, and trusts the version it last read
for EXPLAINER_LOCAL_CACHE_SECONDS (default 1): a hit then costs no round trip at all, which is
what lets a cached page answer nearly as fast as a bare response. The price is that other
processes notice a staff save up to that long after it (the saving process notices at once).
"""

import functools
import hashlib
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from redis.exceptions import RedisError

from clinic.middleware import gzip_bytes

INDEX = "_index"  # the version shared by the home page and the treatment list
PAGE_TIMEOUT = 24 * 3600  # the version, not the timeout, keeps pages fresh
VERSION_TIMEOUT = None  # versions never expire on their own (an evicted one just means a miss)
CACHE_ERRORS = (RedisError, OSError)
LOCAL_PAGES_MAX = 500
LOCAL_SECONDS = settings.EXPLAINER_LOCAL_CACHE_SECONDS

# This process's copies: namespace -> (version, when it was last read from the cache), and
# page key -> entry. Plain dicts: single operations on them are atomic under the GIL.
_local_versions: dict[str, tuple[str, float]] = {}
_local_pages: dict[str, dict] = {}


def local_pages_clear() -> None:
    """Forget this process's copies (tests call it with cache.clear())."""
    _local_versions.clear()
    _local_pages.clear()


def _local_hit(page_key: str, namespace: str) -> dict | None:
    known = _local_versions.get(namespace)
    if known is None or time.monotonic() - known[1] >= LOCAL_SECONDS:
        return None
    entry = _local_pages.get(page_key)
    return entry if entry is not None and entry["version"] == known[0] else None


def _remember(page_key: str, namespace: str, entry: dict) -> None:
    if LOCAL_SECONDS <= 0:
        return
    if len(_local_pages) >= LOCAL_PAGES_MAX:
        _local_pages.clear()  # many hosts or paths: start again rather than grow without bound
    _local_versions[namespace] = (entry["version"], time.monotonic())
    _local_pages[page_key] = entry


def version_key(namespace: str) -> str:
    return f"treatments:version:{namespace}"


def version_bump(namespace: str) -> None:
    cache.set(version_key(namespace), uuid.uuid4().hex, VERSION_TIMEOUT)
    _local_versions.pop(namespace, None)


@functools.cache
def release() -> str:
    """Changes with the templates, static files or this app's code, so a deploy never serves old pages."""
    digest = hashlib.sha256()
    sources = [Path(folder).rglob("*.html") for folder in settings.TEMPLATES[0]["DIRS"]]
    sources.append(Path(__file__).parent.glob("*.py"))
    for path in sorted(path for paths in sources for path in paths):
        digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"  # hashed static names (production)
    if manifest.exists():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


def _page_key(request: HttpRequest) -> str:
    # The query string is ignored: no explainer page depends on it, and it must not let anyone
    # fill the cache with copies of one page.
    return f"treatments:page:{release()}:{request.scheme}://{request.get_host()}{request.path}"


def _cacheable_request(request: HttpRequest) -> bool:
    # A visitor with a session or pending messages may see something personal in the layout.
    return request.method in ("GET", "HEAD") and not (
        settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES
    )


def _cacheable_response(response: HttpResponse) -> bool:
    return response.status_code == 200 and not response.streaming and not response.cookies


def _cached_response(entry: dict) -> HttpResponse:
    response = HttpResponse(entry["body"], content_type=entry["content_type"])
    response["X-Explainer-Cache"] = "hit"
    # Compressed once when stored: CompressionMiddleware sends these bytes to browsers that take gzip.
    response.precompressed_gzip = entry.get("gzip")
    return response


def explainer_page_cache(view):
    """Serve a whole page from the cache, keyed on its address and its treatment's content version."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        namespace = kwargs.get("slug", INDEX)
        page_key, current_key = _page_key(request), version_key(namespace)
        entry = _local_hit(page_key, namespace)
        if entry is not None:
            return _cached_response(entry)
        try:
            found = cache.get_many([page_key, current_key])
        except CACHE_ERRORS:
            return view(request, *args, **kwargs)  # the cache is down: still serve the page
        version, entry = found.get(current_key), found.get(page_key)
        if version is not None and entry is not None and entry["version"] == version:
            _remember(page_key, namespace, entry)
            return _cached_response(entry)
        # The version is read before rendering: a save during the render bumps it, so this
        # (possibly stale) page is stored under a version that no longer matches.
        version = version or _version_start(namespace)
        response = view(request, *args, **kwargs)
        if version is not None and _cacheable_response(response):
            _store(page_key, version, response)
        return response

    return wrapper


def _version_start(namespace: str) -> str | None:
    """First visit since a flush: start a version (if another worker beat us, use theirs)."""
    try:
        cache.add(version_key(namespace), uuid.uuid4().hex, VERSION_TIMEOUT)
        return cache.get(version_key(namespace))
    except CACHE_ERRORS:
        return None


def _store(page_key: str, version: str, response: HttpResponse) -> None:
    entry = {
        "version": version,
        "body": response.content,
        "gzip": gzip_bytes(response.content),
        "content_type": response["Content-Type"],
    }
    try:
        cache.set(page_key, entry, PAGE_TIMEOUT)
    except CACHE_ERRORS:
        pass  # a page we could not cache is rendered again next time; nothing else depends on it
    # Not kept in memory yet: the next visit confirms the version with the cache first, so a save
    # made while this page rendered is never trusted locally.
