import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Archived originals and attachments go to a throwaway folder.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _roomy_rate_limits(settings):
    # The request intake's per-address counters live in the shared cache for an hour.
    settings.PRIVACY_RATE_LIMITS = {"ip": (1000, 3600), "email": (1000, 3600)}
