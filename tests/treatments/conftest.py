import importlib

import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads and renditions go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path



@pytest.fixture(autouse=True)
def _shipped_content(db):
    """The shipped content from the data migrations, even after a transactional test's flush."""
    from django.apps import apps

    importlib.import_module("treatments.migrations.0003_microneedling_content").add_microneedling(apps, None)
    # Microneedling's own words and the second treatment (a chemical peel).
    importlib.import_module("treatments.migrations.0004_price_and_wording").add_wording_and_peel(apps, None)
