import pytest

from .factories import TagFactory


@pytest.fixture
def english(settings):
    """Serve the UI in English, so assertions read like the source strings."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def tag_a(register_a):
    return TagFactory(register=register_a, name="Messut 2027")


@pytest.fixture
def tag_b(register_b):
    return TagFactory(register=register_b, name="Messut 2027")
