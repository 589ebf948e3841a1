"""Fixtures of the duplicate tests."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """Read messages in English, as the assertions are written: the UI's default language is Finnish."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
