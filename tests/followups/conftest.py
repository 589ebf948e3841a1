import pytest


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"
