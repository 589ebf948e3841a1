"""Fixtures of the import tests."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """Read messages in English, as the assertions are written: the UI's default language is Finnish."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Keep uploads and rejected rows' files of the tests out of the work tree."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _tasks_in_process(celery_eager):
    """Run the preview and commit tasks in the test process, with Redis configured (CI) as without it."""
