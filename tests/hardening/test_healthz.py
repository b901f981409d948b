"""/healthz: database, cache and broker each checked for real; 503 naming the one that is down."""

import pytest

DOWN_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def health(client):
    response = client.get("/healthz")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_all_up_against_real_postgres_and_redis(client, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")  # the suite runs on real Redis

    assert health(client) == (200, {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"})


@pytest.mark.django_db
def test_broker_down_is_a_503(client, settings):
    settings.CELERY_BROKER_URL = DOWN_REDIS

    assert health(client) == (503, {"status": "degraded", "database": "ok", "cache": "ok", "broker": "error"})


@pytest.mark.django_db
def test_cache_down_is_a_503(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DOWN_REDIS}}
    settings.RATELIMIT_ENABLE = False  # the limits share the cache that is down

    assert health(client) == (503, {"status": "degraded", "database": "ok", "cache": "error", "broker": "ok"})


@pytest.mark.django_db
def test_file_broker_is_up_when_its_folder_takes_files(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}

    assert health(client)[1]["broker"] == "ok"
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind for the worker


@pytest.mark.django_db
def test_file_broker_is_down_when_its_folder_is_missing(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}

    status, body = health(client)
    assert (status, body["broker"]) == (503, "error")


def test_database_down_is_a_503(client, monkeypatch):
    from django.db import DatabaseError, connection

    def refuse(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    status, body = health(client)
    assert (status, body["database"]) == (503, "error")
