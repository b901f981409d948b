import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads and renditions go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@clinic.example", "a-long-password-1")
    client.force_login(user)
    return client
