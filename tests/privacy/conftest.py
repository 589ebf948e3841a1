import random

import pytest
from django.test import Client
from django.utils import translation


@pytest.fixture
def public_client():
    """An anonymous browser with an address of its own, so rate-limit counters never meet across tests."""
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    # English pages, so tests can compare with the source strings.
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    # Mandates and answer files go to a throwaway folder, never var/media.
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _english():
    # Messages are compared with their English source text; the site default is Finnish.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _roomy_rate_limits(settings):
    # Counters live in the shared cache for an hour; tests of the limits set their own.
    settings.PRIVACY_RATE_LIMITS = {"ip": (1000, 3600), "email": (1000, 3600)}
