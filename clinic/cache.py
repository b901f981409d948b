"""A Redis cache that degrades instead of crashing when Redis is unreachable.

Everything the site keeps in the cache can be recomputed (explainer pages) or is a brake that
may briefly let go (sign-in and request limits), so a Redis outage must not become an error page:
a read is a miss, a write is skipped, and each failure is logged as a warning.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
# What a dead, unreachable or overloaded Redis raises (connection refused, timeouts, resets).
UNAVAILABLE = (RedisError, OSError)


def _warn(operation: str, error: Exception) -> None:
    logger.warning("Cache unavailable during %s (%s); carrying on without it.", operation, type(error).__name__)


class TolerantRedisCache(RedisCache):
    """Django's RedisCache, with Redis errors treated as misses (reads) and no-ops (writes)."""

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as error:
            _warn("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as error:
            _warn("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNAVAILABLE as error:
            _warn("has_key", error)
            return False

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as error:
            _warn("add", error)
            return False

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as error:
            _warn("set", error)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE as error:
            _warn("set_many", error)
            return list(data)  # the keys that were not stored

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE as error:
            _warn("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNAVAILABLE as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except UNAVAILABLE as error:
            _warn("delete_many", error)

    def incr(self, key, delta=1, version=None):
        # A missing key is a ValueError in Django's API; an unreachable cache is one too, so
        # callers (django-ratelimit) take their "count unknown" branch (RATELIMIT_FAIL_OPEN).
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as error:
            _warn("incr", error)
            raise ValueError("The cache is unavailable.") from error

    def clear(self):
        try:
            return super().clear()
        except UNAVAILABLE as error:
            _warn("clear", error)
            return False
