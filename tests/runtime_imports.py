"""
Run inside the runtime-only venv (tests/test_runtime_requirements.py): set Django up with the
environment given, then import every backend these settings select and every server the README
starts. Exits non-zero with the ImportError when one is missing; prints what it imported.
"""

import importlib

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from clinic import embedded_db  # noqa: E402
from clinic.celery import app  # noqa: E402

classes = [
    settings.CACHES["default"]["BACKEND"],
    settings.EMAIL_BACKEND,
    *(storage["BACKEND"] for storage in settings.STORAGES.values()),
    *settings.MIDDLEWARE,
    *(template["BACKEND"] for template in settings.TEMPLATES),
]
for path in classes:
    import_string(path)
modules = [
    settings.DATABASES["default"]["ENGINE"] + ".base",
    "psycopg2",
    "celery.bin.celery",
    "gunicorn.app.wsgiapp",
    "honcho.command",
    "whitenoise.middleware",
    "redis",
]
for name in modules:
    importlib.import_module(name)
# kombu picks the transport class from the broker URL and imports it (redis: `packaging` too).
transport = type(app.connection_for_write().transport)
# The embedded PostgreSQL's package and its server binaries.
assert (embedded_db._package()._commands.POSTGRES_BIN_PATH / "postgres").exists()
print("imported", len(classes) + len(modules) + 2, "including", transport.__module__, settings.CACHES["default"]["BACKEND"])
