import pytest


@pytest.fixture
def english(settings):
    """Serve the UI in English, so assertions read like the source strings."""
    settings.LANGUAGE_CODE = "en"
