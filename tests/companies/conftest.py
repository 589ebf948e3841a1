import json
from pathlib import Path

import pytest
from django.utils import translation

from companies import client as prh

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str, *, raw: bool = False):
    """Return a recorded PRH answer: parsed JSON for .json files, the bytes for others or when `raw`."""
    path = RECORDED / name
    return json.loads(path.read_text()) if path.suffix == ".json" and not raw else path.read_bytes()


def recorded_company(name: str) -> dict:
    return recorded(name)["companies"][0]


@pytest.fixture(autouse=True)
def _empty_cache(private_cache):
    """Every test starts with no PRH answer cached (in a cache of its own, see tests/conftest.py)."""


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Record the client's waits for Retry-After instead of sleeping."""
    seen = []
    monkeypatch.setattr(prh, "sleep", seen.append)
    return seen


@pytest.fixture
def prh_server(httpserver, settings, waits):
    """A local server standing in for PRH, with the client pointed at it."""
    settings.PRH_API_URL = httpserver.url_for("/opendata-ytj-api/v3")
    settings.PRH_TIMEOUT = 2.0
    return httpserver


@pytest.fixture(autouse=True)
def _english(settings):
    """Read messages in English, as the assertions are written: the UI's default language is Finnish."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
