import importlib

import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads and renditions go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path



@pytest.fixture(autouse=True)
def _shipped_content(db):
    """The microneedling explainer from the data migration, even after a transactional test's flush."""
    from django.apps import apps

    migration = importlib.import_module("treatments.migrations.0003_microneedling_content")
    migration.add_microneedling(apps, None)
