import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads and renditions go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path

